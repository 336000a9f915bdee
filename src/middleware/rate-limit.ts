/**
 * Per-caller limits on the Workers rate-limiting binding (`[[ratelimits]]`), keyed
 * `<bucket>:<caller sub>` after caller auth, so callers cannot grow the key space. Buckets:
 * - `introspection`: checks that need GHES, charged right before the GHES call (`ghesCheckBudget`),
 *   never for a cached answer: RFC 7662 §4, an open check lets a caller fish for valid tokens;
 * - `client`: the same checks per end-user client address (src/lib/client-address.ts);
 * - `mutation`: reset, scoped, delete, grant delete, per request;
 * - `user-login`: Authorizations API calls that present a user's password (user-login-limit.ts).
 * Over the limit → 429 with `Retry-After` = the binding's period (it reports no reset time).
 *
 * Fails open (logged): a missing or broken binding lets authenticated, policy-checked callers
 * through. It is abuse protection, not authorization; GHES stays behind the breaker and the cache.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Caller, CallerAuthVariables } from '../auth/caller';
import type { GatewayConfig, RateLimitPeriod } from '../config/types';
import { ConfigurationError, GatewayError } from '../lib/errors';
import { clientAddressOf } from '../lib/client-address';
import type { Logger } from '../lib/log';

export const RATE_LIMIT_BUCKETS = ['introspection', 'mutation', 'client', 'user-login'] as const;
export type RateLimitBucket = (typeof RATE_LIMIT_BUCKETS)[number];

export interface CallerRateLimitOptions {
  /** Name of the rate-limiting binding in `c.env`, e.g. `INTROSPECTION_RATE_LIMITER`. */
  limiter: string;
  bucket: RateLimitBucket;
  /** The binding's `simple.period` in seconds (10 or 60): the Retry-After of a 429. */
  periodS: RateLimitPeriod;
  log: Logger;
}

const BINDING_NAME = /^[A-Z][A-Z0-9_]{0,127}$/;
/** A header field name (RFC 9110 §5.1 token), as configured. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

function fail(where: string, msg: string): never {
  throw new ConfigurationError(where, msg);
}

/** The period is trusted: src/config checks it (and its type allows only 10 or 60). */
function checkLimit(where: string, o: { limiter: unknown }): void {
  if (typeof o.limiter !== 'string' || !BINDING_NAME.test(o.limiter))
    fail(where, '"limiter" must name a binding (UPPER_SNAKE_CASE)');
}

