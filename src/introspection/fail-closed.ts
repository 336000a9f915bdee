/**
 * Introspection and forward auth fail closed: when GHES cannot say whether a token is good, the
 * answer is 503, never `active: false` (that would tell a resource server a good token is bad,
 * and teach it to cache the wrong answer) and never "allowed". Only GHES's definitive 404 makes
 * a token inactive; the cache loader turns that into an answer before anything here runs.
 *
 * One code for every upstream failure keeps the contract simple for API gateways: 503 means
 * "ask again later". nginx `auth_request` turns any status other than 2xx, 401 and 403 into a
 * 500, which denies the request, as intended.
 */
import { GatewayError, isGatewayError, type ErrorCode } from '../lib/errors';

const UPSTREAM_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'upstream-error',
  'upstream-timeout',
  'upstream-rate-limited',
  'upstream-credentials-rejected',
  'upstream-validation-failed',
  'upstream-outcome-unknown',
  'upstream-unavailable',
]);

const WHY: Partial<Record<ErrorCode, string>> = {
  'upstream-error': 'GHES failed or could not be reached',
  'upstream-timeout': 'GHES did not answer in time',
  'upstream-rate-limited': 'GHES is rate-limiting the gateway',
  'upstream-credentials-rejected': "GHES rejected the gateway's app credentials",
  'upstream-validation-failed': 'GHES refused the check',
  'upstream-outcome-unknown': 'GHES failed while answering',
  'upstream-unavailable': 'GHES is failing and the gateway is holding calls back',
};

/** Rethrows `e`, as a 503 `upstream-unavailable` when it is an upstream failure. */
export function failClosed(e: unknown): never {
  if (!isGatewayError(e) || !UPSTREAM_FAILURES.has(e.code)) throw e;
  const headers: Record<string, string> = {};
  const retryAfter = e.headers['retry-after'] ?? e.headers['Retry-After'];
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  throw new GatewayError('upstream-unavailable', {
    detail: `${WHY[e.code] ?? 'GHES is unavailable'}, so the token's state is unknown; try again later`,
    reason: `failed closed on ${e.code}${e.reason !== undefined ? `: ${e.reason}` : ''}`,
    headers,
    extensions: { upstream_code: e.code },
    ...(e.upstreamStatus !== undefined && { upstreamStatus: e.upstreamStatus }),
    cause: e,
  });
}
