import { describe, expect, it } from 'vitest';
import { createTestGateway, seedTokens } from '../helpers/gateway';
import { forwardAuth, problemOf } from '../introspection/requests';

/** A denial nginx must never cache. */
function expectUncached(res: Response): void {
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('x-accel-expires')).toBe('0');
  expect(res.headers.has('x-auth-user')).toBe(false);
}

describe('/forward-auth: end user not allowed', () => {
  it('answers 401 with a Bearer challenge and no error code when there is no token', async () => {
    const gw = await createTestGateway();

    const res = await forwardAuth(gw, '/forward-auth', undefined);

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="GitHub"');
    expectUncached(res);
    expect(await problemOf(res)).toMatchObject({ code: 'invalid-token', credential: 'end_user' });
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('answers 401 invalid_token for malformed credentials, without asking GHES', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    for (const authorization of [
      `Basic ${btoa(`x:${token}`)}`,
      'Bearer',
      `Bearer ${token} extra`,
      `Bearer ${'a'.repeat(256)}`,
      `Bearer ${token}, Bearer ${token}`,
    ]) {
      const res = await forwardAuth(gw, '/forward-auth', undefined, { authorization });
      expect(res.status, authorization.slice(0, 12)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        'Bearer realm="GitHub", error="invalid_token"',
      );
      expectUncached(res);
    }
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('answers 401 invalid_token for an unknown token', async () => {
    const gw = await createTestGateway();

    const res = await forwardAuth(gw, '/forward-auth', 'gho_' + 'k'.repeat(36));

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="GitHub", error="invalid_token"',
    );
    expectUncached(res);
    expect(await problemOf(res)).toMatchObject({ credential: 'end_user' });
  });

  it('answers 401 at once for a token revoked through the gateway, even if it was allowed a moment ago', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).monalisaOauth;
    expect((await forwardAuth(gw, '/forward-auth', token)).status).toBe(200);

    expect(
      (await gw.post('/v1/apps/demo-oauth/token/delete', { access_token: token })).status,
    ).toBe(204);

    expect((await forwardAuth(gw, '/forward-auth', token)).status).toBe(401);
  });

  it('answers 403 insufficient_scope naming every required scope when one is missing', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).monalisaOauth; // read:user

    const res = await forwardAuth(
      gw,
      '/forward-auth?scope=read:user&scope=repo&scope=admin:org',
      token,
    );

    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="GitHub", error="insufficient_scope", scope="read:user repo admin:org"',
    );
    expectUncached(res);
    expect(await problemOf(res)).toMatchObject({
      code: 'insufficient-scope',
      credential: 'end_user',
      missing_scopes: ['repo', 'admin:org'],
    });
  });

  it('does not let a child scope satisfy its parent', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({
      app: 'demo-oauth',
      login: 'octocat',
      scopes: ['public_repo'],
    });

    expect((await forwardAuth(gw, '/forward-auth?scope=public_repo', token)).status).toBe(200);
    expect((await forwardAuth(gw, '/forward-auth?scope=repo', token)).status).toBe(403);
  });
});

describe('/forward-auth: gateway misconfiguration and GHES failures', () => {
  it('answers 400 for a malformed or repeated app and for a malformed scope', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    for (const query of [
      'app=Demo',
      'app=demo-oauth&app=demo-github-app',
      'scope=a"b',
      // Over 100 characters; not one run of letters, which would be refused as credential-shaped.
      `scope=${'s:'.repeat(51)}`,
    ]) {
      const res = await forwardAuth(gw, `/forward-auth?${query}`, token);
      expect(res.status, query).toBe(400);
      expect(await problemOf(res)).toMatchObject({ code: 'invalid-request' });
      expectUncached(res);
    }
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('answers 404 for an unknown app named by a caller allowed every app', async () => {
    const gw = await createTestGateway();
    const res = await forwardAuth(gw, '/forward-auth?app=nope', seedTokens(gw).octocatOauth);
    expect(res.status).toBe(404);
  });

  it('fails closed with 503 when GHES fails, times out or rate-limits', async () => {
    for (const fault of [
      { status: 500 },
      { status: 429, retry_after: 5 },
      { hang: true },
    ] as const) {
      const gw = await createTestGateway({ vars: { GHES_TIMEOUT_MS: '50' } });
      gw.emulator.setFaults({ ...fault, operation: 'check' });

      const res = await forwardAuth(gw, '/forward-auth', seedTokens(gw).octocatOauth);

      expect(res.status, JSON.stringify(fault)).toBe(503);
      expectUncached(res);
      expect(await problemOf(res)).toMatchObject({ code: 'upstream-unavailable' });
    }
  });

  it('does not reuse an allowed answer once GHES fails after the entry went stale', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    expect((await forwardAuth(gw, '/forward-auth', token)).status).toBe(200);

    gw.emulator.setFaults({ status: 502, operation: 'check' });
    gw.clock.advance(61);

    expect((await forwardAuth(gw, '/forward-auth', token)).status).toBe(503);
  });
});
