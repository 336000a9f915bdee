/**
 * Caller authentication: every internal endpoint is called by a service that presents a JWT
 * signed by the caller issuer (`Authorization: Bearer <JWT>`, or `X-Gateway-Authorization` on
 * routes where `Authorization` carries the end user's GitHub token). Trust boundary: nothing a
 * caller sends is believed before this middleware has verified it.
 *
 * Verification (jose `jwtVerify`, RFC 7519 §7.2, RFC 8725):
 * - algorithms pinned to asymmetric ones; `none` and HS* are refused when the middleware is built
 *   (RFC 8725 §3.1–3.2: no algorithm confusion, no shared secret in every caller);
 * - `iss`, `aud`, `exp` and `sub` required; `nbf` and `iat` honoured when present; `iat` required
 *   and bounded when `maxTokenAgeS` > 0; clock skew bounded by `clockToleranceS`;
 * - header `typ`, when present, must be `JWT` or `at+jwt` (RFC 9068 access tokens), with or
 *   without the `application/` prefix and in any case (RFC 7515 §4.1.9). Any other type (e.g.
 *   `dpop+jwt`, `secevent+jwt`) is a different kind of token from the same issuer and is refused
 *   (RFC 8725 §3.11, explicit typing);
 * - any `crit` header is refused: we implement no JWS extensions, and a token that insists on one
 *   must not be accepted by a verifier that ignores it (RFC 7515 §4.1.11);
 * - embedded keys (`jwk`, `jku`, `x5u`, `x5c`) are never used: keys come only from the configured
 *   key set, selected by `kid`/`alg`.
 *
 * A valid token whose `sub` has no policy entry is authenticated but not allowed: 403.
 *
 * Failures answer 401 with an RFC 6750 §3 challenge. The token itself never appears in the
 * problem body, the challenge, the logged reason or any log record.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { MiddlewareHandler } from 'hono';
import { CALLER_ALGORITHMS, type CallerPolicyEntry } from '../env';
import { GatewayError, isGatewayError } from '../errors';
import type { Logger } from '../log';

export const CALLER_REALM = 'ghes-token-gateway';

/** Longest credential we try to verify; real caller JWTs are well under 2 KiB. */
export const MAX_CALLER_TOKEN_LENGTH = 8192;

export interface CallerClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat?: number;
}

/** An authenticated caller and its policy entry (from CALLER_POLICY, keyed by `sub`). */
export interface Caller {
  readonly sub: string;
  readonly policy: Readonly<CallerPolicyEntry>;
  readonly claims: CallerClaims;
}

export type CallerAuthVariables = { caller: Caller };

export type CallerCredentialHeader = 'authorization' | 'x-gateway-authorization';

export interface CallerAuthOptions {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  keySet: JWTVerifyGetKey;
  clockToleranceS: number;
  /** Maximum age from `iat`; 0 means none (long-lived API-gateway credentials). */
  maxTokenAgeS: number;
  /** Where the Bearer credential is read from. Default `authorization`. */
  header?: CallerCredentialHeader;
  policy: Readonly<Record<string, CallerPolicyEntry>>;
  log: Logger;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Verified tokens remembered per isolate; 0 turns the cache off. Default 1000. */
  verificationCacheSize?: number;
  /** Longest time a verified token is remembered. Default 60 s. */
  verificationCacheTtlS?: number;
}

const DEFAULT_CACHE_SIZE = 1000;
const DEFAULT_CACHE_TTL_S = 60;
const MAX_CLOCK_TOLERANCE_S = 300;

/** RFC 6750 §2.1 `b64token` after the case-insensitive scheme (RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

const ACCEPTED_ALGORITHMS: ReadonlySet<string> = new Set(CALLER_ALGORITHMS);

function checkOptions(o: CallerAuthOptions): void {
  const fail = (msg: string): never => {
    throw new Error(`callerAuth: ${msg}`);
  };
  if (typeof o.issuer !== 'string' || o.issuer.length === 0)
    fail('"issuer" must be a non-empty string');
  if (typeof o.audience !== 'string' || o.audience.length === 0)
    fail('"audience" must be a non-empty string');
  if (!Array.isArray(o.algorithms) || o.algorithms.length === 0)
    fail('"algorithms" must list at least one algorithm');
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
  if (
    !Number.isInteger(o.clockToleranceS) ||
    o.clockToleranceS < 0 ||
    o.clockToleranceS > MAX_CLOCK_TOLERANCE_S
  )
    fail(`"clockToleranceS" must be an integer from 0 to ${MAX_CLOCK_TOLERANCE_S}`);
  if (!Number.isInteger(o.maxTokenAgeS) || o.maxTokenAgeS < 0)
    fail('"maxTokenAgeS" must be a non-negative integer (0 = no limit)');
  if (
    o.header !== undefined &&
    o.header !== 'authorization' &&
    o.header !== 'x-gateway-authorization'
  )
    fail('"header" must be "authorization" or "x-gateway-authorization"');
  if (typeof o.policy !== 'object' || o.policy === null) fail('"policy" must be an object');
  if (typeof o.log !== 'function') fail('"log" must be a Logger');
  if (o.now !== undefined && typeof o.now !== 'function') fail('"now" must be a function');
  const size = o.verificationCacheSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 0))
    fail('"verificationCacheSize" must be a non-negative integer');
  const ttl = o.verificationCacheTtlS;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 300))
    fail('"verificationCacheTtlS" must be an integer from 0 to 300');
}

/** RFC 6750 §3: no error code when the request carried no Bearer credentials at all. */
function missingCredentials(reason: string): GatewayError {
  return new GatewayError('unauthorized', {
    detail: 'Bearer credentials required.',
    reason,
    headers: { 'WWW-Authenticate': `Bearer realm="${CALLER_REALM}"` },
  });
}

