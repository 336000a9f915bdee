import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/lib/errors';
import { INACTIVE } from '../../src/introspection/response';
import { IntrospectionSigner, signerFor } from '../../src/introspection/signer';
import { createSigningJwk, offCurve } from './keys';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

describe('IntrospectionSigner', () => {
  it('signs with the first key and verifies against its own published key set', async () => {
    const signer = new IntrospectionSigner([
      await createSigningJwk('first'),
      await createSigningJwk('second', 'RS256'),
    ]);

    const jwt = await signer.sign({
      issuer: 'https://gw',
      audience: 'svc',
      response: INACTIVE,
      nowMs: NOW,
    });

    const { payload, protectedHeader } = await jwtVerify(
      jwt,
      createLocalJWKSet(signer.publicJwks()),
      {
        issuer: 'https://gw',
        audience: 'svc',
        typ: 'token-introspection+jwt',
        currentDate: new Date(NOW),
      },
    );
    expect(protectedHeader).toStrictEqual({
      alg: 'ES256',
      kid: 'first',
      typ: 'token-introspection+jwt',
    });
    expect(payload).toStrictEqual({
      iss: 'https://gw',
      aud: 'svc',
      iat: NOW / 1000,
      token_introspection: { active: false },
    });
    expect(signer.algorithms()).toStrictEqual(['ES256', 'RS256']);
  });

  it('signs repeatedly with the key it imported once', async () => {
    const signer = new IntrospectionSigner([await createSigningJwk('only')]);
    const jwks = createLocalJWKSet(signer.publicJwks());
    const answers = await Promise.all(
      [0, 1, 2].map((i) =>
        signer.sign({ issuer: 'i', audience: 'a', response: INACTIVE, nowMs: NOW + i * 1000 }),
      ),
    );
    for (const jwt of answers)
      await expect(jwtVerify(jwt, jwks, { currentDate: new Date(NOW) })).resolves.toBeDefined();
  });

  it('cannot sign without keys, and says so as not-acceptable', async () => {
    const signer = new IntrospectionSigner([]);
    expect(signer.canSign).toBe(false);
    expect(signer.publicJwks()).toStrictEqual({ keys: [] });
    const failure = await signer
      .sign({ issuer: 'i', audience: 'a', response: INACTIVE, nowMs: NOW })
      .catch((e: unknown) => e);
    expect(isGatewayError(failure) && failure.code).toBe('not-acceptable');
  });

  it('reports a key WebCrypto refuses as misconfigured, without its private member', async () => {
    const good = await createSigningJwk('bad');
    const signer = new IntrospectionSigner([offCurve(good)]);

    const failure = await signer
      .sign({ issuer: 'i', audience: 'a', response: INACTIVE, nowMs: NOW })
      .catch((e: unknown) => e);

    expect(isGatewayError(failure) && failure.code).toBe('misconfigured');
    expect(isGatewayError(failure) && failure.reason).toMatch(/kid "bad"/);
    expect(
      JSON.stringify(isGatewayError(failure) && [failure.reason, failure.detail]),
    ).not.toContain(String(good.d));
  });
});

describe('signerFor', () => {
  it('builds one signer per configuration object', async () => {
    const config = { signingKeys: [await createSigningJwk('k')] };
    expect(signerFor(config)).toBe(signerFor(config));
    expect(signerFor({ signingKeys: config.signingKeys })).not.toBe(signerFor(config));
  });
});
