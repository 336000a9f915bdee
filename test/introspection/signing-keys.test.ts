import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/lib/errors';
import { parseSigningKey, parseSigningKeys } from '../../src/introspection/signing-keys';
import { createSigningJwk, PRIVATE_MEMBERS } from './keys';

async function ec(kid = 'k') {
  return (await createSigningJwk(kid, 'ES256')) as Record<string, unknown>;
}

describe('parseSigningKey', () => {
  it('derives the algorithm from the key when alg is absent', async () => {
    const { alg: _a, ...withoutAlg } = await ec();
    expect(parseSigningKey(withoutAlg, 0).alg).toBe('ES256');
    const { alg: _b, ...rsa } = (await createSigningJwk('r', 'RS256')) as Record<string, unknown>;
    expect(parseSigningKey(rsa, 0).alg).toBe('RS256');
    const { alg: _c, ...ed } = (await createSigningJwk('e', 'EdDSA')) as Record<string, unknown>;
    expect(parseSigningKey(ed, 0).alg).toBe('EdDSA');
  });

  it('builds the public half from public members only', async () => {
    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as const) {
      const jwk = (await createSigningJwk(`k-${alg}`, alg)) as Record<string, unknown>;
      const { publicJwk } = parseSigningKey({ ...jwk, x5c: ['cert'], ext: true, extra: 'x' }, 0);
      for (const member of PRIVATE_MEMBERS)
        expect(publicJwk, `${alg} ${member}`).not.toHaveProperty(member);
      expect(Object.keys(publicJwk).sort(), alg).toStrictEqual(
        (jwk['kty'] === 'RSA'
          ? ['kty', 'n', 'e']
          : jwk['kty'] === 'EC'
            ? ['kty', 'crv', 'x', 'y']
            : ['kty', 'crv', 'x']
        )
          .concat(['kid', 'alg', 'use'])
          .sort(),
      );
    }
  });

  it('refuses keys that cannot sign or cannot be published, naming the key and not its material', async () => {
    const good = await ec('named');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kty: 'oct', kid: 'named', k: 'c2VjcmV0', d: 'x' }, /symmetric/],
      [{ ...good, d: undefined }, /private member "d"/],
      [{ ...good, kid: '' }, /"kid"/],
      [{ ...good, kid: 'has space' }, /"kid"/],
      [{ ...good, alg: 'RS256' }, /"alg" must be one of ES256/],
      [{ ...good, alg: 'none' }, /"alg"/],
      [{ ...good, crv: 'secp256k1' }, /"crv"/],
      [{ ...good, use: 'enc' }, /"use" must be "sig"/],
      [{ ...good, key_ops: ['verify'] }, /"key_ops"/],
      [{ ...good, kty: 'OKP', crv: 'Ed448' }, /"crv" must be Ed25519/],
      [{ ...good, kty: 'XYZ' }, /"kty"/],
      [{ kty: 'RSA', kid: 'named', n: 'AQAB', e: 'AQAB', d: 'AQAB' }, /2048 bits/],
    ];
    for (const [jwk, message] of cases) {
      const call = () =>
        parseSigningKey(JSON.parse(JSON.stringify(jwk)) as Record<string, unknown>, 3);
      expect(call, JSON.stringify(message.source)).toThrow(message);
      expect(call).toThrow(ConfigurationError);
      expect(call).toThrow(/^INTROSPECTION_SIGNING_KEYS\.3/);
      expect(call).not.toThrow(String(good['d']));
    }
  });
});

describe('parseSigningKeys', () => {
  it('keeps the configured order (first signs) and accepts an empty list', async () => {
    const keys = parseSigningKeys([await ec('a'), await ec('b')]);
    expect(keys.map((k) => k.kid)).toStrictEqual(['a', 'b']);
    expect(parseSigningKeys([])).toStrictEqual([]);
  });

  it('refuses duplicate kids and more than ten keys', async () => {
    const key = await ec('same');
    expect(() => parseSigningKeys([key, { ...key }])).toThrow(
      /INTROSPECTION_SIGNING_KEYS\.1 \(kid "same"\): duplicate/,
    );
    const many = await Promise.all(Array.from({ length: 11 }, (_, i) => ec(`k${i}`)));
    expect(() => parseSigningKeys(many)).toThrow(/at most 10/);
  });
});
