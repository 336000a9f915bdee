/**
 * Cloudflare Access as a caller identity source (when ACCESS_TEAM_DOMAIN, ACCESS_AUD and
 * ACCESS_SUBJECTS are set): Access adds a signed application token, `Cf-Access-Jwt-Assertion`, to
 * the requests it lets through. Anyone who bypasses Access can send that header too, so it is
 * verified like a caller JWT: keys only from the team's certs endpoint, RS256 only, `iss` = the
 * team domain, `aud` one of our AUD tags (not another application of the same team), `exp` required.
 * The identity is `email` (people), else `common_name` (service tokens), else `sub`; the first one
 * ACCESS_SUBJECTS maps exactly is the policy `sub`; an unmapped identity gets 403.
 */
import type { JWTVerifyGetKey } from 'jose';
import type { AccessConfig, CallerPolicyEntry } from '../config/types';
import { GatewayError } from '../lib/errors';
import type { AccessCaller } from './caller';
import { callerClaims, verifySignedJwt } from './jwt';
import { invalidCredential, quote } from './credential-errors';
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
    const payload = await verifySignedJwt('access', assertion, keySet, verifyOptions, now());
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

    return Object.freeze({
      source: 'access' as const,
      sub,
      policy: policy[sub] as CallerPolicyEntry,
      identity,
      claims: callerClaims(payload),
    });
  };
}
