/**
 * GHES app-token API shapes (GitHub's `authorization` schema, GHES 2.18 – 3.22; see
 * ../shared/ghes-openapi), as zod schemas every call module validates its answer with.
 *
 * Trust boundary: a GHES answer is untrusted input. A field the gateway reads, stores or passes
 * on is checked strictly (type, range, length); a field GitHub documents as nullable may be null,
 * and one older releases leave out when null (`note`, `note_url`, `fingerprint` before 2.20) may
 * be missing; any other field is dropped here (zod's default strip), so nothing GHES adds in a
 * later release reaches callers or the cache until someone decides it is safe.
 */
import { z } from 'zod';

/** Printable ASCII without spaces: what a login, client id or token can be. */
const PRINTABLE = /^[\x21-\x7e]+$/;
/** Free text GHES hands back (names, notes, URLs): bounded so a huge value cannot ride along. */
const TEXT_MAX = 4096;

const id = z.int().positive();
const text = (max = TEXT_MAX) => z.string().max(max);
/** Required by GitHub's schema but nullable; releases before 2.20 leave it out when null. */
const nullableText = (max = TEXT_MAX) => text(max).nullable().default(null);
const identifier = z.string().min(1).max(255).regex(PRINTABLE);

/** ISO 8601 date-time (GitHub's `format: date-time`) that `Date.parse` reads. */
const dateTime = z.iso
  .datetime({ offset: true })
  .refine((v) => Number.isFinite(Date.parse(v)), 'is not a date-time');

/** What the gateway passes on of GitHub's `simple-user`; the rest (email, URLs …) is dropped. */
export const SimpleUserSchema = z.object({
  login: identifier,
  id,
  node_id: text(255).exactOptional(),
  type: text(64).exactOptional(),
  site_admin: z.boolean().exactOptional(),
});

export const ScopedInstallationSchema = z.object({
  permissions: z
    .record(z.string().regex(/^[a-z0-9_]{1,100}$/), z.string().regex(/^[a-z_]{1,32}$/))
    .refine((p) => Object.keys(p).length <= 256, 'has too many permissions'),
  repository_selection: z.enum(['all', 'selected']),
  single_file_name: nullableText(1024),
  repositories_url: text(2048),
  account: SimpleUserSchema,
  has_multiple_single_files: z.boolean().exactOptional(),
  single_file_paths: z.array(text(1024)).max(256).exactOptional(),
});

/**
 * GitHub's `authorization` without `token` and `hashed_token`: what check answers, the cache
 * stores and introspection reads. `scopes` is required (null for GitHub-App tokens): forward auth
 * decides on it. `expires_at` exists from 2.22 (nullable); a value that is not a date-time is
 * refused rather than read as "never expires".
 */
export const AuthorizationSchema = z.object({
  id,
  url: text(2048),
  scopes: z.array(z.string().min(1).max(128)).max(256).nullable(),
  token_last_eight: nullableText(64),
  app: z.object({ client_id: identifier, name: text(1024), url: text(2048) }),
  note: nullableText(),
  note_url: nullableText(2048),
  updated_at: dateTime,
  created_at: dateTime,
  fingerprint: nullableText(1024),
  user: SimpleUserSchema.nullable().exactOptional(),
  installation: ScopedInstallationSchema.nullable().exactOptional(),
  expires_at: dateTime.nullable().exactOptional(),
});

/** A GitHub token as GHES mints it: printable ASCII, no spaces, at most 255 characters. */
const newToken = identifier.regex(/[A-Za-z0-9]/);

/** Reset and scoped answers: the authorization and the new token (`hashed_token` is dropped). */
export const MintedAuthorizationSchema = AuthorizationSchema.extend({ token: newToken });

export type GhesSimpleUser = z.output<typeof SimpleUserSchema>;
export type GhesScopedInstallation = z.output<typeof ScopedInstallationSchema>;
/** The authorization with the secret fields removed: what check answers and the cache stores. */
export type PublicAuthorization = z.output<typeof AuthorizationSchema>;
/** What reset and scoped return: the authorization and, secret, the new token. */
export type MintedAuthorization = z.output<typeof MintedAuthorizationSchema>;
/** A full GHES authorization as GitHub documents it (`hashed_token` is secret-derived). */
export type GhesAuthorization = MintedAuthorization & { hashed_token?: string | null };

/** An answer about another app's token would make introspection name the wrong client_id. */
const sameApp = (clientId: string) => (a: { app: { client_id: string } }) =>
  a.app.client_id === clientId;
const WRONG_APP = { path: ['app', 'client_id'], message: 'is not the app that asked' };

// One refined schema per configured app (a handful), built on first use.
const publicFor = new Map<string, typeof AuthorizationSchema>();
const mintedFor = new Map<string, typeof MintedAuthorizationSchema>();

/** The schema for answers to `clientId`'s check calls. */
export function authorizationOf(clientId: string): typeof AuthorizationSchema {
  let schema = publicFor.get(clientId);
  if (schema === undefined) {
    schema = AuthorizationSchema.refine(sameApp(clientId), WRONG_APP);
    publicFor.set(clientId, schema);
  }
  return schema;
}

/** Check answers carry the token asked about (GitHub's check answer echoes it). */
const CheckAnswerSchema = AuthorizationSchema.extend({ token: text(255).exactOptional() });

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
export function checkAnswerOf(clientId: string, asked: string): z.ZodType<PublicAuthorization> {
  return CheckAnswerSchema.refine(sameApp(clientId), WRONG_APP)
    .refine(aboutToken(asked), { path: ['token'], message: 'is not the token asked about' })
    .transform(({ token: _token, ...rest }): PublicAuthorization => rest);
}

/** The schema for answers to `clientId`'s reset and scoped calls. */
export function mintedAuthorizationOf(clientId: string): typeof MintedAuthorizationSchema {
  let schema = mintedFor.get(clientId);
  if (schema === undefined) {
    schema = MintedAuthorizationSchema.refine(sameApp(clientId), WRONG_APP);
    mintedFor.set(clientId, schema);
  }
  return schema;
}

/** Deletes answer 204 No Content: a 2xx that carries anything is not GHES's answer. */
export const NoContentSchema = z.undefined();

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
