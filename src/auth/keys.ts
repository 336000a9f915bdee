/**
 * The key set that caller JWTs are verified against: an inline JWKS (CALLER_JWKS), resolved by
 * jose's `createLocalJWKSet`, or a remote one (CALLER_JWKS_URL, src/auth/remote-jwks.ts).
 *
 * Trust boundary: the keys decide who may call the gateway. Inline sets are checked strictly when
 * the gateway starts.
 *
 * Failure semantics (fail closed, but say whose fault it is):
 * - the token names no key we have, or more than one key matches it → jose's
 *   `JWKSNoMatchingKey` / `JWKSMultipleMatchingKeys` propagate and the middleware answers 401;
 * - the remote key set cannot be fetched → 503 `caller-keys-unavailable` (remote-jwks.ts);
 * - an inline key set that jose cannot use at request time → 500 `misconfigured`.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ConfigurationError, GatewayError } from '../lib/errors';
import type { GatewayConfig } from '../config/types';
import {
  createRemoteKeySet,
  describeError,
  isKeySelectionError,
  type CallerKeySetOptions,
} from './remote-jwks';

export type { CallerKeySetOptions } from './remote-jwks';
export type CallerKeyConfig = Pick<GatewayConfig['caller'], 'jwks' | 'jwksUrl' | 'algorithms'>;

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
 * Checks an inline caller JWKS and throws a ConfigurationError naming the first problem. Rules:
 * - only asymmetric public keys (`kty` EC, RSA or OKP); a symmetric `oct` key would let anyone who
 *   can read the config mint caller tokens, and HS* is never accepted anyway;
 * - no private members: the gateway verifies, it never signs caller tokens;
 * - `kid`s are unique, and present whenever the set has more than one key, so that every token
 *   maps to exactly one key (RFC 7517 §4.5) and rotation is explicit;
 * - at least one key is usable with the pinned algorithms.
 */
export function assertCallerJwks(jwks: unknown, algorithms: readonly string[]): void {
  const invalid = (message: string) => new ConfigurationError('CALLER_JWKS', message);
  if (
    typeof jwks !== 'object' ||
    jwks === null ||
    !Array.isArray((jwks as { keys?: unknown }).keys)
  )
    throw invalid('must be an object with a "keys" array');
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0) throw invalid('has no keys');
  const kids = new Set<string>();
  const usableKty = new Set(algorithms.map((a) => ALG_KTY[a]).filter((k) => k !== undefined));
  let usable = false;
  keys.forEach((key, i) => {
    const where = `key ${i}`;
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      throw invalid(`${where} is not a JSON object`);
    const jwk = key as Record<string, unknown>;
    if (jwk['kty'] === 'oct')
      throw invalid(`${where} is a symmetric key (kty "oct"); only public EC, RSA or OKP keys`);
    if (jwk['kty'] !== 'EC' && jwk['kty'] !== 'RSA' && jwk['kty'] !== 'OKP')
      throw invalid(`${where} has unsupported kty; only public EC, RSA or OKP keys`);
    for (const member of SECRET_MEMBERS) {
      if (member in jwk) throw invalid(`${where} contains private key material ("${member}")`);
    }
    const kid = jwk['kid'];
    if (kid === undefined) {
      if (keys.length > 1)
        throw invalid(`${where} has no "kid"; a set of several keys needs one each`);
    } else if (typeof kid !== 'string' || kid.length === 0) {
      throw invalid(`${where} has a "kid" that is not a non-empty string`);
    } else if (kids.has(kid)) {
      throw invalid(`${where} repeats kid "${kid}"; kids must be unique`);
    } else {
      kids.add(kid);
    }
    if (usableKty.has(jwk['kty'])) usable = true;
  });
  if (!usable)
    throw invalid(`has no key usable with the configured algorithms (${algorithms.join(', ')})`);
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
    throw new ConfigurationError(
      'createCallerKeySet',
      'needs exactly one of jwks (inline) and jwksUrl',
    );

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

  return createRemoteKeySet(config.jwksUrl as string, options);
}
