/**
 * Answer shapes of the OAuth Authorizations API (GitHub's `authorization` and `application-grant`
 * schemas, GHES 2.18 – 3.22). Untrusted input: checked strictly, unknown fields dropped. `token`
 * and `hashed_token` are dropped everywhere but in a create answer.
 */
import * as v from 'valibot';
import { object } from '../../lib/schema';
import {
  AuthorizationSchema,
  MintedAuthorizationSchema,
  SimpleUserSchema,
  authorizationEntries,
} from '../types';

/** GitHub pages at most 100 items. */
const PAGE_MAX = 100;

export const AuthorizationListSchema = v.pipe(v.array(AuthorizationSchema), v.maxLength(PAGE_MAX));

/** GitHub's `application-grant`. */
export const GrantSchema = object({
  id: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  url: v.pipe(v.string(), v.maxLength(2048)),
  app: authorizationEntries.app,
  created_at: authorizationEntries.created_at,
  updated_at: authorizationEntries.updated_at,
  scopes: v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(128))), v.maxLength(256)),
  user: v.exactOptional(v.nullable(SimpleUserSchema)),
});
export type Grant = v.InferOutput<typeof GrantSchema>;

export const GrantListSchema = v.pipe(v.array(GrantSchema), v.maxLength(PAGE_MAX));

/** POST /authorizations answers the new token. */
export const CreatedAuthorizationSchema = MintedAuthorizationSchema;

/**
 * PUT get-or-create: 201 carries the new token; 200 (it existed) carries an empty `token` on
 * current releases. Either way the token is read only from a 201 (get-or-create.ts).
 */
export const GetOrCreateAnswerSchema = object({
  ...authorizationEntries,
  token: v.exactOptional(v.pipe(v.string(), v.maxLength(255))),
});

/** GET /user: only the id is used (the grant epoch of the user). */
export const AuthenticatedUserSchema = object({
  login: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
  id: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
});
