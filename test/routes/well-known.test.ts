import { describe, expect, it } from 'vitest';
import { createTestGateway } from '../helpers/gateway';
import { createSigningJwk, PRIVATE_MEMBERS, signingVars } from '../introspection/keys';

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  it('describes introspection, its auth method and signing algorithms, without auth', async () => {
    const keys = [await createSigningJwk('a', 'ES256'), await createSigningJwk('b', 'RS256')];
    const gw = await createTestGateway({ vars: signingVars(keys) });

    const res = await gw.request('/.well-known/oauth-authorization-server');

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toStrictEqual({
      issuer: 'https://gateway.test',
      introspection_endpoint: 'https://gateway.test/introspect',
      introspection_endpoint_auth_methods_supported: ['Bearer'],
      introspection_signing_alg_values_supported: ['ES256', 'RS256'],
      jwks_uri: 'https://gateway.test/.well-known/jwks.json',
      response_types_supported: [],
      grant_types_supported: [],
    });
  });

  it('uses PUBLIC_URL for every URL and omits signing algorithms when no key is configured', async () => {
    const gw = await createTestGateway({ vars: { PUBLIC_URL: 'https://tokens.example.com/' } });

    const body = (await (
      await gw.request('/.well-known/oauth-authorization-server')
    ).json()) as Record<string, unknown>;

    expect(body['issuer']).toBe('https://tokens.example.com');
    expect(body['introspection_endpoint']).toBe('https://tokens.example.com/introspect');
    expect(body['jwks_uri']).toBe('https://tokens.example.com/.well-known/jwks.json');
    expect(body).not.toHaveProperty('introspection_signing_alg_values_supported');
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes every key without any private member', async () => {
    const keys = [
      await createSigningJwk('ec', 'ES256'),
      await createSigningJwk('rsa', 'RS256'),
      await createSigningJwk('ed', 'EdDSA'),
    ];
    const gw = await createTestGateway({ vars: signingVars(keys) });

    const res = await gw.request('/.well-known/jwks.json');

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const text = await res.text();
    const jwks = JSON.parse(text) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toStrictEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: keys[0]?.x,
        y: keys[0]?.y,
        kid: 'ec',
        alg: 'ES256',
        use: 'sig',
      },
      { kty: 'RSA', n: keys[1]?.n, e: keys[1]?.e, kid: 'rsa', alg: 'RS256', use: 'sig' },
      { kty: 'OKP', crv: 'Ed25519', x: keys[2]?.x, kid: 'ed', alg: 'EdDSA', use: 'sig' },
    ]);
    for (const key of keys) {
      for (const member of PRIVATE_MEMBERS) {
        const value = key[member as keyof typeof key];
        if (typeof value === 'string') expect(text).not.toContain(value);
      }
    }
  });
});

describe('/openapi.json', () => {
  it('documents introspection, forward auth and the discovery documents', async () => {
    const gw = await createTestGateway();
    const doc = (await (await gw.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };

    expect(doc.paths['/introspect']?.['post']?.requestBody?.content).toHaveProperty(
      'application/x-www-form-urlencoded',
    );
    // Forward auth answers every method on the bare path and any path below it, and its caller
    // credential is X-Gateway-Authorization beside the end user's token in Authorization.
    const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
    for (const path of ['/forward-auth', '/forward-auth/{path}']) {
      const item = doc.paths[path] as Record<string, { security?: unknown; responses?: object }>;
      expect(Object.keys(item).sort()).toEqual([...methods].sort());
      for (const op of Object.values(item)) {
        expect(op.security).toEqual([{ gatewayJwt: [], endUserToken: [] }]);
        expect(Object.keys(op.responses ?? {})).toContain('404');
      }
    }
    expect(doc.paths).toHaveProperty('/.well-known/oauth-authorization-server');
    expect(doc.paths).toHaveProperty('/.well-known/jwks.json');
  });
});
