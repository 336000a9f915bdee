/**
 * Test caller key material and JWT minting, including the malformed and hostile tokens the caller
 * authentication must refuse. Tokens are signed by hand (WebCrypto over the JWS signing input,
 * RFC 7515 §5.1) rather than with jose's SignJWT, so that headers jose would refuse to produce
 * (`crit`, `alg: none`, HS256 with a public key) can still be built.
 */
import { base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export const TEST_CALLER_ISSUER = 'https://callers.test';
export const TEST_CALLER_AUDIENCE = 'ghes-token-gateway';
export const TEST_CALLER_SUB = 'svc-demo';
export const TEST_CALLER_KID = 'test-caller-key-1';

export interface TestCallerKeys {
  kid: string;
  alg: 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK with `kid`, `alg` and `use`. */
  publicJwk: JWK;
  /** `{ keys: [publicJwk] }`, as CALLER_JWKS or a JWKS endpoint would hold it. */
  jwks: { keys: JWK[] };
}

export async function createTestCallerKeys(kid: string = TEST_CALLER_KID): Promise<TestCallerKeys> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, alg: 'ES256', privateKey, publicKey, publicJwk, jwks: { keys: [publicJwk] } };
}

/** Caller-config vars (src/config) that trust `keys`; CALLER_POLICY is left to the test. */
export function testCallerVars(keys: TestCallerKeys | TestCallerKeys[]): Record<string, string> {
  const list = Array.isArray(keys) ? keys : [keys];
  return {
    CALLER_ISSUER: TEST_CALLER_ISSUER,
    CALLER_AUDIENCE: TEST_CALLER_AUDIENCE,
    CALLER_ALGORITHMS: JSON.stringify(['ES256']),
    CALLER_JWKS: JSON.stringify({ keys: list.map((k) => k.publicJwk) }),
  };
}

/** Claim or header overrides; a value of `undefined` removes the default. */
export type Overrides = Record<string, unknown>;

export interface MintOptions {
  /** Clock in ms for `iat`/`exp` defaults. Default `Date.now()`. */
  now?: number;
  /** `exp` = now + ttlS. Default 300. */
  ttlS?: number;
}

export function defaultCallerClaims(options: MintOptions = {}): Record<string, unknown> {
  const nowS = Math.floor((options.now ?? Date.now()) / 1000);
  return {
    iss: TEST_CALLER_ISSUER,
    aud: TEST_CALLER_AUDIENCE,
    sub: TEST_CALLER_SUB,
    iat: nowS,
    exp: nowS + (options.ttlS ?? 300),
  };
}

/** `base` with `overrides` applied; an override of `undefined` removes the key. */
export function withOverrides(
  base: Record<string, unknown>,
  overrides: Overrides,
): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

const encoder = new TextEncoder();

function encodePart(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** Compact JWS from arbitrary header and payload, signed by `sign` over the signing input. */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  sign: (input: Uint8Array) => Promise<Uint8Array>,
): Promise<string> {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  const signature = await sign(encoder.encode(input));
  return `${input}.${base64url.encode(signature)}`;
}

/** ES256 signer (WebCrypto produces the IEEE P1363 r‖s form that JWS uses, RFC 7518 §3.4). */
export function es256Signer(privateKey: CryptoKey): (input: Uint8Array) => Promise<Uint8Array> {
  return async (input) =>
    new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, input));
}

/**
 * A well-formed caller JWT; override claims or header fields, or drop them with `undefined`.
 * `options` may be the clock in ms alone.
 */
export async function mintCallerJwt(
  keys: TestCallerKeys,
  claims: Overrides = {},
  header: Overrides = {},
  options: MintOptions | number = {},
): Promise<string> {
  return signCompact(
    withOverrides({ alg: 'ES256', typ: 'JWT', kid: keys.kid }, header),
    withOverrides(
      defaultCallerClaims(typeof options === 'number' ? { now: options } : options),
      claims,
    ),
    es256Signer(keys.privateKey),
  );
}

/** `alg: none` with an empty signature (RFC 7519 §6.1), the classic downgrade. */
export function unsecuredCallerJwt(claims: Overrides = {}, options: MintOptions = {}): string {
  const input = `${encodePart({ alg: 'none', typ: 'JWT' })}.${encodePart(withOverrides(defaultCallerClaims(options), claims))}`;
  return `${input}.`;
}

/**
 * HS256 "signed" with the caller's public key (its SPKI PEM text) as the HMAC secret: accepted by
 * a verifier that lets the token choose the algorithm for a key it loaded as bytes.
 */
export async function hs256WithPublicKey(
  keys: TestCallerKeys,
  claims: Overrides = {},
  options: MintOptions = {},
): Promise<string> {
  const pem = await exportSPKI(keys.publicKey);
  const hmacKey = await crypto.subtle.importKey(
    'raw',
    encoder.encode(pem),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return signCompact(
    { alg: 'HS256', typ: 'JWT', kid: keys.kid },
    withOverrides(defaultCallerClaims(options), claims),
    async (input) => new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, input)),
  );
}

/**
 * Signed by an attacker's own key, which it embeds in the header (`jwk`), under our `kid`: must
 * fail because keys come only from the configured set.
 */
export async function embeddedJwkCallerJwt(
  keys: TestCallerKeys,
  claims: Overrides = {},
  options: MintOptions = {},
): Promise<string> {
  const attacker = await createTestCallerKeys(keys.kid);
  const { kid: _kid, alg: _alg, use: _use, ...jwk } = attacker.publicJwk;
  return mintCallerJwt(attacker, claims, { jwk }, options);
}

/** Replaces the payload of a signed token, keeping its header and signature. */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split('.') as [string, string, string];
  return `${header}.${encodePart(payload)}.${signature}`;
}
