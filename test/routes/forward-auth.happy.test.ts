import { describe, expect, it } from 'vitest';
import { createTestGateway, seedTokens } from '../helpers/gateway';
import { forwardAuth } from '../introspection/requests';

function maxAgeOf(res: Response): number {
  const match = /^private, max-age=(\d+)$/.exec(res.headers.get('cache-control') ?? '');
  if (match === null)
    throw new Error(`unexpected cache-control ${res.headers.get('cache-control')}`);
  return Number(match[1]);
}

describe('/forward-auth: allowed', () => {
  it('answers 200 with the user headers, an empty body and a bounded max-age', async () => {
    const gw = await createTestGateway();

    const res = await forwardAuth(gw, '/forward-auth', seedTokens(gw).octocatOauth);

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-auth-user')).toBe('octocat');
    expect(res.headers.get('x-auth-user-id')).toBe('1');
    expect(res.headers.get('x-auth-scopes')).toBe('repo, read:org');
    expect(res.headers.has('x-auth-token-expires')).toBe(false);
    expect(res.headers.get('cache-control')).toBe('private, max-age=60');
    expect(res.headers.get('x-accel-expires')).toBe('60');
    expect(res.headers.get('vary')).toBe('Authorization, X-Gateway-Authorization');
    expect(res.headers.get('cache-status')).toMatch(
      /^ghes-token-gateway; fwd=uri-miss; fwd-status=200/,
    );
  });

  it('documents as required every identity header an allowed answer carries, on every entry', async () => {
    const gw = await createTestGateway();
    type Doc = {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>;
    };
    const doc = (await (await gw.request('/openapi.json')).json()) as Doc;
    const res = await forwardAuth(gw, '/forward-auth', seedTokens(gw).octocatOauth);
    const sent = [...res.headers.keys()];
    const identity = sent.filter((name) => name.startsWith('x-auth-'));
    expect(identity.length).toBeGreaterThanOrEqual(5);
    const entries = Object.entries(doc.paths).filter(([path]) => path.startsWith('/forward-auth'));
    expect(entries.length).toBeGreaterThanOrEqual(2);
    for (const [path, operations] of entries) {
      for (const [method, operation] of Object.entries(operations)) {
        const headers = (operation.responses['200']?.headers ?? {}) as Record<
          string,
          { required?: boolean }
        >;
        const required = Object.keys(headers).filter((name) => headers[name]?.required === true);
        for (const name of identity) expect(required, `${method} ${path}`).toContain(name);
        for (const name of required) expect(sent, `${method} ${path}`).toContain(name);
      }
    }
  });

  it('answers any method on any path below /forward-auth, as Envoy sends them', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    for (const [method, path] of [
      ['GET', '/forward-auth/'],
      ['POST', '/forward-auth/api/v1/repos?page=2'],
      ['DELETE', '/forward-auth/a/b/c'],
      ['PUT', '/forward-auth/x'],
      ['PATCH', '/forward-auth/x'],
      ['HEAD', '/forward-auth/x'],
      ['OPTIONS', '/forward-auth/x'],
    ] as const) {
      const res = await forwardAuth(gw, path, token, { method });
      expect(res.status, `${method} ${path}`).toBe(200);
      expect(res.headers.get('x-auth-user')).toBe('octocat');
    }
    expect(gw.emulator.calls().check).toBe(1);
  });

  it('accepts the GitHub "token" scheme and any case of the scheme name', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    for (const authorization of [
      `token ${token}`,
      `Token ${token}`,
      `bearer ${token}`,
      `BEARER  ${token}`,
    ]) {
      const res = await forwardAuth(gw, '/forward-auth', undefined, { authorization });
      expect(res.status, authorization.split(' ')[0]).toBe(200);
    }
  });

  it('checks the token with the app named in the query, or the caller default', async () => {
    const gw = await createTestGateway();
    const appToken = seedTokens(gw).octocatGithubApp;

    // The default app (demo-oauth) does not know a GitHub-App token …
    expect((await forwardAuth(gw, '/forward-auth', appToken)).status).toBe(401);
    // … the GitHub App does.
    const res = await forwardAuth(gw, '/forward-auth?app=demo-github-app', appToken);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-auth-user')).toBe('octocat');
    expect(res.headers.get('x-auth-scopes')).toBe('');
    const expires = res.headers.get('x-auth-token-expires');
    expect(expires).toBe(new Date(gw.clock.ms + 8 * 3600_000).toISOString().replace('.000Z', 'Z'));
  });

  it('allows a token holding every required scope, parent scopes included', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth; // repo, read:org
    for (const query of [
      'scope=repo',
      'scope=repo&scope=read:org',
      'scope=repo%20read:org',
      'scope=public_repo&scope=repo:status',
    ]) {
      const res = await forwardAuth(gw, `/forward-auth?${query}`, token);
      expect(res.status, query).toBe(200);
    }
  });

  it('never lets max-age exceed the cache entry remaining freshness, as the clock advances', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;

    expect(maxAgeOf(await forwardAuth(gw, '/forward-auth', token))).toBe(60);
    gw.clock.advance(25);
    const later = await forwardAuth(gw, '/forward-auth', token);
    expect(later.headers.get('cache-status')).toMatch(/; hit; /);
    expect(maxAgeOf(later)).toBe(35);
    expect(later.headers.get('x-accel-expires')).toBe('35');
    gw.clock.advance(34.5);
    expect(maxAgeOf(await forwardAuth(gw, '/forward-auth', token))).toBe(0);
    gw.clock.advance(1);
    // Freshness ran out: GHES is asked again and a new entry starts.
    expect(maxAgeOf(await forwardAuth(gw, '/forward-auth', token))).toBe(60);
    expect(gw.emulator.calls().check).toBe(2);
  });

  it('never lets max-age outlive the token', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({
      app: 'demo-oauth',
      login: 'monalisa',
      expiresIn: 20,
    });

    const res = await forwardAuth(gw, '/forward-auth', token);

    expect(res.status).toBe(200);
    expect(maxAgeOf(res)).toBeLessThanOrEqual(20);
    gw.clock.advance(20);
    expect((await forwardAuth(gw, '/forward-auth', token)).status).toBe(401);
  });
});
