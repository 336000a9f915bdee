/**
 * The committed DEV ONLY caller key (scripts/dev-keys/caller-dev-key.json): its public JWKS is
 * what the local config trusts, so the two halves must match and the set must pass the same
 * checks as any inline CALLER_JWKS.
 */
import { SignJWT, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { assertCallerJwks, createCallerKeySet } from '../../src/auth/keys';
import devKey from '../../scripts/dev-keys/caller-dev-key.json';
import { T0, createHarness } from './harness';

describe('dev caller key file', () => {
  it('is marked DEV ONLY and its public JWKS holds no private material', () => {
    expect(devKey.DEV_ONLY).toMatch(/never be configured as CALLER_JWKS in staging or production/);
    expect(() => assertCallerJwks(devKey.publicJwks, ['ES256'])).not.toThrow();
    expect(devKey.publicJwks.keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: devKey.privateJwk.x,
        y: devKey.privateJwk.y,
        kid: devKey.kid,
        alg: 'ES256',
        use: 'sig',
      },
    ]);
  });

  it('signs tokens that its public JWKS verifies', async () => {
    const key = await importJWK(devKey.privateJwk, 'ES256');
    const nowS = T0 / 1000;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: devKey.kid })
      .setIssuer('https://callers.test')
      .setAudience('ghes-token-gateway')
      .setSubject('svc-demo')
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 60)
      .sign(key);
    const keySet = createCallerKeySet({
      jwks: devKey.publicJwks,
      jwksUrl: undefined,
      algorithms: ['ES256'],
    });
    const h = createHarness({ keySet });
    expect((await h.bearer(token)).status).toBe(200);
  });
});
