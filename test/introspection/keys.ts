/**
 * RFC 9701 signing keys for tests: fresh private JWKs with a `kid`, as INTROSPECTION_SIGNING_KEYS
 * holds them.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export type TestSigningAlg = 'ES256' | 'ES384' | 'EdDSA' | 'RS256' | 'PS256';

/** Members that only a private JWK has (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2). */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export async function createSigningJwk(kid: string, alg: TestSigningAlg = 'ES256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' && { crv: 'Ed25519' }),
  });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

/** Vars for createTestGateway: the given keys as INTROSPECTION_SIGNING_KEYS (a JWK set). */
export function signingVars(keys: JWK[], publicUrl?: string): Record<string, string> {
  return {
    INTROSPECTION_SIGNING_KEYS: JSON.stringify({ keys }),
    ...(publicUrl !== undefined && { PUBLIC_URL: publicUrl }),
  };
}

/**
 * The EC key with x and y swapped: still well-formed base64url of the right length, so it passes
 * configuration checks, but not a point on the curve, so WebCrypto refuses to import it.
 */
export function offCurve(jwk: JWK): JWK {
  if (jwk.x === undefined || jwk.y === undefined) throw new Error('offCurve needs an EC key');
  return { ...jwk, x: jwk.y, y: jwk.x };
}
