/**
 * A remote caller key set (CALLER_JWKS_URL): jose's `createRemoteJWKSet` semantics (refetch when
 * older than `cacheMaxAge`, one refetch per cool-down for an unknown `kid`), but ours so that the
 * timers run on the injected clock. Every fetch has a timeout, `redirect: 'manual'` (a redirect
 * is a failure, never followed to a host we were not configured with), a size limit, a failure
 * back-off, and is shared by the requests that want it at once (src/lib/single-flight.ts).
 *
 * A key set that cannot be fetched is 503 `caller-keys-unavailable`: the caller's credentials may
 * be fine, the outage is ours. Keys are never served past `cacheMaxAge` when a refresh fails:
 * removing a key from the JWKS is how an issuer revokes it, so stale keys are not a fallback.
 */
import {
  createLocalJWKSet,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { GatewayError } from '../lib/errors';
import { readAtMost, strictUtf8 } from '../lib/bounded-read';
import { systemClock, type Clock } from '../lib/clock';
import { createSingleFlight } from '../lib/single-flight';
import type { Logger } from '../lib/log';

export interface CallerKeySetOptions {
  /** Used for remote JWKS fetches instead of the global `fetch` (tests, service bindings). */
  fetch?: typeof fetch;
  /** Abort a JWKS fetch after this long. Default 2000 ms. */
  timeoutMs?: number;
  /**
   * After a successful fetch, a token with an unknown `kid` triggers no new fetch for this long,
   * so a flood of made-up `kid`s costs at most one JWKS fetch per cool-down. Default 30 s.
   * Concurrent requests that all want a fetch share one (src/lib/single-flight.ts).
   */
  cooldownMs?: number;
  /** Keys older than this are refetched before use. Default 10 min. */
  cacheMaxAgeMs?: number;
  /**
   * After a failed fetch, answer 503 without fetching again for this long, so that an outage of
   * the JWKS host is not amplified into one fetch per request. Default 5 s.
   */
  failureBackoffMs?: number;
  /** Larger JWKS responses are rejected. Default 64 KiB (real sets are a few KiB). */
  maxJwksBytes?: number;
  log?: Logger;
  /** Cache age, cool-down, failure back-off and fetch timeout run on this clock. */
  clock?: Clock;
}

export const JWKS_DEFAULTS = {
  timeoutMs: 2000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  failureBackoffMs: 5000,
  maxJwksBytes: 65_536,
} as const;

/** The token itself selected no single key: the caller's problem (401), not an outage. */
export function isKeySelectionError(e: unknown): boolean {
  return (
    e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys
  );
}

/** For logs: the error's code (jose's) or name, and message. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${typeof code === 'string' ? code : e.name}: ${e.message}`;
  }
  return 'non-Error thrown';
}

/** The key resolver for the JWKS at `jwksUrl`. */
export function createRemoteKeySet(
  jwksUrl: string,
  options: CallerKeySetOptions = {},
): JWTVerifyGetKey {
  const url = new URL(jwksUrl);
  const timeoutMs = options.timeoutMs ?? JWKS_DEFAULTS.timeoutMs;
  const failureBackoffMs = options.failureBackoffMs ?? JWKS_DEFAULTS.failureBackoffMs;
  const cooldownMs = options.cooldownMs ?? JWKS_DEFAULTS.cooldownMs;
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? JWKS_DEFAULTS.cacheMaxAgeMs;
  const maxJwksBytes = options.maxJwksBytes ?? JWKS_DEFAULTS.maxJwksBytes;
  const clock = options.clock ?? systemClock;
  const log = options.log;
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const origin = url.origin;
  let lastFailureAt = Number.NEGATIVE_INFINITY;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let local: JWTVerifyGetKey | undefined;
  // An attempt that outlived its own timeout was abandoned (its request was cancelled).
  const flight = createSingleFlight<string>({ clock, staleAfterMs: timeoutMs + 1000 });
  const freshFor = (ms: number) => clock.now() < fetchedAt + ms;

  // Every JWKS fetch goes through here: the back-off, one fetch at a time, the timeout (even if
  // the injected fetch ignores the signal), manual redirects and the size limit.
  const reload = async (): Promise<void> => {
    if (clock.now() < lastFailureAt + failureBackoffMs)
      throw new Error('JWKS fetch skipped: an earlier fetch failed within the back-off window');
    const signal = clock.timeout(timeoutMs);
    const { value: body } = await flight(signal, () => fetchKeySet(signal)).catch((e: unknown) => {
      // A follower's own timeout; the leader's is logged by fetchKeySet.
      throw isTimeout(e) ? new joseErrors.JWKSTimeout(undefined, { cause: e }) : e;
    });
    try {
      local = createLocalJWKSet(JSON.parse(body) as JSONWebKeySet);
    } catch (e) {
      lastFailureAt = clock.now();
      throw e;
    }
    fetchedAt = clock.now();
  };

  const fetchKeySet = async (signal: AbortSignal): Promise<string> => {
    try {
      const response = await abortable(
        fetchImpl(url.href, {
          method: 'GET',
          headers: { accept: 'application/json, application/jwk-set+json' },
          redirect: 'manual',
          signal,
        }),
        signal,
      );
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`JWKS host answered HTTP ${response.status} (redirects are not followed)`);
      }
      const body = await readLimited(response, maxJwksBytes, signal);
      // Shape-checked here so that a malformed set counts as a failed fetch for the back-off.
      const parsed = JSON.parse(body) as unknown;
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        !Array.isArray((parsed as { keys?: unknown }).keys)
      )
        throw new Error('JWKS response is not a JSON object with a "keys" array');
      return body;
    } catch (e) {
      lastFailureAt = clock.now();
      log?.({ level: 'warn', event: 'caller.jwks_fetch_failed', origin, error: describeError(e) });
      throw isTimeout(e) ? new joseErrors.JWKSTimeout(undefined, { cause: e }) : e;
    }
  };

  // jose's createRemoteJWKSet semantics: refetch when the set is older than `cacheMaxAge`; a
  // token naming an unknown kid refetches once per cool-down (key rotation).
  const remote: JWTVerifyGetKey = async (header, token) => {
    if (local === undefined || !freshFor(cacheMaxAgeMs)) await reload();
    try {
      return await (local as JWTVerifyGetKey)(header, token);
    } catch (e) {
      if (!(e instanceof joseErrors.JWKSNoMatchingKey) || freshFor(cooldownMs)) throw e;
      await reload();
      return (local as JWTVerifyGetKey)(header, token);
    }
  };
  const retryAfterS = String(Math.max(1, Math.ceil(failureBackoffMs / 1000)));

  return async function getRemoteCallerKey(header, token) {
    try {
      return await remote(header, token);
    } catch (e) {
      if (isKeySelectionError(e)) throw e;
      throw new GatewayError('caller-keys-unavailable', {
        detail: 'The caller key set is unavailable; try again later.',
        reason: `caller JWKS at ${origin} unavailable: ${describeError(e)}`,
        headers: { 'Retry-After': retryAfterS },
        cause: e,
      });
    }
  };
}

function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'TimeoutError';
}

/** Rejects with the signal's reason once it aborts, whether or not `promise` honours it. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

async function readLimited(response: Response, max: number, signal: AbortSignal): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel();
    throw new Error(`JWKS response larger than ${max} bytes`);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const read = await readAtMost(reader, max, () => abortable(reader.read(), signal));
  if (read.over) {
    await reader.cancel();
    throw new Error(`JWKS response larger than ${max} bytes`);
  }
  return strictUtf8(read.bytes);
}
