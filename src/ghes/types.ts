/**
 * GHES app-token API shapes (GitHub's `authorization` schema, GHES 2.18 – 3.22; see
 * ../shared/ghes-openapi), as valibot schemas every call module validates its answer with.
 *
 * Trust boundary: a GHES answer is untrusted input. A field the gateway reads, stores or passes
 * on is checked strictly (type, range, length); a field GitHub documents as nullable may be null,
 * and one older releases leave out when null (`note`, `note_url`, `fingerprint` before 2.20) may
 * be missing; any other field is dropped here (valibot's `object`), so nothing GHES adds in a
 * later release reaches callers or the cache until someone decides it is safe.
 */
import * as v from 'valibot';
import { object, record } from '../lib/schema';
import type { AnswerSchema } from './answer';

/** Printable ASCII without spaces: what a login, client id or token can be. */
const PRINTABLE = /^[\x21-\x7e]+$/;
/** Free text GHES hands back (names, notes, URLs): bounded so a huge value cannot ride along. */
const TEXT_MAX = 4096;

/** Safe integers only: an id past 2^53 would be read as another one. */
const id = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const text = (max = TEXT_MAX) => v.pipe(v.string(), v.maxLength(max));
/** Required by GitHub's schema but nullable; releases before 2.20 leave it out when null. */
const nullableText = (max = TEXT_MAX) => v.optional(v.nullable(text(max)), null);
const identifier = v.pipe(v.string(), v.minLength(1), v.maxLength(255), v.regex(PRINTABLE));

/**
 * RFC 3339 date-time with seconds and a `Z` or `±hh:mm` offset, calendar dates only (leap days
 * included), as the gateway has always checked. Spelled out: valibot's isoTimestamp() also takes
 * a space for `T`, `+hhmm` and 30 February.
 */
const DATE_TIME =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|([+-](?:[01]\d|2[0-3]):[0-5]\d)))$/;

/** ISO 8601 date-time (GitHub's `format: date-time`) that `Date.parse` reads. */
const dateTime = v.pipe(
  v.string(),
  v.regex(DATE_TIME),
  v.check((s) => Number.isFinite(Date.parse(s)), 'is not a date-time'),
);

/** What the gateway passes on of GitHub's `simple-user`; the rest (email, URLs …) is dropped. */
export const SimpleUserSchema = object({
  login: identifier,
  id,
  node_id: v.exactOptional(text(255)),
  type: v.exactOptional(text(64)),
  site_admin: v.exactOptional(v.boolean()),
});

export const ScopedInstallationSchema = object({
  permissions: v.pipe(
    record(
      v.pipe(v.string(), v.regex(/^[a-z0-9_]{1,100}$/)),
      v.pipe(v.string(), v.regex(/^[a-z_]{1,32}$/)),
    ),
    v.check((p) => Object.keys(p).length <= 256, 'has too many permissions'),
  ),
  repository_selection: v.picklist(['all', 'selected']),
  single_file_name: nullableText(1024),
  repositories_url: text(2048),
  account: SimpleUserSchema,
  has_multiple_single_files: v.exactOptional(v.boolean()),
  single_file_paths: v.exactOptional(v.pipe(v.array(text(1024)), v.maxLength(256))),
});

/** The fields of `AuthorizationSchema`, for the answers that extend it. */
export const authorizationEntries = {
  id,
  url: text(2048),
  scopes: v.nullable(
    v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(128))), v.maxLength(256)),
  ),
  token_last_eight: nullableText(64),
  app: object({ client_id: identifier, name: text(1024), url: text(2048) }),
  note: nullableText(),
  note_url: nullableText(2048),
  updated_at: dateTime,
  created_at: dateTime,
  fingerprint: nullableText(1024),
  user: v.exactOptional(v.nullable(SimpleUserSchema)),
  installation: v.exactOptional(v.nullable(ScopedInstallationSchema)),
  expires_at: v.exactOptional(v.nullable(dateTime)),
};

/**
 * GitHub's `authorization` without `token` and `hashed_token`: what check answers, the cache
 * stores and introspection reads. `scopes` is required (null for GitHub-App tokens): forward auth
 * decides on it. `expires_at` exists from 2.22 (nullable); a value that is not a date-time is
 * refused rather than read as "never expires".
 */
export const AuthorizationSchema = object(authorizationEntries);

/** A GitHub token as GHES mints it: printable ASCII, no spaces, at most 255 characters. */
const newToken = v.pipe(identifier, v.regex(/[A-Za-z0-9]/));

/** Reset and scoped answers: the authorization and the new token (`hashed_token` is dropped). */
export const MintedAuthorizationSchema = object({ ...authorizationEntries, token: newToken });

export type GhesSimpleUser = v.InferOutput<typeof SimpleUserSchema>;
export type GhesScopedInstallation = v.InferOutput<typeof ScopedInstallationSchema>;
/** The authorization with the secret fields removed: what check answers and the cache stores. */
export type PublicAuthorization = v.InferOutput<typeof AuthorizationSchema>;
/** What reset and scoped return: the authorization and, secret, the new token. */
export type MintedAuthorization = v.InferOutput<typeof MintedAuthorizationSchema>;
/** A full GHES authorization as GitHub documents it (`hashed_token` is secret-derived). */
export type GhesAuthorization = MintedAuthorization & { hashed_token?: string | null };

