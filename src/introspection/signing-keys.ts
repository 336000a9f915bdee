/**
 * The RFC 9701 signing keys (INTROSPECTION_SIGNING_KEYS): validated once when the gateway is
 * built, and their public halves for `/.well-known/jwks.json`. Pure; no key is imported here.
 *
 * Rotation (RFC 7517 §5, RFC 9701 §5): the first key signs, every key is published. Add the new
 * key second, wait until verifiers have refetched the JWKS, move it first, and drop the old key
 * once no answer signed by it is still being relied on.
 *
 * Trust boundary: the input is private key material. Errors name the key by position and `kid`
 * only, never a key member, because they end up in the configuration log line. The public JWK is
 * built from an allow-list of public members, so a private member (`d`, `p`, `q`, `dp`, `dq`,
 * `qi`, `oth`, or `k` of a symmetric key) can never be published.
 */
import type { JWK } from 'jose';
import { ConfigurationError } from '../lib/errors';

export const SIGNING_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** A public JWK as published: public members only, plus `kid`, `alg` and `use`. */
export type PublicJwk = PublicMembers & { kid: string; alg: SigningAlgorithm; use: 'sig' };

type PublicMembers =
  | { kty: 'EC'; crv: string; x: string; y: string }
  | { kty: 'OKP'; crv: 'Ed25519'; x: string }
  | { kty: 'RSA'; n: string; e: string };

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** The private JWK as configured, for the signer alone. */
  privateJwk: JWK;
  publicJwk: PublicJwk;
}

/** Bounds a JWKS response and the work of validating configuration. */
export const MAX_SIGNING_KEYS = 10;

const EC_CURVES: Record<string, SigningAlgorithm> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};

/** RFC 7518 §3.3: RSA keys of at least 2048 bits; base64url of 256 bytes is 342 characters. */
const MIN_RSA_MODULUS_B64 = 342;

const KID = /^[\x21-\x7e]{1,128}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

function isB64url(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && B64URL.test(v);
}

function fail(index: number, kid: unknown, message: string): never {
  const name = typeof kid === 'string' && KID.test(kid) ? ` (kid "${kid}")` : '';
  throw new ConfigurationError(`INTROSPECTION_SIGNING_KEYS.${index}${name}`, message);
}

function checkAlg(
  index: number,
  kid: unknown,
  alg: unknown,
  allowed: readonly SigningAlgorithm[],
  fallback: SigningAlgorithm,
): SigningAlgorithm {
  if (alg === undefined) return fallback;
  if (typeof alg !== 'string' || !(allowed as readonly string[]).includes(alg))
    fail(index, kid, `"alg" must be one of ${allowed.join(', ')} for this key type`);
  return alg as SigningAlgorithm;
}

/** Validates one configured private JWK and derives its algorithm and public half. */
export function parseSigningKey(jwk: Record<string, unknown>, index: number): SigningKey {
  const { kid, kty } = jwk;
  if (typeof kid !== 'string' || !KID.test(kid))
    fail(index, kid, '"kid" must be 1 to 128 printable ASCII characters');
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') fail(index, kid, '"use" must be "sig"');
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('sign')))
    fail(index, kid, '"key_ops" must include "sign"');
  if (!isB64url(jwk['d'])) fail(index, kid, 'the private member "d" is missing');

  let alg: SigningAlgorithm;
  let publicMembers: PublicMembers;
  const { x, y, n, e } = jwk;
  switch (kty) {
    case 'EC': {
      const crv = jwk['crv'];
      const byCurve = typeof crv === 'string' ? EC_CURVES[crv] : undefined;
      if (byCurve === undefined) fail(index, kid, '"crv" must be P-256, P-384 or P-521');
      if (!isB64url(x) || !isB64url(y)) fail(index, kid, '"x" and "y" must be base64url');
      alg = checkAlg(index, kid, jwk['alg'], [byCurve], byCurve);
      publicMembers = { kty, crv: crv as string, x, y };
      break;
    }
    case 'OKP': {
      if (jwk['crv'] !== 'Ed25519') fail(index, kid, '"crv" must be Ed25519');
      if (!isB64url(x)) fail(index, kid, '"x" must be base64url');
      alg = checkAlg(index, kid, jwk['alg'], ['EdDSA', 'Ed25519'], 'EdDSA');
      publicMembers = { kty, crv: 'Ed25519', x };
      break;
    }
    case 'RSA': {
      if (!isB64url(n) || !isB64url(e)) fail(index, kid, '"n" and "e" must be base64url');
      if (n.length < MIN_RSA_MODULUS_B64)
        fail(index, kid, 'RSA keys must have a modulus of at least 2048 bits');
      alg = checkAlg(
        index,
        kid,
        jwk['alg'],
        ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
        'RS256',
      );
      publicMembers = { kty, n, e };
      break;
    }
    case 'oct':
      // A shared secret cannot be published for verifiers, and anyone who can verify could sign.
      return fail(index, kid, 'symmetric ("oct") keys cannot sign introspection answers');
    default:
      return fail(index, kid, '"kty" must be EC, OKP or RSA');
  }
  return {
    kid,
    alg,
    privateJwk: { ...(jwk as JWK), alg },
    publicJwk: { ...publicMembers, kid, alg, use: 'sig' },
  };
}

/**
 * Validates the configured keys (the first one signs). Throws a ConfigurationError naming the offending key;
 * an empty list is valid and turns RFC 9701 answers off.
 */
export function parseSigningKeys(jwks: readonly Record<string, unknown>[]): SigningKey[] {
  if (jwks.length > MAX_SIGNING_KEYS)
    throw new ConfigurationError('INTROSPECTION_SIGNING_KEYS', `at most ${MAX_SIGNING_KEYS} keys`);
  const keys = jwks.map((jwk, i) => parseSigningKey(jwk, i));
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    // RFC 7517 §4.5: verifiers pick the key by `kid`; two keys with one `kid` would be ambiguous.
    if (seen.has(k.kid)) fail(i, k.kid, 'duplicate "kid"');
    seen.add(k.kid);
  });
  return keys;
}
