/**
 * Forward auth as pure functions: reading the end user's credentials, the required scopes, and
 * the headers an allowed request gets. The route (src/routes/forward-auth.ts) does the I/O.
 *
 * Trust boundary: `Authorization` comes from the end user, through the API gateway; it is only
 * parsed here and never logged or echoed.
 */
import { MAX_TOKEN_LENGTH } from '../config/types';
import type { PublicAuthorization } from '../ghes/types';
import { err, ok, type Result } from '../lib/result';
import { missingScopes } from './github-scopes';
import { isLive, scopesOf } from './response';

/** The protection space named in challenges to end users (RFC 9110 §11.5). */
export const END_USER_REALM = 'GitHub';

/**
 * `Bearer <token>` (RFC 6750 §2.1) or GitHub's own `token <token>` scheme; schemes are
 * case-insensitive (RFC 9110 §11.1). The token itself: printable ASCII without spaces, at most
 * MAX_TOKEN_LENGTH characters (the same bound the internal API applies, src/routes/schemas.ts).
 */
const CREDENTIALS = new RegExp(`^(?:bearer|token) +([\\x21-\\x7e]{1,${MAX_TOKEN_LENGTH}}) *$`, 'i');

/** The end user's token, or why there is none. */
export function parseEndUserCredentials(
  header: string | undefined,
): Result<string, 'missing' | 'malformed'> {
  if (header === undefined || header.trim() === '') return err('missing');
  const match = CREDENTIALS.exec(header);
  if (match === null) return err('malformed');
  return ok(match[1] as string);
}

/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/;
const MAX_REQUIRED_SCOPES = 20;

/**
 * `?scope=` values, each one scope or several separated by spaces (as an OAuth `scope` is
 * written); repeated parameters add up.
 */
export function parseRequiredScopes(values: readonly string[]): Result<string[]> {
  const scopes: string[] = [];
  for (const value of values) {
    for (const scope of value.split(' ')) {
      if (scope === '') continue;
      if (!SCOPE_TOKEN.test(scope))
        return err('query.scope: each scope must be an RFC 6749 scope token');
      if (!scopes.includes(scope)) scopes.push(scope);
    }
  }
  if (scopes.length > MAX_REQUIRED_SCOPES)
    return err(`query.scope: at most ${MAX_REQUIRED_SCOPES} scopes`);
  return ok(scopes);
}

export type ForwardDecision =
  | { allow: true; headers: Record<string, string> }
  | { allow: false; reason: 'inactive' }
  | { allow: false; reason: 'insufficient_scope'; missing: string[] };

/** Header values must not carry control characters; GHES data is trusted, but not that much. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '');
}

/**
 * What forward auth answers for a checked token.
 *
 * `freshForS` is the cache entry's remaining freshness (src/cache/token-cache.ts): the answer may
 * be reused for that long and no longer, so `max-age` and nginx's `X-Accel-Expires` never exceed
 * it, nor the token's own expiry.
 */
export function forwardDecision(
  authorization: PublicAuthorization | undefined,
  required: readonly string[],
  freshForS: number,
  nowMs: number,
): ForwardDecision {
  if (authorization === undefined || !isLive(authorization, nowMs))
    return { allow: false, reason: 'inactive' };
  const granted = scopesOf(authorization);
  const missing = missingScopes(granted, required);
  if (missing.length > 0) return { allow: false, reason: 'insufficient_scope', missing };

  let maxAge = Math.max(0, Math.floor(freshForS));
  if (authorization.expires_at !== null && authorization.expires_at !== undefined) {
    const untilExpiry = Math.floor((Date.parse(authorization.expires_at) - nowMs) / 1000);
    maxAge = Math.min(maxAge, Math.max(0, untilExpiry));
  }
  const headers: Record<string, string> = {
    // GitHub's own X-OAuth-Scopes header lists scopes the same way.
    'x-auth-scopes': granted.join(', '),
    'cache-control': `private, max-age=${maxAge}`,
    // nginx reads X-Accel-Expires before Cache-Control, and ignores `private` responses unless
    // told to; docs/gateways.md configures nginx to cache on this header alone. 0: do not cache.
    'x-accel-expires': String(maxAge),
    vary: 'Authorization, X-Gateway-Authorization',
  };
  if (authorization.user !== null && authorization.user !== undefined) {
    headers['x-auth-user'] = headerSafe(authorization.user.login);
    headers['x-auth-user-id'] = String(authorization.user.id);
  }
  if (authorization.expires_at !== null && authorization.expires_at !== undefined)
    headers['x-auth-token-expires'] = headerSafe(authorization.expires_at);
  return { allow: true, headers };
}

/** RFC 6750 §3 challenge for an end user whose token is missing, malformed or not active. */
export function endUserChallenge(reason: 'missing' | 'malformed' | 'inactive'): string {
  // RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
  if (reason === 'missing') return `Bearer realm="${END_USER_REALM}"`;
  return `Bearer realm="${END_USER_REALM}", error="invalid_token"`;
}

/** RFC 6750 §3: `scope` lists every scope the resource needs, space-separated. */
export function insufficientScopeChallenge(required: readonly string[]): string {
  return `Bearer realm="${END_USER_REALM}", error="insufficient_scope", scope="${required.join(' ')}"`;
}
