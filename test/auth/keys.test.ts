import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { assertCallerJwks, createCallerKeySet } from '../../src/auth/keys';
import { ConfigurationError } from '../../src/lib/errors';
import { createTestCallerKeys, type TestCallerKeys } from '../helpers/caller';
import { JWKS_URL, createHarness, minterFor, problemOf } from './harness';

const keys = await createTestCallerKeys('remote-key-1');
const rotated = await createTestCallerKeys('remote-key-2');
const mint = (k: TestCallerKeys, header: Record<string, unknown> = {}) => minterFor(k)({}, header);

describe('inline key set checks', () => {
  const ec = () => ({ ...keys.publicJwk });

  it('accepts a public EC key set', () => {
    expect(() =>
      createCallerKeySet({ jwks: { keys: [ec()] }, jwksUrl: undefined, algorithms: ['ES256'] }),
    ).not.toThrow();
  });

  // Every key type a pinned algorithm can use (src/auth/keys.ts ALG_KTY), each with a real public key.
  it.each([
    ['EC', 'ES384'],
    ['RSA', 'PS256'],
    ['OKP', 'EdDSA'],
  ] as const)('accepts a public %s key for %s', async (kty, alg) => {
    const { publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: `k-${alg}`, alg };
    expect(jwk.kty).toBe(kty);
    expect(() => assertCallerJwks({ keys: [jwk] }, [alg])).not.toThrow();
    expect(() =>
      createCallerKeySet({ jwks: { keys: [jwk] }, jwksUrl: undefined, algorithms: [alg] }),
    ).not.toThrow();
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'a symmetric key',
      () => ({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 's' }] }),
      /key 0 is a symmetric key \(kty "oct"\)/,
    ],
    [
      'a symmetric key next to a good one',
      () => ({ keys: [{ ...keys.publicJwk }, { kty: 'oct', k: 'c2VjcmV0', kid: 's' }] }),
      /key 1 is a symmetric key/,
    ],
    [
      'private key material',
      () => ({ keys: [{ ...keys.publicJwk, d: 'AAAA' }] }),
      /key 0 contains private key material \("d"\)/,
    ],
    [
      'duplicate kids',
      () => ({ keys: [{ ...keys.publicJwk }, { ...rotated.publicJwk, kid: keys.kid }] }),
      /key 1 repeats kid "remote-key-1"/,
    ],
    [
      'several keys, one without kid',
      () => ({ keys: [{ ...keys.publicJwk }, { ...rotated.publicJwk, kid: undefined }] }),
      /key 1 has no "kid"/,
    ],
    [
      'an empty kid',
      () => ({ keys: [{ ...keys.publicJwk, kid: '' }] }),
      /"kid" that is not a non-empty string/,
    ],
    ['an unsupported kty', () => ({ keys: [{ kty: 'XYZ', kid: 'x' }] }), /unsupported kty/],
    ['no keys', () => ({ keys: [] }), /has no keys/],
    ['no keys array', () => ({ foo: 1 }), /must be an object with a "keys" array/],
    ['a non-object key', () => ({ keys: ['x'] }), /key 0 is not a JSON object/],
    ['null as a key', () => ({ keys: [ec(), null] }), /key 1 is not a JSON object/],
    // An array is an object to `typeof`, and reads as one without a kty.
    ['an array as a key', () => ({ keys: [['kty', 'EC']] }), /key 0 is not a JSON object/],
  ])('rejects %s', (_name, makeJwks, message) => {
    const jwks = makeJwks();
    expect(() => assertCallerJwks(jwks, ['ES256'])).toThrow(message);
    expect(() => assertCallerJwks(jwks, ['ES256'])).toThrow(ConfigurationError);
    expect(() =>
      createCallerKeySet({
        jwks: jwks as { keys: Record<string, unknown>[] },
        jwksUrl: undefined,
        algorithms: ['ES256'],
      }),
    ).toThrow(message);
  });

  it('rejects a set with no key usable with the pinned algorithms', () => {
    expect(() => assertCallerJwks({ keys: [ec()] }, ['RS256'])).toThrow(
      /no key usable with the configured algorithms \(RS256\)/,
    );
  });

  it('needs exactly one source', () => {
    expect(() =>
      createCallerKeySet({ jwks: undefined, jwksUrl: undefined, algorithms: ['ES256'] }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createCallerKeySet({ jwks: undefined, jwksUrl: undefined, algorithms: ['ES256'] }),
    ).toThrow(/exactly one/);
    expect(() =>
      createCallerKeySet({ jwks: { keys: [ec()] }, jwksUrl: JWKS_URL, algorithms: ['ES256'] }),
    ).toThrow(/exactly one/);
  });

  it('answers 500 misconfigured when an inline key cannot be imported', async () => {
    const broken = { ...keys.publicJwk, x: 'AAAA' };
    const h = createHarness({
      keySet: createCallerKeySet({
        jwks: { keys: [broken] },
        jwksUrl: undefined,
        algorithms: ['ES256'],
      }),
    });
    const res = await h.bearer(await mint(keys));
    expect(res.status).toBe(500);
    expect((await problemOf(res)).code).toBe('misconfigured');
    expect(h.seen).toEqual([]);
  });
});
