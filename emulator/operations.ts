/**
 * Every operation the emulator counts (`calls()` keys) and lets a fault target. Four families:
 * the app-token REST API (client Basic auth), the OAuth Authorizations REST API (user Basic auth,
 * deprecated but described by every release 2.18 – 3.22), `GET /user` (the same user auth) and
 * the OAuth web flow's token endpoint (served on the web host, not under /api/v3; not in any
 * OpenAPI description).
 */

/** /applications/{client_id}/token… and the legacy path-style routes. */
export const TOKEN_OPERATIONS = [
  'check',
  'reset',
  'delete',
  'grant',
  'scoped',
  'legacy_check',
  'legacy_reset',
  'legacy_delete',
  'legacy_grant',
] as const;
export type TokenOperation = (typeof TOKEN_OPERATIONS)[number];

/** /applications/grants… and /authorizations… (GitHub's "OAuth Authorizations" API). */
export const AUTHORIZATION_OPERATIONS = [
  'list_grants',
  'get_grant',
  'delete_grant',
  'list_authorizations',
  'create_authorization',
  'get_or_create_authorization',
  'get_or_create_authorization_fingerprint',
  'get_authorization',
  'update_authorization',
  'delete_authorization',
] as const;
export type AuthorizationOperation = (typeof AUTHORIZATION_OPERATIONS)[number];

/** GET /user, as the user of the Authorizations API (GitHub's `users/get-authenticated`). */
export const USER_OPERATIONS = ['get_user'] as const;
export type UserOperation = (typeof USER_OPERATIONS)[number];

/** Operations GitHub's OpenAPI descriptions of GHES describe (contract-tested). */
export type ApiOperation = TokenOperation | AuthorizationOperation | UserOperation;

/** POST /login/oauth/access_token on the web host. */
export const WEB_OPERATIONS = ['oauth_access_token'] as const;

export const OPERATIONS = [
  ...TOKEN_OPERATIONS,
  ...AUTHORIZATION_OPERATIONS,
  ...USER_OPERATIONS,
  ...WEB_OPERATIONS,
];
export type OperationName = ApiOperation | (typeof WEB_OPERATIONS)[number];
