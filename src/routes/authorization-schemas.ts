/**
 * Request and answer schemas of the OAuth Authorizations API routes (src/routes/authorizations.ts):
 * each validates a request and documents it in /openapi.json.
 */
import * as v from 'valibot';
import {
  AppParams,
  GitHubUser,
  NewTokenSchema,
  OAuthAppRef,
  PublicAuthorizationSchema,
  component,
  newTokenFields,
} from './schemas';

/** An OAuth scope as GitHub names them: `repo`, `read:org`, `admin:repo_hook` … */
const scope = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_:]{0,63}$/, 'must be an OAuth scope'));
const scopes = v.pipe(v.array(scope), v.maxLength(64));
const note = v.pipe(v.string(), v.maxLength(1024));
const noteUrl = v.pipe(v.string(), v.maxLength(2048), v.url('must be a URL'));
/** Sent in a GHES path by get-or-create (percent-encoded there). */
const fingerprint = v.pipe(
  v.string(),
  v.regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 printable ASCII characters without spaces'),
);

export const IdParams = v.object({
  ...AppParams.entries,
  id: v.pipe(
    v.string(),
    v.regex(/^[1-9][0-9]{0,15}$/, 'must be a positive integer'),
    v.examples(['1']),
    v.transform(Number),
  ),
});

/** A page query value: decimal digits, as GitHub's `page` and `per_page`. */
const pageNumber = (max: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[1-9][0-9]{0,5}$/, `must be an integer from 1 to ${max}`),
      v.transform(Number),
      v.maxValue(max, `must be an integer from 1 to ${max}`),
    ),
  );

export const PageQuery = v.object({ page: pageNumber(100_000), per_page: pageNumber(100) });

/** The user's credentials: documented here, read and checked by src/auth/user-credentials.ts. */
export const UserHeaders = v.object({
  'x-github-otp': v.optional(
    v.pipe(
      v.string(),
      v.description("The user's current two-factor code, after a `user-otp-required` answer"),
    ),
  ),
});

const newFields = {
  scopes: v.optional(scopes),
  note: v.optional(note),
  note_url: v.optional(noteUrl),
  fingerprint: v.optional(fingerprint),
};

export const CreateBody = component('AuthorizationCreate', v.strictObject(newFields));

export const GetOrCreateBody = component('AuthorizationGetOrCreate', v.strictObject(newFields));

export const UpdateBody = component(
  'AuthorizationUpdate',
  v.pipe(
    v.strictObject({
      scopes: v.optional(scopes),
      add_scopes: v.optional(scopes),
      remove_scopes: v.optional(scopes),
      note: v.optional(note),
      note_url: v.optional(noteUrl),
      fingerprint: v.optional(fingerprint),
    }),
    v.forward(
      v.check(
        (b) => [b.scopes, b.add_scopes, b.remove_scopes].filter((s) => s !== undefined).length <= 1,
        'send one of scopes, add_scopes and remove_scopes at a time',
      ),
      ['scopes'],
    ),
    v.check((b) => Object.values(b).some((s) => s !== undefined), 'names nothing to change'),
  ),
);

export const AuthorizationListSchema = v.array(PublicAuthorizationSchema);

/** What the caller does when get-or-create found an existing authorization. */
export const EXISTING_TOKEN_NEXT =
  'GHES shows a token only when it creates it. Use the token you kept from that answer; if it is lost, DELETE this authorization and PUT again (or PUT with a new fingerprint).';

export const GetOrCreateCreated = component(
  'AuthorizationCreated',
  v.object({ ...newTokenFields, token_returned: v.literal(true) }),
);

export const GetOrCreateExisting = component(
  'AuthorizationExisting',
  v.pipe(
    v.object({
      ...PublicAuthorizationSchema.pipe[0].entries,
      token_returned: v.literal(false),
      next: v.pipe(v.string(), v.examples([EXISTING_TOKEN_NEXT])),
    }),
    v.description('The authorization existed; GHES does not show its token again'),
  ),
);

export const GrantSchema = component(
  'Grant',
  v.object({
    id: v.pipe(v.number(), v.integer()),
    url: v.string(),
    app: OAuthAppRef,
    created_at: v.string(),
    updated_at: v.string(),
    scopes: v.array(v.string()),
    user: v.nullish(GitHubUser),
  }),
);

export const GrantListSchema = v.array(GrantSchema);

export { NewTokenSchema, PublicAuthorizationSchema };