/**
 * `description` goes to the caller (challenge and problem detail) and must be a fixed string:
 * RFC 6750 §3 limits `error_description` to printable ASCII without `"` and `\`.
 */
function invalidToken(description: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError('unauthorized', {
    detail: `Invalid caller token: ${description}.`,
    reason,
    headers: {
      'WWW-Authenticate': `Bearer realm="${CALLER_REALM}", error="invalid_token", error_description="${description}"`,
    },
    cause,
  });
}

/** Attacker-supplied values in logged reasons: quoted and cut short. */
function quote(value: unknown): string {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);
}

/** `kid`/`alg` of the (unverified) header for the operator's reason; never the token. */
function headerHint(token: string): string {
  try {
    const h = decodeProtectedHeader(token);
    return ` (alg ${quote(h.alg)}, kid ${quote(h.kid)})`;
  } catch {
    return '';
  }
}

function hasCrit(token: string): boolean {
  try {
    return decodeProtectedHeader(token).crit !== undefined;
  } catch {
    return false;
  }
}

function mapJoseError(e: InstanceType<typeof joseErrors.JOSEError>, token: string): GatewayError {
  const base = `${e.code}: ${e.message}`;
  if (e instanceof joseErrors.JWTExpired) {
    return e.claim === 'iat'
      ? invalidToken('token too old', `caller JWT older than the maximum token age; ${base}`, e)
      : invalidToken('token expired', `caller JWT expired; ${base}`, e);
  }
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.reason === 'missing')
      return invalidToken(`required claim ${e.claim} missing`, `caller JWT ${base}`, e);
    if (e.reason === 'invalid')
      return invalidToken(`claim ${e.claim} malformed`, `caller JWT ${base}`, e);
    switch (e.claim) {
      case 'nbf':
        return invalidToken('token not yet valid', `caller JWT ${base}`, e);
      case 'iat':
        return invalidToken('token issued in the future', `caller JWT ${base}`, e);
      case 'iss':
        return invalidToken(
          'issuer not accepted',
          `caller JWT ${base}: got ${quote(e.payload['iss'])}`,
          e,
        );
      case 'aud':
        return invalidToken(
          'audience not accepted',
          `caller JWT ${base}: got ${quote(e.payload['aud'])}`,
          e,
        );
      default:
        return invalidToken('claims not accepted', `caller JWT ${base}`, e);
    }
  }
  if (e instanceof joseErrors.JOSENotSupported && hasCrit(token))
    return invalidToken(
      'critical header extensions not supported',
      `caller JWT has a "crit" header jose does not understand; ${base}`,
      e,
    );
  if (e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JOSENotSupported)
    return invalidToken('algorithm not accepted', `caller JWT ${base}${headerHint(token)}`, e);
  if (e instanceof joseErrors.JWKSNoMatchingKey)
    return invalidToken('no key matches the token', `caller JWT ${base}${headerHint(token)}`, e);
  if (e instanceof joseErrors.JWKSMultipleMatchingKeys)
    return invalidToken(
      'no unique key matches the token',
      `caller JWT ambiguous: several keys in the caller JWKS match${headerHint(token)}; ${base}`,
      e,
    );
  if (e instanceof joseErrors.JWSSignatureVerificationFailed)
    return invalidToken(
      'signature verification failed',
      `caller JWT ${base}${headerHint(token)}`,
      e,
    );
  return invalidToken('malformed token', `caller JWT malformed; ${base}`, e);
}

