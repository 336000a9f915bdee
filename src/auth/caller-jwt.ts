/** Caller JWT verification (RFC 7519 §7.2, RFC 8725) with a per-isolate cache of verified tokens. */
import type { JWTVerifyGetKey } from 'jose';
import { CALLER_ALGORITHMS, type CallerPolicyEntry } from '../config/types';
import { ConfigurationError, GatewayError } from '../lib/errors';
import { Lru } from '../lib/lru';
import type { JwtCaller } from './caller';
import { invalidToken, quote } from './credential-errors';
import { callerClaims, verifySignedJwt } from './jwt';

/** Longest credential we try to verify; real caller JWTs are well under 2 KiB. */
export const MAX_CALLER_TOKEN_LENGTH = 8192;

export interface CallerJwtOptions {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  keySet: JWTVerifyGetKey;
  /** Bounded (0–30 s) by the config (CALLER_CLOCK_TOLERANCE_S). */
  clockToleranceS: number;
  /** Maximum age from `iat`; 0 means none (long-lived API-gateway credentials). */
  maxTokenAgeS: number;
  policy: Readonly<Record<string, CallerPolicyEntry>>;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Verified tokens remembered per isolate; 0 turns the cache off. Default 1000. */
  verificationCacheSize?: number;
  /** Longest time a verified token is remembered. Default 60 s. */
  verificationCacheTtlS?: number;
}

export interface CallerVerifier {
  (token: string): Promise<JwtCaller>;
  /**
   * The caller an earlier verification of exactly this token found, while it may still be
   * reused; undefined otherwise (then call the verifier). Synchronous, for the hot paths.
   */
  remembered(token: string): JwtCaller | undefined;
}

const DEFAULT_CACHE_SIZE = 1000;
const DEFAULT_CACHE_TTL_S = 60;

const ACCEPTED_ALGORITHMS: ReadonlySet<string> = new Set(CALLER_ALGORITHMS);

function checkOptions(o: CallerJwtOptions): void {
  const fail = (msg: string): never => {
    throw new ConfigurationError('callerAuth', msg);
  };
  if (typeof o.issuer !== 'string' || o.issuer.length === 0)
    fail('"issuer" must be a non-empty string');
  if (typeof o.audience !== 'string' || o.audience.length === 0)
    fail('"audience" must be a non-empty string');
  if (!Array.isArray(o.algorithms) || o.algorithms.length === 0)
    fail('"algorithms" must list at least one algorithm');
  // RFC 8725 §3.1–3.2: no unsigned tokens, and no shared secret every caller could sign with.
  for (const alg of o.algorithms) {
    if (typeof alg !== 'string') fail('"algorithms" must contain strings');
    if (alg.toLowerCase() === 'none')
      fail('"algorithms" must not contain "none" (unsigned tokens)');
    if (/^HS/i.test(alg))
      fail(
        `"algorithms" must not contain ${alg}: symmetric algorithms are not accepted for callers`,
      );
    if (!ACCEPTED_ALGORITHMS.has(alg))
      fail(`"algorithms" contains unsupported "${alg}"; use ${CALLER_ALGORITHMS.join(', ')}`);
  }
  if (typeof o.keySet !== 'function') fail('"keySet" must be a key resolver (createCallerKeySet)');
  if (!Number.isInteger(o.maxTokenAgeS) || o.maxTokenAgeS < 0)
    fail('"maxTokenAgeS" must be a non-negative integer (0 = no limit)');
  if (typeof o.policy !== 'object' || o.policy === null) fail('"policy" must be an object');
  if (o.now !== undefined && typeof o.now !== 'function') fail('"now" must be a function');
  const size = o.verificationCacheSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 0))
    fail('"verificationCacheSize" must be a non-negative integer');
  const ttl = o.verificationCacheTtlS;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 300))
    fail('"verificationCacheTtlS" must be an integer from 0 to 300');
}

interface CacheEntry {
  caller: JwtCaller;
  /** Reuse only while `now` < this (ms). */
  until: number;
}

/**
 * Verifies a caller JWT (`iss`, `aud`, `exp`, `sub` required) and finds its policy. Throws
 * `GatewayError` `unauthorized` (401), `forbidden` (403: valid token, no policy entry), or what the
 * key set throws (503 `caller-keys-unavailable`, 500 `misconfigured`).
 *
 * Verified tokens are remembered per isolate, keyed by the exact token string, so a caller that
 * sends the same credential every time skips the signature check. An entry is reused only until
 * the first instant the full check would fail on time alone (`exp`, `iat` + max age, with the
 * tolerance) and at most `verificationCacheTtlS`, which bounds how long a key removed from the
 * JWKS is still honoured. Failures are never stored.
 */
export function createCallerVerifier(options: CallerJwtOptions): CallerVerifier {
  checkOptions(options);
  const now = options.now ?? Date.now;
  const { keySet, policy, clockToleranceS: tolerance, maxTokenAgeS } = options;
  const verifyOptions = {
    algorithms: [...options.algorithms],
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ['iss', 'aud', 'exp', 'sub'],
    clockTolerance: tolerance,
    ...(maxTokenAgeS > 0 ? { maxTokenAge: maxTokenAgeS } : {}),
  };
  const cacheTtlMs = (options.verificationCacheTtlS ?? DEFAULT_CACHE_TTL_S) * 1000;
  const cache = new Lru<CacheEntry>(
    cacheTtlMs > 0 ? (options.verificationCacheSize ?? DEFAULT_CACHE_SIZE) : 0,
  );

  /** The caller remembered for `token`, while it may be reused at `nowMs`; an expired one goes. */
  const rememberedAt = (token: string, nowMs: number): JwtCaller | undefined => {
    const hit = cache.get(token);
    if (hit === undefined) return undefined;
    if (nowMs < hit.until) return hit.caller;
    cache.delete(token);
    return undefined;
  };

  const verifyCaller = async function verifyCaller(token: string): Promise<JwtCaller> {
    const nowMs = now();
    const remembered = rememberedAt(token, nowMs);
    if (remembered !== undefined) return remembered;
    if (token.length > MAX_CALLER_TOKEN_LENGTH)
      throw invalidToken(
        'malformed token',
        `caller JWT longer than ${MAX_CALLER_TOKEN_LENGTH} characters`,
      );

    const payload = await verifySignedJwt('caller-jwt', token, keySet, verifyOptions, nowMs);
    const { sub, exp, iat } = payload;
    if (typeof sub !== 'string' || sub.length === 0)
      throw invalidToken('claim sub malformed', 'caller JWT "sub" is not a non-empty string');
    // Own properties only: a `sub` of "constructor" or "__proto__" must not find Object's members.
    if (!Object.hasOwn(policy, sub))
      throw new GatewayError('forbidden', {
        detail: `caller ${quote(sub)} has no access policy.`,
        reason: `caller JWT valid but sub ${quote(sub)} has no CALLER_POLICY entry`,
      });
    const caller: JwtCaller = Object.freeze({
      source: 'jwt' as const,
      sub,
      policy: policy[sub] as CallerPolicyEntry,
      claims: callerClaims(payload),
    });

    if (cache.enabled) {
      let until = Math.min(nowMs + cacheTtlMs, ((exp as number) + tolerance) * 1000);
      if (maxTokenAgeS > 0 && typeof iat === 'number')
        until = Math.min(until, (iat + maxTokenAgeS + tolerance + 1) * 1000);
      if (until > nowMs) cache.set(token, { caller, until });
    }
    return caller;
  };
  return Object.assign(verifyCaller, {
    remembered: (token: string): JwtCaller | undefined => rememberedAt(token, now()),
  });
}
