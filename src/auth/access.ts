/**
 * Cloudflare Access as a caller identity source (off unless ACCESS_TEAM_DOMAIN, ACCESS_AUD and
 * ACCESS_SUBJECTS are set). When the gateway's hostname sits behind an Access application, Access
 * authenticates the caller (a person through the IdP, or a service token) and adds a signed
 * application token in `Cf-Access-Jwt-Assertion` to the request it passes on.
 *
 * Trust boundary: the header is only as good as its signature. Anyone who reaches the Worker
 * without going through Access can send the header, so it is verified here like any other JWT:
 * - keys only from the team's certs endpoint (`<team domain>/cdn-cgi/access/certs`), fetched with
 *   the same timeout, size limit, cool-down, back-off and single-flight as the caller JWKS;
 * - `alg` pinned to RS256, the algorithm Access signs with;
 * - `iss` must be the team domain and `aud` one of the configured application AUD tags, so a token
 *   Access issued for another application of the same team is refused;
 * - `exp` required, a future `nbf` or `iat` refused, the caller clock tolerance applies; `typ` and `crit` are
 *   checked as for caller JWTs.
 * The identity is the token's `email` (people), else `common_name` (service tokens, whose `sub`
 * is empty), else `sub`; the first of these that ACCESS_SUBJECTS maps decides the policy `sub`.
 * Matching is exact: an identity that is not mapped is authenticated but not allowed (403).
 */
import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AccessConfig, CallerPolicyEntry } from '../config/types';
import { GatewayError, isGatewayError } from '../lib/errors';
import type { AccessCaller, CallerClaims } from './caller-auth';
import {
  checkIssuedAt,
  checkProtectedHeader,
  invalidCredential,
  mapJoseError,
  quote,
} from './credential-errors';
import { createCallerKeySet, type CallerKeySetOptions } from './keys';

/** Request header Access sets on the requests it lets through (lower case, as Headers reads it). */
export const ACCESS_ASSERTION_HEADER = 'cf-access-jwt-assertion';

/** Access signs application tokens with RS256 keys from the team's certs endpoint. */
export const ACCESS_ALGORITHMS: readonly string[] = ['RS256'];

/** Longest assertion we try to verify; real ones are 1–2 KiB. */
export const MAX_ACCESS_ASSERTION_LENGTH = 8192;

/** The team's public keys (JWKS): `https://<team>.cloudflareaccess.com/cdn-cgi/access/certs`. */
export function accessCertsUrl(teamDomain: string): string {
  return `${teamDomain.replace(/\/+$/, '')}/cdn-cgi/access/certs`;
}

/** One per isolate, shared by every `callerAuth` instance (like the caller key set). */
export function createAccessKeySet(
  config: Pick<AccessConfig, 'teamDomain'>,
  options: CallerKeySetOptions = {},
): JWTVerifyGetKey {
  return createCallerKeySet(
    {
      jwks: undefined,
      jwksUrl: accessCertsUrl(config.teamDomain),
      algorithms: [...ACCESS_ALGORITHMS],
    },
    options,
  );
}

export interface AccessVerifierOptions {
  config: AccessConfig;
  keySet: JWTVerifyGetKey;
  clockToleranceS: number;
  policy: Readonly<Record<string, CallerPolicyEntry>>;
  /** Clock in ms since the epoch. */
  now: () => number;
}

export type AccessVerifier = (assertion: string) => Promise<AccessCaller>;

/** Identity claims in the order they are tried against ACCESS_SUBJECTS. */
const IDENTITY_CLAIMS = ['email', 'common_name', 'sub'] as const;

/**
 * Throws `GatewayError` `unauthorized` (401, bad assertion), `forbidden` (403, valid assertion
 * whose identity has no mapping or policy), or what the key set throws (503
 * `caller-keys-unavailable` when the certs cannot be fetched: fail closed).
 */
export function createAccessVerifier(options: AccessVerifierOptions): AccessVerifier {
  const { config, keySet, policy, now } = options;
  const verifyOptions = {
    algorithms: [...ACCESS_ALGORITHMS],
    issuer: config.teamDomain,
    audience: [...config.audience],
    requiredClaims: ['iss', 'aud', 'exp'],
    clockTolerance: options.clockToleranceS,
  };

  return async function verifyAccessAssertion(assertion: string): Promise<AccessCaller> {
    if (assertion.length > MAX_ACCESS_ASSERTION_LENGTH)
      throw invalidCredential(
        'access',
        'malformed token',
        `Access JWT longer than ${MAX_ACCESS_ASSERTION_LENGTH} characters`,
      );
    const nowMs = now();
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(assertion, keySet, {
        ...verifyOptions,
        currentDate: new Date(nowMs),
      });
    } catch (e) {
      if (isGatewayError(e)) throw e;
      if (e instanceof joseErrors.JOSEError) throw mapJoseError(e, assertion, 'access');
      throw e;
    }
    const { payload, protectedHeader } = verified;
    checkProtectedHeader('access', protectedHeader);
    checkIssuedAt('access', payload.iat, nowMs, options.clockToleranceS);

    const candidates = IDENTITY_CLAIMS.map((claim) => payload[claim]).filter(
      (v): v is string => typeof v === 'string' && v.length > 0,
    );
    const identity = candidates.find((c) => Object.hasOwn(config.subjects, c));
    if (identity === undefined)
      throw new GatewayError('forbidden', {
        detail: 'This Cloudflare Access identity has no access policy.',
        reason: `Access JWT valid but identity ${quote(candidates[0] ?? '(none)')} is not in ACCESS_SUBJECTS`,
      });
    const sub = config.subjects[identity] as string;
    // The config parser checks every mapped sub has a policy; checked again as the last line.
    if (!Object.hasOwn(policy, sub))
      throw new GatewayError('forbidden', {
        detail: `caller ${quote(sub)} has no access policy.`,
        reason: `ACCESS_SUBJECTS maps ${quote(identity)} to ${quote(sub)}, which has no CALLER_POLICY entry`,
      });

    const { iss, aud, exp, iat } = payload;
    const claims: CallerClaims = Object.freeze({
      iss: iss as string,
      aud: Array.isArray(aud) ? Object.freeze([...aud]) : (aud as string),
      exp: exp as number,
      ...(typeof iat === 'number' ? { iat } : {}),
    });
    return Object.freeze({
      source: 'access' as const,
      sub,
      policy: policy[sub] as CallerPolicyEntry,
      identity,
      claims,
    });
  };
}
