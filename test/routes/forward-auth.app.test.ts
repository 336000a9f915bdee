/**
 * Forward auth names the app that vouched for a token (X-Auth-App, X-Auth-Client-Id), and a
 * refusal by the caller's policy or the gateway's configuration is marked `credential: "gateway"`
 * (docs/gateways.md), never passed off as the end user's fault.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { forwardAuth, problemOf } from '../introspection/requests';

const tokens = (gw: TestGateway) => gw.emulator.seed!.tokens;
const clientIdOf = (gw: TestGateway, name: string) =>
  gw.apps.find((a) => a.name === name)!.client_id;

const EDGE_POLICY = {
  'svc-demo': {
    apps: ['*'],
    operations: ['forward_auth' as const],
    default_app: 'demo-oauth',
  },
  'edge-oauth': {
    apps: ['demo-oauth'],
    operations: ['forward_auth' as const],
    default_app: 'demo-oauth',
  },
  'edge-no-forward-auth': {
    apps: ['*'],
    operations: ['introspect' as const],
    default_app: 'demo-oauth',
  },
};

describe('/forward-auth 200 names the app that vouched', () => {
  it.each([
    ['the default app', '/forward-auth', {}, 'demo-oauth', 'octocatOauth'],
    [
      'the query app',
      '/forward-auth?app=demo-github-app',
      {},
      'demo-github-app',
      'octocatGithubApp',
    ],
    [
      'the X-Forward-Auth-App header',
      '/forward-auth',
      { 'x-forward-auth-app': 'demo-github-app' },
      'demo-github-app',
      'octocatGithubApp',
    ],
  ] as const)('%s', async (_name, path, headers, app, which) => {
    const gw = await createTestGateway();
    const res = await forwardAuth(gw, path, tokens(gw)[which], { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-auth-app')).toBe(app);
    expect(res.headers.get('x-auth-client-id')).toBe(clientIdOf(gw, app));
  });

  it('query parameters named like Object members change nothing (the query is parsed once)', async () => {
    const gw = await createTestGateway();
    const token = tokens(gw).octocatGithubApp;
    for (const extra of ['__proto__=x', '%5F%5Fproto%5F%5F=x', 'constructor=y', 'toString=z']) {
      const res = await forwardAuth(gw, `/forward-auth?${extra}&app=demo-github-app&scope=`, token);
      expect(res.status, extra).toBe(200);
      expect(res.headers.get('x-auth-app'), extra).toBe('demo-github-app');
      const twice = await forwardAuth(
        gw,
        `/forward-auth?${extra}&app=demo-github-app&app=demo-oauth`,
        token,
      );
      expect(twice.status, extra).toBe(400);
      expect((await problemOf(twice))['detail'], extra).toBe(
        'query.app must not be given more than once',
      );
    }
  });

  it('a token of one app is not vouched for by the other app', async () => {
    const gw = await createTestGateway();
    const res = await forwardAuth(gw, '/forward-auth?app=demo-github-app', tokens(gw).octocatOauth);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-auth-app')).toBeNull();
    expect(res.headers.get('x-auth-client-id')).toBeNull();
  });
});

describe('/forward-auth refusals by the policy or configuration are the gateway’s', () => {
  it.each([
    [
      'an app outside the policy (query)',
      'edge-oauth',
      '/forward-auth?app=demo-github-app',
      {},
      403,
      'forbidden',
    ],
    [
      'an app outside the policy (header)',
      'edge-oauth',
      '/forward-auth',
      { 'x-forward-auth-app': 'demo-github-app' },
      403,
      'forbidden',
    ],
    [
      'a policy without forward_auth',
      'edge-no-forward-auth',
      '/forward-auth',
      {},
      403,
      'forbidden',
    ],
    [
      'an app that is not configured',
      'svc-demo',
      '/forward-auth?app=no-such-app',
      {},
      404,
      'unknown-app',
    ],
  ] as const)('%s', async (_name, sub, path, headers, status, code) => {
    const gw = await createTestGateway({ policy: EDGE_POLICY });
    const res = await forwardAuth(gw, path, tokens(gw).octocatOauth, { sub, headers });
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await problemOf(res)).toMatchObject({ code, credential: 'gateway' });
    expect(gw.logs.filter((l) => l.event === 'request')).toEqual([
      expect.objectContaining({ status, outcome: 'gateway_credential_rejected', error_code: code }),
    ]);
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('an end user’s bad token is still the end user’s', async () => {
    const gw = await createTestGateway({ policy: EDGE_POLICY });
    const res = await forwardAuth(gw, '/forward-auth', 'gho_' + 'n'.repeat(36), {
      sub: 'edge-oauth',
    });
    expect(res.status).toBe(401);
    expect(await problemOf(res)).toMatchObject({ credential: 'end_user' });
  });
});
