import { env } from 'cloudflare:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTestGateway, secretsOf, type TestGateway } from '../helpers/gateway';
import { createSigningJwk, signingVars } from '../introspection/keys';
import { introspect, problemOf } from '../introspection/requests';

function seedToken(gw: TestGateway): string {
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('the test gateway runs the demo seed');
  return seed.tokens.octocatOauth;
}

describe('POST /introspect: caller authentication', () => {
  it('answers 401 with a Bearer challenge and no-store without a caller JWT, before GHES', async () => {
    const gw = await createTestGateway();

    const res = await introspect(gw, { token: seedToken(gw) }, { authorization: null });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ghes-token-gateway"');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(await problemOf(res)).toMatchObject({ code: 'unauthorized' });
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('answers 401 for an expired caller JWT and for client credentials in place of one', async () => {
    const gw = await createTestGateway();
    const expired = await gw.caller('svc-demo', { exp: Math.floor(gw.clock.ms / 1000) - 3600 });

    for (const authorization of [`Bearer ${expired}`, `Basic ${btoa('svc-demo:secret')}`]) {
      const res = await introspect(gw, { token: seedToken(gw) }, { authorization });
      expect(res.status, authorization.slice(0, 6)).toBe(401);
    }
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('answers 403 to a caller whose policy lacks introspect, and for an app it may not use', async () => {
    const gw = await createTestGateway({
      policy: {
        'svc-checker': { apps: ['*'], operations: ['check'], default_app: 'demo-oauth' },
        'svc-oauth-only': {
          apps: ['demo-oauth'],
          operations: ['introspect'],
          default_app: 'demo-oauth',
        },
      },
    });

    const noOperation = await introspect(gw, { token: seedToken(gw) }, { sub: 'svc-checker' });
    expect(noOperation.status).toBe(403);
    expect(await problemOf(noOperation)).toMatchObject({ code: 'forbidden' });

    // Existence is not revealed: a configured app and an unknown one answer alike.
    for (const app of ['demo-github-app', 'no-such-app']) {
      const res = await introspect(gw, { token: seedToken(gw), app }, { sub: 'svc-oauth-only' });
      expect(res.status, app).toBe(403);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('never takes the caller from the form body', async () => {
    const gw = await createTestGateway();
    const res = await introspect(
      gw,
      { token: seedToken(gw), client_id: 'svc-demo', client_assertion: await gw.caller() },
      { authorization: null },
    );
    expect(res.status).toBe(401);
  });
});

describe('POST /introspect: no token leaves the gateway', () => {
  it('keeps tokens and secrets out of logs, KV, error bodies and signed answers', async () => {
    const gw = await createTestGateway({ vars: signingVars([await createSigningJwk('k1')]) });
    const token = seedToken(gw);
    const unknown = 'gho_' + 'w'.repeat(36);
    const bodies: string[] = [];
    bodies.push(await (await introspect(gw, { token })).text());
    bodies.push(await (await introspect(gw, { token: unknown })).text());
    bodies.push(
      await (
        await introspect(gw, [
          ['token', token],
          ['token', unknown],
        ])
      ).text(),
    );
    const jwt = new TextDecoder().decode(
      await (
        await introspect(gw, { token }, { accept: 'application/token-introspection+jwt' })
      ).arrayBuffer(),
    );
    // The signed answer is base64url: look inside its header and payload too.
    bodies.push(jwt, JSON.stringify(decodeProtectedHeader(jwt)), JSON.stringify(decodeJwt(jwt)));
    gw.emulator.setFaults({ status: 502, operation: 'check' });
    gw.clock.advance(3600);
    bodies.push(await (await introspect(gw, { token })).text());

    const logs = JSON.stringify(gw.logs);
    const kv = await env.TOKEN_CACHE.list();
    const stored = await Promise.all(
      kv.keys.map(async (k) => `${k.name} ${await env.TOKEN_CACHE.get(k.name)}`),
    );
    for (const secret of [token, unknown, ...secretsOf(gw)]) {
      expect(logs).not.toContain(secret);
      expect(stored.join('\n')).not.toContain(secret);
      for (const body of bodies) expect(body).not.toContain(secret);
    }
  });

  it('writes one audit line per introspection with the route, the outcome and a token id only', async () => {
    const gw = await createTestGateway();
    const token = seedToken(gw);
    await introspect(gw, { token });
    await introspect(gw, { token: 'gho_' + 'm'.repeat(36) });

    const lines = gw.logs.filter((l) => l.event === 'request' && l['route'] === '/introspect');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      caller: 'svc-demo',
      app: 'demo-oauth',
      operation: 'introspect',
      outcome: 'active',
      status: 200,
      ghes_status: 200,
    });
    expect(lines[1]).toMatchObject({ outcome: 'inactive', ghes_status: 404 });
    expect(lines[0]?.['token_id']).toMatch(/^[A-Za-z0-9_-]{6,}$/);
  });
});