/** An answer about another app's token would make introspection name the wrong client_id. */
function sameApp<T extends { app: { client_id: string } }>(clientId: string) {
  return v.check<T, string>((a) => a.app.client_id === clientId, 'is not the app that asked');
}

// One refined schema per configured app (a handful), built on first use.
const publicFor = new Map<string, AnswerSchema<PublicAuthorization>>();
const mintedFor = new Map<string, AnswerSchema<MintedAuthorization>>();

/** The schema for answers to `clientId`'s check calls. */
export function authorizationOf(clientId: string): AnswerSchema<PublicAuthorization> {
  let schema = publicFor.get(clientId);
  if (schema === undefined) {
    schema = v.pipe(
      AuthorizationSchema,
      v.forward(sameApp<PublicAuthorization>(clientId), ['app', 'client_id']),
    );
    publicFor.set(clientId, schema);
  }
  return schema;
}

/** Check answers carry the token asked about (GitHub's check answer echoes it). */
const CheckAnswerSchema = object({ ...authorizationEntries, token: v.exactOptional(text(255)) });

type CheckAnswer = v.InferOutput<typeof CheckAnswerSchema>;

/**
 * The answer must be about `asked`: a proxy that caches `POST /token` by URL would otherwise
 * hand one token's identity to another. Compared where GHES says (`token`, `token_last_eight`);
 * an empty or null value proves nothing and is let through.
 */
function aboutToken(asked: string) {
  return (a: { token?: string; token_last_eight: string | null }): boolean =>
    (a.token === undefined || a.token === '' || a.token === asked) &&
    (a.token_last_eight === null ||
      a.token_last_eight === '' ||
      a.token_last_eight === asked.slice(-8));
}

/** The schema for the answer to `clientId`'s check of `asked`; `token` is dropped after. */
export function checkAnswerOf(clientId: string, asked: string): AnswerSchema<PublicAuthorization> {
  return v.pipe(
    CheckAnswerSchema,
    v.forward(sameApp<CheckAnswer>(clientId), ['app', 'client_id']),
    v.forward(v.check<CheckAnswer, string>(aboutToken(asked), 'is not the token asked about'), [
      'token',
    ]),
    v.transform(({ token: _token, ...rest }: CheckAnswer): PublicAuthorization => rest),
  );
}

/** The schema for answers to `clientId`'s reset and scoped calls. */
export function mintedAuthorizationOf(clientId: string): AnswerSchema<MintedAuthorization> {
  let schema = mintedFor.get(clientId);
  if (schema === undefined) {
    schema = v.pipe(
      MintedAuthorizationSchema,
      v.forward(sameApp<MintedAuthorization>(clientId), ['app', 'client_id']),
    );
    mintedFor.set(clientId, schema);
  }
  return schema;
}

/** Deletes answer 204 No Content: a 2xx that carries anything is not GHES's answer. */
export const NoContentSchema = v.undefined();

/**
 * Allow-list copy (not a spread-and-delete): a field GHES adds in a later version is not passed
 * on until someone decides it is safe. Answers are already reduced to these fields by the
 * schemas above; this keeps the guarantee for authorizations built anywhere else.
 */
export function toPublicAuthorization(a: PublicAuthorization): PublicAuthorization {
  const out: PublicAuthorization = {
    id: a.id,
    url: a.url,
    scopes: a.scopes,
    token_last_eight: a.token_last_eight,
    app: { client_id: a.app.client_id, name: a.app.name, url: a.app.url },
    note: a.note,
    note_url: a.note_url,
    updated_at: a.updated_at,
    created_at: a.created_at,
    fingerprint: a.fingerprint,
  };
  if (a.user !== undefined) out.user = a.user === null ? null : publicUser(a.user);
  if (a.installation !== undefined) {
    const i = a.installation;
    out.installation =
      i === null
        ? null
        : {
            permissions: { ...i.permissions },
            repository_selection: i.repository_selection,
            single_file_name: i.single_file_name,
            repositories_url: i.repositories_url,
            account: publicUser(i.account),
            ...(i.has_multiple_single_files !== undefined && {
              has_multiple_single_files: i.has_multiple_single_files,
            }),
            ...(i.single_file_paths !== undefined && {
              single_file_paths: [...i.single_file_paths],
            }),
          };
  }
  if (a.expires_at !== undefined) out.expires_at = a.expires_at;
  return out;
}

function publicUser(u: GhesSimpleUser): GhesSimpleUser {
  return {
    login: u.login,
    id: u.id,
    ...(u.node_id !== undefined && { node_id: u.node_id }),
    ...(u.type !== undefined && { type: u.type }),
    ...(u.site_admin !== undefined && { site_admin: u.site_admin }),
  };
}
