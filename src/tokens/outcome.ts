/**
 * The one decision every revocation through the gateway rests on: after a GHES mutation ended
 * in an error, must the gateway stop vouching for the token anyway?
 *
 * Fail closed: a revocation that GHES may have carried out must never be forgotten, so a cached
 * "active" must not outlive it. Invalidating a token that is in fact still live only costs a
 * GHES check later (a grant epoch) or answers "inactive" for a token the caller was revoking
 * anyway (a tombstone); forgetting a revocation answers "active" for a dead token.
 */
import { isGatewayError } from '../lib/errors';

/**
 * Whether GHES may have carried out the mutation that ended in `e`.
 *
 * Yes when:
 * - request.ts marked it `mayHaveApplied`: some attempt's outcome is unknown (a 5xx, a lost
 *   connection, a timeout, an unreadable 2xx), whatever a later attempt answered;
 * - it is `upstream-outcome-unknown` (a reset or scoped call that failed after sending);
 * - it is not a GatewayError at all: the gateway itself failed after or while the call ran
 *   (say, on a 2xx body it could not use), so nothing says GHES did not act.
 *
 * No when GHES refused the request on the first answer it gave: 404, 422, 401/403, a redirect,
 * and a rate limit (429, or a 403 primary/secondary limit) with no ambiguous attempt before it.
 * GitHub's rate limiter answers before the request is handled, so a plain first-attempt 429
 * applied nothing; invalidating there would be harmless (fail closed) but would make the
 * gateway deny a token GHES still accepts, so the cache is left alone. No also when the call
 * never left the gateway (circuit breaker open, an operation the version lacks).
 */
export function mayHaveApplied(e: unknown): boolean {
  if (!isGatewayError(e)) return true;
  return e.mayHaveApplied || e.code === 'upstream-outcome-unknown';
}

/** GHES says the token does not exist (404): whatever is cached about it is wrong. */
export function saysTokenGone(e: unknown): boolean {
  return isGatewayError(e) && e.code === 'token-not-found';
}

/**
 * After a revoking call (reset, delete, grant delete) failed with `e`: invalidate before
 * answering? Yes when GHES may have revoked it, and when GHES says the token is gone.
 */
export function mustInvalidateAfter(e: unknown): boolean {
  return mayHaveApplied(e) || saysTokenGone(e);
}
