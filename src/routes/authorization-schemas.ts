/**
 * Request and answer schemas of the OAuth Authorizations API routes (src/routes/authorizations.ts):
 * each validates a request and documents it in /openapi.json.
 */
import { z } from '@hono/zod-openapi';
import { AppParams, NewTokenSchema, PublicAuthorizationSchema } from './schemas';

/** An OAuth scope as GitHub names them: `repo`, `read:org`, `admin:repo_hook` … */
const scope = z.string().regex(/^[a-z][a-z0-9_:]{0,63}$/, 'must be an OAuth scope');
const scopes = z.array(scope).max(64);
const note = z.string().max(1024);
const noteUrl = z.string().max(2048).url('must be a URL');
/** Sent in a GHES path by get-or-create (percent-encoded there). */
const fingerprint = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 printable ASCII characters without spaces');

export const IdParams = AppParams.extend({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive integer')
    .transform(Number)
    .openapi({ param: { name: 'id', in: 'path' }, example: '1' }),
});

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).optional(),
  per_page: z.coerce.number().int().min(1).max(100).optional(),
});

/** The user's credentials: documented here, read and checked by src/auth/user-credentials.ts. */
export const UserHeaders = z.object({
  'x-ghes-user-authorization': z.string().optional().openapi({
    description:
      'Required. `Basic base64(login:password)` of the GHES user. Never logged, stored or echoed.',
    example: 'Basic b2N0b2NhdDpwYXNzd29yZA==',
  }),
  'x-github-otp': z.string().optional().openapi({
    description: "The user's current two-factor code, after a `user-otp-required` answer",
  }),
});

const newFields = {
  scopes: scopes.optional(),
  note: note.optional(),
  note_url: noteUrl.optional(),
  fingerprint: fingerprint.optional(),
};

export const CreateBody = z.strictObject(newFields).openapi('AuthorizationCreate');

export const GetOrCreateBody = z.strictObject(newFields).openapi('AuthorizationGetOrCreate');

export const UpdateBody = z
  .strictObject({
    scopes: scopes.optional(),
    add_scopes: scopes.optional(),
    remove_scopes: scopes.optional(),
    note: note.optional(),
    note_url: noteUrl.optional(),
    fingerprint: fingerprint.optional(),
  })
  .superRefine((b, ctx) => {
    const scopeFields = [b.scopes, b.add_scopes, b.remove_scopes].filter((v) => v !== undefined);
    if (scopeFields.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['scopes'],
        message: 'send one of scopes, add_scopes and remove_scopes at a time',
      });
    if (Object.values(b).every((v) => v === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'names nothing to change' });
  })
  .openapi('AuthorizationUpdate');

export const AuthorizationListSchema = z.array(PublicAuthorizationSchema);

/** What the caller does when get-or-create found an existing authorization. */
export const EXISTING_TOKEN_NEXT =
  'GHES shows a token only when it creates it. Use the token you kept from that answer; if it is lost, DELETE this authorization and PUT again (or PUT with a new fingerprint).';

export const GetOrCreateCreated = NewTokenSchema.extend({
  token_returned: z.literal(true),
}).openapi('AuthorizationCreated');

export const GetOrCreateExisting = PublicAuthorizationSchema.extend({
  token_returned: z.literal(false),
  next: z.string().openapi({ example: EXISTING_TOKEN_NEXT }),
}).openapi('AuthorizationExisting', {
  description: 'The authorization existed; GHES does not show its token again',
});

export const GrantSchema = z
  .object({
    id: z.number().int(),
    url: z.string(),
    app: z.object({ client_id: z.string(), name: z.string(), url: z.string() }),
    created_at: z.string(),
    updated_at: z.string(),
    scopes: z.array(z.string()),
    user: z
      .object({
        login: z.string(),
        id: z.number().int(),
        node_id: z.string().optional(),
        type: z.string().optional(),
        site_admin: z.boolean().optional(),
      })
      .nullable()
      .optional(),
  })
  .openapi('Grant');

export const GrantListSchema = z.array(GrantSchema);