function acceptedTyp(typ: unknown): boolean {
  if (typ === undefined) return true;
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase().replace(/^application\//, '');
  return t === 'jwt' || t === 'at+jwt';
}

interface CacheEntry {
  caller: Caller;
  /** Reuse only while `now` < this (ms). */
  until: number;
}

export type CallerVerifier = (token: string) => Promise<Caller>;

/**
 * The verification behind the middleware, for code that finds the credential elsewhere. Throws
 * `GatewayError` `unauthorized` (401), `forbidden` (403, valid token but no policy entry), or
 * what the key set throws (503 `caller-keys-unavailable`, 500 `misconfigured`).
 *
 * Verified tokens are remembered so that a gateway presenting the same credential on every
 * request skips the signature check. Why this is safe:
 * - only tokens that passed every check are stored, keyed by the exact token string, so any
 *   change to header, payload or signature misses the cache (the map lives in isolate memory
 *   only, like the request that carried the token);
 * - an entry is reused only until the earliest instant the full check would fail on time alone
 *   (`exp` + tolerance, `iat` + max age + tolerance) and at most `verificationCacheTtlS`: a key
 *   removed from the JWKS stops being honoured within that bound (the key set itself is cached
 *   longer, 10 minutes by default);
 * - `now` is read on every hit, so a fixed or advancing clock sees exactly the boundaries
 *   `jwtVerify` would apply;
 * - it is bounded (least-recently-used eviction) and never stores failures, so an attacker
 *   cannot grow it without holding validly signed tokens.
 */
export function createCallerVerifier(options: CallerAuthOptions): CallerVerifier {
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
  const cacheSize = options.verificationCacheSize ?? DEFAULT_CACHE_SIZE;
  const cacheTtlMs = (options.verificationCacheTtlS ?? DEFAULT_CACHE_TTL_S) * 1000;
  const cache = new Map<string, CacheEntry>();

  return async function verifyCaller(token: string): Promise<Caller> {
    const nowMs = now();
    const hit = cache.get(token);
    if (hit !== undefined) {
      cache.delete(token);
      if (nowMs < hit.until) {
        cache.set(token, hit);
        return hit.caller;
      }
    }
    if (token.length > MAX_CALLER_TOKEN_LENGTH)
      throw invalidToken(
        'malformed token',
        `caller JWT longer than ${MAX_CALLER_TOKEN_LENGTH} characters`,
      );

    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, keySet, { ...verifyOptions, currentDate: new Date(nowMs) });
    } catch (e) {
      if (isGatewayError(e)) throw e;
      if (e instanceof joseErrors.JOSEError) throw mapJoseError(e, token);
      throw e;
    }
    const { payload, protectedHeader } = verified;
    if (!acceptedTyp(protectedHeader.typ))
      throw invalidToken(
        'token type not accepted',
        `caller JWT has typ ${quote(protectedHeader.typ)}`,
      );
    if (protectedHeader.crit !== undefined)
      throw invalidToken(
        'critical header extensions not supported',
        'caller JWT has a "crit" header',
      );
    const { sub, iss, aud, exp, iat } = payload;
    if (typeof sub !== 'string' || sub.length === 0)
      throw invalidToken('claim sub malformed', 'caller JWT "sub" is not a non-empty string');
    // Own properties only: a `sub` of "constructor" or "__proto__" must not find Object's members.
    if (!Object.hasOwn(policy, sub))
      throw new GatewayError('forbidden', {
        detail: `caller ${quote(sub)} has no access policy.`,
        reason: `caller JWT valid but sub ${quote(sub)} has no CALLER_POLICY entry`,
      });
    const entry = policy[sub] as CallerPolicyEntry;

    const claims: CallerClaims = Object.freeze({
      iss: iss as string,
      aud: Array.isArray(aud) ? Object.freeze([...aud]) : (aud as string),
      exp: exp as number,
      ...(typeof iat === 'number' ? { iat } : {}),
    });
    const caller: Caller = Object.freeze({ sub, policy: entry, claims });

    if (cacheSize > 0 && cacheTtlMs > 0) {
      let until = Math.min(nowMs + cacheTtlMs, ((exp as number) + tolerance) * 1000);
      if (maxTokenAgeS > 0 && typeof iat === 'number')
        until = Math.min(until, (iat + maxTokenAgeS + tolerance + 1) * 1000);
      if (until > nowMs) {
        if (cache.size >= cacheSize) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
        cache.set(token, { caller, until });
      }
    }
    return caller;
  };
}

/**
 * Middleware factory. Checks its options once (throws an Error naming the bad option), then
 * returns a middleware that sets `c.var.caller` or throws `GatewayError`.
 */
export function callerAuth(
  options: CallerAuthOptions,
): MiddlewareHandler<{ Variables: CallerAuthVariables }> {
  const verify = createCallerVerifier(options);
  const headerName = options.header ?? 'authorization';
  const { log } = options;

  return async function callerAuthMiddleware(c, next) {
    let caller: Caller;
    try {
      const credentials = c.req.raw.headers.get(headerName);
      // The common case first: one regex on the hot path, diagnosis only when it fails.
      const match = credentials === null ? null : BEARER.exec(credentials);
      if (match === null) {
        if (credentials === null || credentials.trim() === '')
          throw missingCredentials(`no ${headerName} header`);
        if (!BEARER_SCHEME.test(credentials))
          throw missingCredentials(`${headerName} header does not use the Bearer scheme`);
        throw invalidToken(
          'malformed bearer credentials',
          `${headerName} header is not "Bearer <token>"`,
        );
      }
      caller = await verify(match[1] as string);
    } catch (e) {
      if (isGatewayError(e))
        log({ level: 'info', event: 'caller.auth_failed', code: e.code, reason: e.reason });
      throw e;
    }
    c.set('caller', caller);
    await next();
  };
}
