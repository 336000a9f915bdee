/**
 * Caller authentication: every internal endpoint is called by a service whose identity is
 * established here, before anything it sends is believed (trust boundary). Three sources, tried in
 * a fixed order; the first one whose credential is PRESENT decides, and its failure is final:
 *
 * 1. A caller JWT (`Authorization: Bearer <JWT>`, or `X-Gateway-Authorization` on routes where
 *    `Authorization` carries the end user's GitHub token) signed by the caller issuer.
 * 2. Cloudflare Access (src/auth/access.ts), only when configured: `Cf-Access-Jwt-Assertion`.
 * 3. An mTLS client certificate (src/auth/mtls.ts), only when configured: `request.cf.tlsClientAuth`.
 *
 * Why this order, and why no fallback:
 * - The Bearer JWT is the credential the caller chose to send with this request; Access
 *   assertions and client certificates are ambient (Access adds its header to every request of a
 *   session, a host presents its certificate on every connection). An explicit credential wins
 *   over ambient ones.
 * - A present but invalid credential is 401, full stop. Falling back would let an expired,
 *   revoked or forged Bearer token be "rescued" by whatever ambient identity the same host has,
 *   and the request would then run as a different `sub` (often a broader one) than the caller
 *   asked for. Presence is decided by the header being non-blank (any scheme) or by a certificate
 *   having been presented, never by whether the credential verifies.
 * - Access before mTLS: an Access assertion is a short-lived, audience-bound token whose signature
 *   the gateway checks itself; the mTLS identity rests on the edge's verdict in `request.cf` and a
 *   static fingerprint list.
 * Whatever the source, the resolved `sub` must have a CALLER_POLICY entry, else 403.
 *
 * Caller JWT verification (jose `jwtVerify`, RFC 7519 §7.2, RFC 8725):
 * - algorithms pinned to asymmetric ones; `none` and HS* are refused when the middleware is built
 *   (RFC 8725 §3.1–3.2: no algorithm confusion, no shared secret in every caller);
 * - `iss`, `aud`, `exp` and `sub` required; `nbf` and `iat` honoured when present (a future `iat`
 *   is refused like a future `nbf`); `iat` required and bounded when `maxTokenAgeS` > 0; clock
 *   skew bounded by `clockToleranceS` (at most 30 s);
 * - header `typ`, when present, must be `JWT` or `at+jwt` (RFC 8725 §3.11, explicit typing);
 * - any `crit` header is refused: we implement no JWS extensions, and a token that insists on one
 *   must not be accepted by a verifier that ignores it (RFC 7515 §4.1.11);
 * - embedded keys (`jwk`, `jku`, `x5u`, `x5c`) are never used: keys come only from the configured
 *   key set, selected by `kid`/`alg`; unknown `kid`s cost at most one key-set fetch per cool-down.
 *
 * Failures answer 401 with an RFC 6750 §3 challenge. No credential ever appears in the problem
 * body, the challenge, the logged reason or any log record.
 */
import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { MiddlewareHandler } from 'hono';
import {
  CALLER_ALGORITHMS,
  type AccessConfig,
  type CallerPolicyEntry,
  type GatewayConfig,
  type MtlsConfig,
} from '../config/types';
import { GatewayError, isGatewayError } from '../lib/errors';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { ACCESS_ASSERTION_HEADER, createAccessVerifier } from './access';
import {
  checkIssuedAt,
  checkProtectedHeader,
  invalidToken,
  mapJoseError,
  missingCredentials,
  quote,
} from './credential-errors';
import { resolveMtlsCaller } from './mtls';

export { CALLER_REALM } from './credential-errors';

/** Longest credential we try to verify; real caller JWTs are well under 2 KiB. */
export const MAX_CALLER_TOKEN_LENGTH = 8192;

/** Caller clock-skew allowance is capped here (RFC 8725 does not bound it; we keep it small). */
export const MAX_CLOCK_TOLERANCE_S = 30;

export interface CallerClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat?: number;
}

export type CallerSource = 'jwt' | 'access' | 'mtls';

interface CallerBase {
  /** The CALLER_POLICY key this request runs as. */
  readonly sub: string;
  readonly policy: Readonly<CallerPolicyEntry>;
}

/** Authenticated by a caller JWT; `sub` is the token's `sub`. */
export interface JwtCaller extends CallerBase {
  readonly source: 'jwt';
  readonly claims: CallerClaims;
}

/** Authenticated by Cloudflare Access; `sub` is what ACCESS_SUBJECTS maps `identity` to. */
export interface AccessCaller extends CallerBase {
  readonly source: 'access';
  readonly claims: CallerClaims;
  /** The Access identity that was mapped: email, service-token common_name, or sub. */
  readonly identity: string;
}

/** Authenticated by an mTLS client certificate; `sub` is what MTLS_CALLERS maps it to. */
export interface MtlsCaller extends CallerBase {
  readonly source: 'mtls';
  /** Normalized fingerprint that matched (64 hex: SHA-256, 40 hex: SHA-1). */
  readonly fingerprint: string;
}

/** An authenticated caller and its policy entry (from CALLER_POLICY, keyed by `sub`). */
export type Caller = JwtCaller | AccessCaller | MtlsCaller;

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
  /** Cloudflare Access as second identity source; off when undefined. */
  access?: { config: AccessConfig; keySet: JWTVerifyGetKey } | undefined;
  /** mTLS client certificates as third identity source; off when undefined. */
  mtls?: MtlsConfig | undefined;
}

