/**
 * Answer shapes of the OAuth Authorizations API (GitHub's `authorization` and `application-grant`
 * schemas, GHES 2.18 – 3.22). Untrusted input: checked strictly, unknown fields dropped. `token`
 * and `hashed_token` are dropped everywhere but in a create answer.
 */
import { z } from 'zod';
import { AuthorizationSchema, MintedAuthorizationSchema, SimpleUserSchema } from '../types';

/** GitHub pages at most 100 items. */
const PAGE_MAX = 100;

export const AuthorizationListSchema = z.array(AuthorizationSchema).max(PAGE_MAX);

/** GitHub's `application-grant`. */
export const GrantSchema = z.object({
  id: z.int().positive(),
  url: z.string().max(2048),
  app: AuthorizationSchema.shape.app,
  created_at: AuthorizationSchema.shape.created_at,
  updated_at: AuthorizationSchema.shape.updated_at,
  scopes: z.array(z.string().min(1).max(128)).max(256),
  user: SimpleUserSchema.nullable().exactOptional(),
});
export type Grant = z.output<typeof GrantSchema>;

export const GrantListSchema = z.array(GrantSchema).max(PAGE_MAX);

/** POST /authorizations answers the new token. */
export const CreatedAuthorizationSchema = MintedAuthorizationSchema;

/**
 * PUT get-or-create: 201 carries the new token; 200 (it existed) carries an empty `token` on
 * current releases. Either way the token is read only from a 201 (get-or-create.ts).
 */
export const GetOrCreateAnswerSchema = AuthorizationSchema.extend({
  token: z.string().max(255).exactOptional(),
});

/** GET /user: only the id is used (the grant epoch of the user). */
export const AuthenticatedUserSchema = z.object({
  login: z.string().min(1).max(255),
  id: z.int().positive(),
});
