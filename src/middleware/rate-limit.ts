/**
 * Per-caller rate limits on the Workers rate-limiting binding (wrangler.toml `[[ratelimits]]`):
 * `env.<BINDING>.limit({ key })` counts one request against `simple.limit` per `simple.period`
 * and answers `{ success }`. It exists in production and runs under miniflare in tests.
 *
 * Runs after `callerAuth`: the key is `<bucket>:<caller sub>`, and subs are CALLER_POLICY keys,
 * so the key space is fixed by configuration and cannot be grown by callers. Buckets:
 * - `introspection`: token introspection and forward auth. RFC 7662 §4: an endpoint that says
 *   whether a token is active lets whoever may call it test guesses; a generous per-caller limit
 *   bounds how fast even an authenticated caller can fish for valid tokens.
 * - `mutation`: reset, scoped, delete token, delete grant. Each is a GHES write that mints or
 *   revokes credentials; a runaway or compromised caller must not be able to do thousands.
 * Over the limit → 429 `rate-limited` with `Retry-After` = the binding's period: the binding
 * reports only `success`, no reset time, and the period is the window its count covers. The
 * binding counts per Cloudflare location and is eventually consistent: the limit is approximate,
 * which is enough for abuse protection.
 *
 * Failure semantics, and why they fail OPEN:
 * - binding not configured (absent from `env`) → the limit is off, with one warning per isolate;
 *   an environment without rate limiting is an operator's choice to fix, not a reason to refuse
 *   authenticated callers;
 * - binding present but not a rate limiter, `limit()` throws or answers nonsense → the request
 *   goes on and the failure is logged (error). The limiter is abuse protection, not
 *   authentication or authorization: every request here has already been authenticated and is
 *   still checked against the caller policy. Failing closed would turn a fault in a secondary
 *   service into an outage of every token check of the company; failing open only removes a
 *   throttle from callers we already know, while GHES stays protected by the circuit breaker
 *   and the cache.
 */
import type { MiddlewareHandler } from 'hono';
import type { Caller, CallerAuthVariables } from '../auth/caller-auth';
import { GatewayError } from '../errors';
import type { Logger } from '../log';

export const RATE_LIMIT_BUCKETS = ['introspection', 'mutation'] as const;
export type RateLimitBucket = (typeof RATE_LIMIT_BUCKETS)[number];

export interface CallerRateLimitOptions {
  /** Name of the rate-limiting binding in `c.env`, e.g. `INTROSPECTION_RATE_LIMITER`. */
  limiter: string;
  bucket: RateLimitBucket;
  /** The binding's `simple.period` in seconds (10 or 60): the Retry-After of a 429. */
  periodS: 10 | 60;
  log: Logger;
}

const BINDING_NAME = /^[A-Z][A-Z0-9_]{0,127}$/;

function checkOptions(o: CallerRateLimitOptions): void {
  const fail = (msg: string): never => {
    throw new Error(`callerRateLimit: ${msg}`);
  };
  if (typeof o.limiter !== 'string' || !BINDING_NAME.test(o.limiter))
    fail('"limiter" must name a binding (UPPER_SNAKE_CASE)');
  if (!(RATE_LIMIT_BUCKETS as readonly string[]).includes(o.bucket))
    fail(`"bucket" must be one of ${RATE_LIMIT_BUCKETS.join(', ')}`);
  if (o.periodS !== 10 && o.periodS !== 60)
    fail('"periodS" must be 10 or 60 (the periods the binding supports)');
  if (typeof o.log !== 'function') fail('"log" must be a Logger');
}

function isRateLimiter(value: unknown): value is RateLimit {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { limit?: unknown }).limit === 'function'
  );
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : 'non-Error thrown';
}

/**
 * Middleware factory. Checks its options once (throws an Error naming the bad option); the
 * binding itself is looked up in `c.env` on every request.
 */
export function callerRateLimit(
  options: CallerRateLimitOptions,
): MiddlewareHandler<{ Variables: CallerAuthVariables }> {
  checkOptions(options);
  const { limiter, bucket, periodS, log } = options;
  const retryAfter = String(periodS);
  let warned = false;
  const warnOnce = (level: 'warn' | 'error', event: string, reason: string) => {
    if (warned) return;
    warned = true;
    log({ level, event, bucket, binding: limiter, reason });
  };

  return async function callerRateLimitMiddleware(c, next) {
    // A wiring error (mounted before callerAuth) must not let requests through unlimited and
    // unauthenticated: fail closed.
    const caller = c.var.caller as Caller | undefined;
    if (caller === undefined)
      throw new GatewayError('internal', {
        detail: 'The gateway failed unexpectedly; the request id identifies it in the logs',
        reason: `callerRateLimit(${bucket}) ran without an authenticated caller`,
      });

    const binding = (c.env as Record<string, unknown> | undefined)?.[limiter];
    if (binding === undefined || binding === null) {
      warnOnce('warn', 'rate_limit.disabled', 'binding not configured; this limit is off');
      await next();
      return;
    }
    if (!isRateLimiter(binding)) {
      warnOnce(
        'error',
        'rate_limit.misconfigured',
        'not a rate-limiting binding; this limit is off',
      );
      await next();
      return;
    }

    let success: boolean;
    try {
      const outcome: unknown = await binding.limit({ key: `${bucket}:${caller.sub}` });
      const value = (outcome as { success?: unknown } | null)?.success;
      if (typeof value !== 'boolean') throw new TypeError('limit() answered no boolean "success"');
      success = value;
    } catch (e) {
      log({
        level: 'error',
        event: 'rate_limit.error',
        bucket,
        binding: limiter,
        caller: caller.sub,
        error: describeError(e),
      });
      await next();
      return;
    }
    if (!success)
      throw new GatewayError('rate-limited', {
        detail: `Too many ${bucket} requests from this caller; retry after ${periodS} seconds.`,
        reason: `caller "${caller.sub}" over the ${bucket} rate limit (${limiter})`,
        headers: { 'Retry-After': retryAfter },
      });
    await next();
  };
}