const DEFAULT_CACHE_SIZE = 1000;
const DEFAULT_CACHE_TTL_S = 60;

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
  if (o.access !== undefined) {
    const { config, keySet } = o.access;
    if (typeof config?.teamDomain !== 'string' || !config.teamDomain.startsWith('https://'))
      fail('"access.config.teamDomain" must be an https origin');
    if (!Array.isArray(config.audience) || config.audience.length === 0)
      fail('"access.config.audience" must list at least one AUD tag');
    if (typeof config.subjects !== 'object' || config.subjects === null)
      fail('"access.config.subjects" must be an object');
    if (typeof keySet !== 'function')
      fail('"access.keySet" must be a key resolver (createAccessKeySet)');
  }
  if (o.mtls !== undefined && !(o.mtls.callers instanceof Map))
    fail('"mtls.callers" must be a Map of fingerprint to sub');
}

interface CacheEntry {
  caller: JwtCaller;
  /** Reuse only while `now` < this (ms). */
  until: number;
}

export type CallerVerifier = (token: string) => Promise<JwtCaller>;

/**
 * The caller-JWT verification behind the middleware, for code that finds the credential
 * elsewhere. Throws `GatewayError` `unauthorized` (401), `forbidden` (403, valid token but no
 * policy entry), or what the key set throws (503 `caller-keys-unavailable`, 500 `misconfigured`).
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

  return async function verifyCaller(token: string): Promise<JwtCaller> {
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
    checkProtectedHeader('caller-jwt', protectedHeader);
    const { sub, iss, aud, exp, iat } = payload;
    checkIssuedAt('caller-jwt', iat, nowMs, tolerance);
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
    const caller: JwtCaller = Object.freeze({ source: 'jwt' as const, sub, policy: entry, claims });

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

/** Non-blank header value, or undefined. */
function present(headers: Headers, name: string): string | undefined {
  const value = headers.get(name);
  return value === null || value.trim() === '' ? undefined : value;
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
  const { log, mtls, policy } = options;
  const verifyAccess =
    options.access === undefined
      ? undefined
      : createAccessVerifier({
          config: options.access.config,
          keySet: options.access.keySet,
          clockToleranceS: options.clockToleranceS,
          policy,
          now: options.now ?? Date.now,
        });

  return async function callerAuthMiddleware(c, next) {
    let caller: Caller;
    // Which source decided, for the failure log ('none': no credential of any kind).
    let source: CallerSource | 'none' = 'jwt';
    try {
      const headers = c.req.raw.headers;
      const credentials = present(headers, headerName);
      const assertion =
        verifyAccess === undefined ? undefined : present(headers, ACCESS_ASSERTION_HEADER);
      if (credentials !== undefined) {
        // The common case first: one regex on the hot path, diagnosis only when it fails.
        const match = BEARER.exec(credentials);
        if (match === null) {
          if (!BEARER_SCHEME.test(credentials))
            throw missingCredentials(`${headerName} header does not use the Bearer scheme`);
          throw invalidToken(
            'malformed bearer credentials',
            `${headerName} header is not "Bearer <token>"`,
          );
        }
        caller = await verify(match[1] as string);
      } else if (verifyAccess !== undefined && assertion !== undefined) {
        source = 'access';
        caller = await verifyAccess(assertion.trim());
      } else {
        source = 'mtls';
        const viaCertificate =
          mtls === undefined ? undefined : resolveMtlsCaller(c.req.raw.cf, mtls, policy);
        if (viaCertificate === undefined) {
          source = 'none';
          throw missingCredentials(`no ${headerName} header`);
        }
        caller = viaCertificate;
      }
    } catch (e) {
      if (isGatewayError(e))
        log({ level: 'info', event: 'caller.auth_failed', source, code: e.code, reason: e.reason });
      throw e;
    }
    c.set('caller', caller);
    await next();
  };
}

/** What `callerAuthOptions` needs; `GatewayDeps` (src/app.ts) has all of it. */
export interface CallerAuthDeps {
  config: { caller: GatewayConfig['caller'] };
  callerKeySet: JWTVerifyGetKey;
  /** Built by `createAccessKeySet` when Access is configured (one per isolate). */
  accessKeySet?: JWTVerifyGetKey | undefined;
  log: Logger;
  clock: Pick<Clock, 'now'>;
}

/**
 * The options every route group passes to `callerAuth`, from the parsed config, so that a new
 * identity source reaches every route at once. Throws when Access is configured but its key set
 * was not built (a wiring error; the gateway then answers `misconfigured`).
 */
export function callerAuthOptions(
  deps: CallerAuthDeps,
  header: CallerCredentialHeader = 'authorization',
): CallerAuthOptions {
  const caller = deps.config.caller;
  if (caller.access !== undefined && deps.accessKeySet === undefined)
    throw new Error('callerAuth: Cloudflare Access is configured but no Access key set was built');
  return {
    issuer: caller.issuer,
    audience: caller.audience,
    algorithms: caller.algorithms,
    keySet: deps.callerKeySet,
    clockToleranceS: caller.clockToleranceS,
    maxTokenAgeS: caller.maxTokenAgeS,
    header,
    policy: caller.policy,
    log: deps.log,
    now: () => deps.clock.now(),
    access:
      caller.access === undefined || deps.accessKeySet === undefined
        ? undefined
        : { config: caller.access, keySet: deps.accessKeySet },
    mtls: caller.mtls,
  };
}