function checkOptions(o: CallerRateLimitOptions): void {
  checkLimit('callerRateLimit', o);
  if (!(RATE_LIMIT_BUCKETS as readonly string[]).includes(o.bucket))
    fail('callerRateLimit', `"bucket" must be one of ${RATE_LIMIT_BUCKETS.join(', ')}`);
  if (typeof o.log !== 'function') fail('callerRateLimit', '"log" must be a Logger');
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
 * One binding, asked with the failure semantics above. Answers false only when the binding says
 * the key is over its limit; true when it is under, or when the limit is off or failing (logged).
 */
export function limitGate(limiter: string, bucket: RateLimitBucket, log: Logger) {
  let warned = false;
  const warnOnce = (level: 'warn' | 'error', event: string, reason: string) => {
    if (warned) return;
    warned = true;
    log({ level, event, bucket, binding: limiter, reason });
  };
  return async function underLimit(env: unknown, key: string, caller: string): Promise<boolean> {
    const binding = (env as Record<string, unknown> | undefined)?.[limiter];
    if (binding === undefined || binding === null) {
      warnOnce('warn', 'rate_limit.disabled', 'binding not configured; this limit is off');
      return true;
    }
    if (!isRateLimiter(binding)) {
      warnOnce(
        'error',
        'rate_limit.misconfigured',
        'not a rate-limiting binding; this limit is off',
      );
      return true;
    }
    try {
      const outcome: unknown = await binding.limit({ key });
      const value = (outcome as { success?: unknown } | null)?.success;
      if (typeof value !== 'boolean') throw new TypeError('limit() answered no boolean "success"');
      return value;
    } catch (e) {
      log({
        level: 'error',
        event: 'rate_limit.error',
        bucket,
        binding: limiter,
        caller,
        error: describeError(e),
      });
      return true;
    }
  };
}

/** A wiring error (run before callerAuth) must not let requests through unlimited: fail closed. */
export function requireCaller(c: Context, where: string): Caller {
  const caller = c.var.caller as Caller | undefined;
  if (caller === undefined)
    throw new GatewayError('internal', {
      detail: 'The gateway failed unexpectedly; the request id identifies it in the logs',
      reason: `${where} ran without an authenticated caller`,
    });
  return caller;
}

/**
 * Middleware factory. Checks its options once (throws a ConfigurationError naming the bad option); the
 * binding itself is looked up in `c.env` on every request.
 */
export function callerRateLimit(
  options: CallerRateLimitOptions,
): MiddlewareHandler<{ Variables: CallerAuthVariables }> {
  checkOptions(options);
  const { limiter, bucket, periodS, log } = options;
  const retryAfter = String(periodS);
  const underLimit = limitGate(limiter, bucket, log);

  return async function callerRateLimitMiddleware(c, next) {
    const caller = requireCaller(c, `callerRateLimit(${bucket})`);
    if (!(await underLimit(c.env, `${bucket}:${caller.sub}`, caller.sub)))
      throw new GatewayError('rate-limited', {
        detail: `Too many ${bucket} requests from this caller; retry after ${periodS} seconds.`,
        reason: `caller "${caller.sub}" over the ${bucket} rate limit (${limiter})`,
        headers: { 'Retry-After': retryAfter },
      });
    await next();
  };
}

/** Called right before a token check goes to GHES; throws 429 `rate-limited` to refuse it. */
export type BeforeGhes = () => Promise<void>;

/** Builds a request's `beforeGhes` hook; the request must have an authenticated caller. */
export type GhesCheckBudget = <E extends { Variables: CallerAuthVariables }>(
  c: Context<E>,
) => BeforeGhes;

export interface GhesCheckBudgetOptions {
  /** Per caller: the `introspection` bucket. */
  caller: { limiter: string; periodS: 10 | 60 };
  /** Per end-user client address of a caller: the `client` bucket. */
  client: {
    limiter: string;
    periodS: RateLimitPeriod;
    /** Header the caller's proxy reports the client address in (CLIENT_ADDRESS_HEADER). */
    header: string;
  };
  log: Logger;
}

/**
 * Factory for the budget of GHES-bound token checks. Checks its options once; the result builds,
 * per request, the `beforeGhes` hook the cache loader calls right before asking GHES, so that L1
 * and KV hits, coalesced loads and tokens refused by format cost nothing.
 *
 * The client bucket is asked first: a client over its limit is refused without spending the
 * caller's budget. A request without the header (a service calling /v1 itself, or a proxy that
 * does not report clients) is limited per caller only.
 */
export function ghesCheckBudget(options: GhesCheckBudgetOptions): GhesCheckBudget {
  const where = 'ghesCheckBudget';
  if (typeof options !== 'object' || options === null) fail(where, 'options are required');
  checkLimit(`${where} caller`, options.caller ?? {});
  checkLimit(`${where} client`, options.client ?? {});
  const header =
    typeof options.client.header === 'string' ? options.client.header.toLowerCase() : '';
  if (!HEADER_NAME.test(header)) fail(where, '"client.header" must be a header name');
  if (typeof options.log !== 'function') fail(where, '"log" must be a Logger');
  const { caller: callerLimit, client: clientLimit, log } = options;
  const callerUnder = limitGate(callerLimit.limiter, 'introspection', log);
  const clientUnder = limitGate(clientLimit.limiter, 'client', log);

  return function ghesCheckBudgetFor<E extends { Variables: CallerAuthVariables }>(
    c: Context<E>,
  ): BeforeGhes {
    const caller = requireCaller(c, where);
    return async function chargeGhesCheck() {
      const address = clientAddressOf(
        header,
        c.req.header(header),
        c.req.header('cf-connecting-ip'),
      );
      if (address.kind !== 'absent') {
        const key = `client:${caller.sub}:${address.key}`;
        if (!(await clientUnder(c.env, key, caller.sub)))
          throw new GatewayError('rate-limited', {
            detail: `Too many token checks that need GHES from this client; retry after ${clientLimit.periodS} seconds.`,
            reason: `client ${address.key} of caller "${caller.sub}" over the GHES check rate limit (${clientLimit.limiter})`,
            headers: { 'Retry-After': String(clientLimit.periodS) },
          });
      }
      if (!(await callerUnder(c.env, `introspection:${caller.sub}`, caller.sub)))
        throw new GatewayError('rate-limited', {
          detail: `Too many token checks that need GHES from this caller; retry after ${callerLimit.periodS} seconds.`,
          reason: `caller "${caller.sub}" over the GHES check rate limit (${callerLimit.limiter})`,
          headers: { 'Retry-After': String(callerLimit.periodS) },
        });
    };
  };
}

/** `ghesCheckBudget` as src/config configures it. */
export function configuredGhesCheckBudget(
  rateLimits: GatewayConfig['rateLimits'],
  log: Logger,
): GhesCheckBudget {
  return ghesCheckBudget({
    caller: {
      limiter: rateLimits.introspection.binding,
      periodS: rateLimits.introspection.periodS,
    },
    client: {
      limiter: rateLimits.client.binding,
      periodS: rateLimits.client.periodS,
      header: rateLimits.client.header,
    },
    log,
  });
}
