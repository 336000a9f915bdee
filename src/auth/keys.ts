/**
 * The key set that caller JWTs are verified against: an inline JWKS (CALLER_JWKS) or a remote one
 * (CALLER_JWKS_URL), resolved by jose's `createLocalJWKSet`; the remote set's refresh, cool-down and
 * timeout are ours (not jose's `createRemoteJWKSet`) so that they run on the injected clock.
 *
 * Trust boundary: the keys decide who may call the gateway. Inline sets are checked strictly when
 * the gateway starts; remote sets are fetched with a timeout, `redirect: 'manual'` (a redirect is
 * a failure, never followed to a host we were not configured with), a size limit, a cool-down,
 * and one fetch at a time per isolate (src/auth/single-flight.ts).
 *
 * Failure semantics (fail closed, but say whose fault it is):
 * - the token names no key we have, or more than one key matches it → jose's
 *   `JWKSNoMatchingKey` / `JWKSMultipleMatchingKeys` propagate and the middleware answers 401;
 * - the remote key set cannot be fetched (timeout, network error, non-200, bad JSON, too large, or
 *   keys jose cannot import) → 503 `caller-keys-unavailable`: the caller's credentials may be fine, the
 *   outage is ours, and a 401 would make well-behaved callers discard good tokens;
 * - an inline key set that jose cannot use at request time → 500 `misconfigured`.
 * Keys are never served past `cacheMaxAge` when a refresh fails: removing a key from the JWKS is
 * how an issuer revokes it, so stale keys are not a fallback.
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
import type { GatewayConfig } from '../config/types';
import type { Logger } from '../lib/log';

export type CallerKeyConfig = Pick<GatewayConfig['caller'], 'jwks' | 'jwksUrl' | 'algorithms'>;

export interface CallerKeySetOptions {
  /** Used for remote JWKS fetches instead of the global `fetch` (tests, service bindings). */
  fetch?: typeof fetch;
  /** Abort a JWKS fetch after this long. Default 2000 ms. */
  timeoutMs?: number;
  /**
   * After a successful fetch, a token with an unknown `kid` triggers no new fetch for this long,
   * so a flood of made-up `kid`s costs at most one JWKS fetch per cool-down. Default 30 s.
   * Concurrent requests that all want a fetch share one (src/auth/single-flight.ts): jose's own
   * de-duplication is off on Workers.
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

/** Which `kty` each pinned algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1). */
const ALG_KTY: Readonly<Record<string, string>> = {
  ES256: 'EC',
  ES384: 'EC',
  ES512: 'EC',
  RS256: 'RSA',
  RS384: 'RSA',
  RS512: 'RSA',
  PS256: 'RSA',
  PS384: 'RSA',
  PS512: 'RSA',
  EdDSA: 'OKP',
  Ed25519: 'OKP',
};

/** JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Checks an inline caller JWKS and throws an Error naming the first problem. Rules:
 * - only asymmetric public keys (`kty` EC, RSA or OKP); a symmetric `oct` key would let anyone who
 *   can read the config mint caller tokens, and HS* is never accepted anyway;
 * - no private members: the gateway verifies, it never signs caller tokens;
 * - `kid`s are unique, and present whenever the set has more than one key, so that every token
 *   maps to exactly one key (RFC 7517 §4.5) and rotation is explicit;
 * - at least one key is usable with the pinned algorithms.
 */
export function assertCallerJwks(jwks: unknown, algorithms: readonly string[]): void {
  if (
    typeof jwks !== 'object' ||
    jwks === null ||
    !Array.isArray((jwks as { keys?: unknown }).keys)
  )
    throw new Error('caller JWKS must be an object with a "keys" array');
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0) throw new Error('caller JWKS has no keys');
  const kids = new Set<string>();
  const usableKty = new Set(algorithms.map((a) => ALG_KTY[a]).filter((k) => k !== undefined));
  let usable = false;
  keys.forEach((key, i) => {
    const where = `caller JWKS key ${i}`;
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      throw new Error(`${where} is not a JSON object`);
    const jwk = key as Record<string, unknown>;
    if (jwk['kty'] === 'oct')
      throw new Error(`${where} is a symmetric key (kty "oct"); only public EC, RSA or OKP keys`);
    if (jwk['kty'] !== 'EC' && jwk['kty'] !== 'RSA' && jwk['kty'] !== 'OKP')
      throw new Error(`${where} has unsupported kty; only public EC, RSA or OKP keys`);
    for (const member of SECRET_MEMBERS) {
      if (member in jwk) throw new Error(`${where} contains private key material ("${member}")`);
    }
    const kid = jwk['kid'];
    if (kid === undefined) {
      if (keys.length > 1)
        throw new Error(`${where} has no "kid"; a set of several keys needs one each`);
    } else if (typeof kid !== 'string' || kid.length === 0) {
      throw new Error(`${where} has a "kid" that is not a non-empty string`);
    } else if (kids.has(kid)) {
      throw new Error(`${where} repeats kid "${kid}"; kids must be unique`);
    } else {
      kids.add(kid);
    }
    if (usableKty.has(jwk['kty'])) usable = true;
  });
  if (!usable)
    throw new Error(
      `caller JWKS has no key usable with the configured algorithms (${algorithms.join(', ')})`,
    );
}

/** The token itself selected no single key: the caller's problem (401), not an outage. */
export function isKeySelectionError(e: unknown): boolean {
  return (
    e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys
  );
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${typeof code === 'string' ? code : e.name}: ${e.message}`;
  }
  return 'non-Error thrown';
}

/**
 * Builds the key resolver passed to `jwtVerify`. Throws (at build time) on an inline key set that
 * breaks the rules of `assertCallerJwks`, or on a config with neither or both sources.
 */
export function createCallerKeySet(
  config: CallerKeyConfig,
  options: CallerKeySetOptions = {},
): JWTVerifyGetKey {
  if ((config.jwks === undefined) === (config.jwksUrl === undefined))
    throw new Error('caller key set needs exactly one of jwks (inline) and jwksUrl');

  if (config.jwks !== undefined) {
    assertCallerJwks(config.jwks, config.algorithms);
    const local = createLocalJWKSet(config.jwks as unknown as JSONWebKeySet);
    return async function getInlineCallerKey(header, token) {
      try {
        return await local(header, token);
      } catch (e) {
        if (isKeySelectionError(e)) throw e;
        throw new GatewayError('misconfigured', {
          detail: 'The caller key set is misconfigured.',
          reason: `inline caller JWKS unusable: ${describeError(e)}`,
          cause: e,
        });
      }
    };
  }

  const url = new URL(config.jwksUrl as string);
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
