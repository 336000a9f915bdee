import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { DEMO_OAUTH_CLIENT_ID } from '../../emulator/index';
import { createTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway';
import {
  createSigningJwk,
  offCurve,
  signingVars,
  type TestSigningAlg,
} from '../introspection/keys';
import { introspect, problemOf } from '../introspection/requests';

const JWT_TYPE = 'application/token-introspection+jwt';
const START_S = Date.UTC(2026, 10, 21, 12, 0, 0) / 1000;

function seedToken(gw: TestGateway): string {
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('the test gateway runs the demo seed');
  return seed.tokens.octocatOauth;
}

async function gatewayWithKeys(
  kids: [string, TestSigningAlg][],
  options: TestGatewayOptions & { publicUrl?: string } = {},
) {
  const keys = await Promise.all(kids.map(([kid, alg]) => createSigningJwk(kid, alg)));
  const { publicUrl, ...rest } = options;
  return createTestGateway({ ...rest, vars: { ...rest.vars, ...signingVars(keys, publicUrl) } });
}

/** The body as text; `res.text()` makes workerd warn about a non-text media type. */
async function jwtOf(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

async function publishedKeys(gw: TestGateway): Promise<JSONWebKeySet> {
  const res = await gw.request('/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return (await res.json()) as JSONWebKeySet;
}

/** Verifies like an RFC 9701 client: published keys, typ, issuer, audience, at the gateway's time. */
async function verifyAnswer(gw: TestGateway, jwt: string, issuer: string, audience = 'svc-demo') {
  return jwtVerify(jwt, createLocalJWKSet(await publishedKeys(gw)), {
    issuer,
    audience,
    typ: 'token-introspection+jwt',
    currentDate: new Date(gw.clock.ms),
  });
}

describe('POST /introspect with Accept: application/token-introspection+jwt (RFC 9701)', () => {
  it('answers a JWS that verifies with the published JWKS and carries the RFC 7662 answer', async () => {
    const gw = await gatewayWithKeys([['sig-1', 'ES256']]);
    const token = seedToken(gw);

    const res = await introspect(gw, { token }, { accept: JWT_TYPE });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(JWT_TYPE);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.get('cache-status')).toMatch(/^ghes-token-gateway; fwd=uri-miss/);
    const jwt = await jwtOf(res);
    const { payload, protectedHeader } = await verifyAnswer(gw, jwt, 'https://gateway.test');
    expect(protectedHeader).toStrictEqual({
      alg: 'ES256',
      kid: 'sig-1',
      typ: 'token-introspection+jwt',
    });
    expect(payload).toStrictEqual({
      iss: 'https://gateway.test',
      aud: 'svc-demo',
      iat: START_S,
      token_introspection: {
        active: true,
        scope: 'repo read:org',
        client_id: DEMO_OAUTH_CLIENT_ID,
        username: 'octocat',
        sub: '1',
        token_type: 'bearer',
        iat: START_S,
        github: { token_last_eight: token.slice(-8), app: 'demo-oauth' },
      },
    });
  });

  it('signs inactive answers too, with exactly {"active": false} inside', async () => {
    const gw = await gatewayWithKeys([['sig-1', 'ES256']]);
    const res = await introspect(gw, { token: 'gho_' + 'n'.repeat(36) }, { accept: JWT_TYPE });

    const { payload } = await verifyAnswer(gw, await jwtOf(res), 'https://gateway.test');
    expect(payload['token_introspection']).toStrictEqual({ active: false });
  });

  it('uses PUBLIC_URL as the issuer and the caller as the audience', async () => {
    const gw = await gatewayWithKeys([['sig-1', 'ES256']], {
      publicUrl: 'https://tokens.example.com',
    });
    const res = await introspect(
      gw,
      { token: seedToken(gw) },
      { accept: JWT_TYPE, sub: 'svc-readonly' },
    );

    const { payload } = await verifyAnswer(
      gw,
      await jwtOf(res),
      'https://tokens.example.com',
      'svc-readonly',
    );
    expect(payload.aud).toBe('svc-readonly');
    // RFC 9701 §5: no `sub` and no `exp`, so the answer cannot pass for an access token.
    expect(payload).not.toHaveProperty('sub');
    expect(payload).not.toHaveProperty('exp');
  });

  it.each(['EdDSA', 'RS256', 'PS256', 'ES384'] as const)('signs with a %s key', async (alg) => {
    const gw = await gatewayWithKeys([['sig-' + alg, alg]]);
    const res = await introspect(gw, { token: seedToken(gw) }, { accept: JWT_TYPE });

    expect(res.status).toBe(200);
    const { protectedHeader } = await verifyAnswer(gw, await jwtOf(res), 'https://gateway.test');
    expect(protectedHeader.alg).toBe(alg);
  });

  it('rotates keys: the first key signs, every key is published', async () => {
    const gw = await gatewayWithKeys([
      ['new-key', 'ES256'],
      ['old-key', 'RS256'],
    ]);

    const jwks = await publishedKeys(gw);
    expect(jwks.keys.map((k) => [k.kid, k.alg, k.use])).toStrictEqual([
      ['new-key', 'ES256', 'sig'],
      ['old-key', 'RS256', 'sig'],
    ]);
    const res = await introspect(gw, { token: seedToken(gw) }, { accept: JWT_TYPE });
    const jwt = await jwtOf(res);
    expect(decodeProtectedHeader(jwt).kid).toBe('new-key');
    await verifyAnswer(gw, jwt, 'https://gateway.test');

    // A verifier that still only knows the old key cannot be fooled into accepting the new one.
    const oldOnly = createLocalJWKSet({ keys: jwks.keys.filter((k) => k.kid === 'old-key') });
    await expect(jwtVerify(jwt, oldOnly)).rejects.toThrow();
  });

  it('prefers the JWT when both types are acceptable, and JSON when JSON is preferred', async () => {
    const gw = await gatewayWithKeys([['sig-1', 'ES256']]);
    const token = seedToken(gw);

    const both = await introspect(gw, { token }, { accept: `application/json, ${JWT_TYPE}` });
    expect(both.headers.get('content-type')).toBe(JWT_TYPE);

    const jsonFirst = await introspect(
      gw,
      { token },
      { accept: `application/json, ${JWT_TYPE};q=0.5` },
    );
    expect(jsonFirst.headers.get('content-type')).toMatch(/^application\/json/);

    const wildcard = await introspect(gw, { token }, { accept: '*/*' });
    expect(wildcard.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('RFC 9701 without a signing key', () => {
  it('answers 406 with no-store, before asking GHES, when only the JWT is acceptable', async () => {
    const gw = await createTestGateway();

    const res = await introspect(gw, { token: seedToken(gw) }, { accept: JWT_TYPE });

    expect(res.status).toBe(406);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(await problemOf(res)).toMatchObject({ code: 'not-acceptable', status: 406 });
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('falls back to JSON when the client also accepts JSON', async () => {
    const gw = await createTestGateway();
    const res = await introspect(
      gw,
      { token: seedToken(gw) },
      { accept: `${JWT_TYPE}, application/json;q=0.1` },
    );

    expect(res.status).toBe(200);
    expect(((await res.json()) as { active: boolean }).active).toBe(true);
  });

  it('publishes an empty key set', async () => {
    const gw = await createTestGateway();
    expect(await publishedKeys(gw)).toStrictEqual({ keys: [] });
  });
});

describe('RFC 9701 signing-key configuration', () => {
  it('refuses to build a gateway whose signing key is symmetric, naming the key but not its value', async () => {
    const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA';
    await expect(
      createTestGateway({
        vars: {
          INTROSPECTION_SIGNING_KEYS: JSON.stringify({
            kty: 'oct',
            kid: 'hmac',
            k: secret,
            d: 'x',
          }),
        },
      }),
    ).rejects.toThrow(/INTROSPECTION_SIGNING_KEYS\.0 \(kid "hmac"\): symmetric/);
    await expect(
      createTestGateway({
        vars: {
          INTROSPECTION_SIGNING_KEYS: JSON.stringify({
            kty: 'oct',
            kid: 'hmac',
            k: secret,
            d: 'x',
          }),
        },
      }),
    ).rejects.not.toThrow(secret);
  });

  it('answers 500 misconfigured for a signed answer when WebCrypto refuses the key, JSON still works', async () => {
    const good = await createSigningJwk('broken', 'ES256');
    const gw = await createTestGateway({ vars: signingVars([offCurve(good)]) });

    const signed = await introspect(gw, { token: seedToken(gw) }, { accept: JWT_TYPE });
    expect(signed.status).toBe(500);
    expect(await problemOf(signed)).toMatchObject({ code: 'misconfigured' });
    expect(gw.logs.some((l) => l['code'] === 'misconfigured')).toBe(true);
    expect(JSON.stringify(gw.logs)).not.toContain(String(good.d));

    const plain = await introspect(gw, { token: seedToken(gw) });
    expect(plain.status).toBe(200);
  });
});
