import { beforeEach, describe, expect, it } from 'vitest';
import { readyLine } from './banner';
import {
  AUTHORIZATION_OPERATIONS,
  createGhesEmulator,
  OPERATIONS,
  type AppInfo,
  type CreatedToken,
  type GhesEmulator,
} from './index';
import { admin, call, FIXED_NOW, jsonOf } from './test-client';

let ghes: GhesEmulator;

beforeEach(() => {
  ghes = createGhesEmulator({ now: () => FIXED_NOW });
});

async function mint(body: unknown): Promise<Response> {
  return admin(ghes, 'POST', 'tokens', body);
}

describe('GET /_emulator/apps', () => {
  it('lists the demo apps with their kind, client id, secret and (GitHub Apps) webhook secret', async () => {
    const res = await admin(ghes, 'GET', 'apps');
    expect(res.status).toBe(200);
    const apps = (await res.json()) as AppInfo[];
    expect(apps).toEqual([
      {
        name: 'demo-oauth',
        client_id: '5f2d4b8a9c1e3f607a8b',
        client_secret: expect.stringMatching(/^[0-9a-f]{40}$/),
        kind: 'oauth_app',
        webhook_secret: null,
      },
      {
        name: 'demo-github-app',
        client_id: 'Iv1.9d2c5e8f1a3b4c6d',
        client_secret: expect.stringMatching(/^[0-9a-f]{40}$/),
        kind: 'github_app',
        webhook_secret: expect.stringMatching(/^[0-9a-f]{40}$/),
      },
    ]);
    expect(apps).toEqual(ghes.apps());
  });

  it('is empty with seed "none"', async () => {
    ghes = createGhesEmulator({ seed: 'none' });
    expect(await (await admin(ghes, 'GET', 'apps')).json()).toEqual([]);
    expect(ghes.seed).toBeNull();
  });
});

describe('POST /_emulator/tokens', () => {
  it('mints a GitHub-App token that expires after 8 h by default, usable at once', async () => {
    const res = await mint({ app: 'demo-github-app', login: 'octocat' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as CreatedToken;
    expect(created).toMatchObject({
      app: 'demo-github-app',
      client_id: 'Iv1.9d2c5e8f1a3b4c6d',
      kind: 'github_app',
      login: 'octocat',
      user_id: 1,
      scopes: [],
      created_at: '2026-01-15T12:00:00Z',
      expires_at: '2026-01-15T20:00:00Z',
    });
    expect(created.token).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
    expect(created.token_last_eight).toBe(created.token.slice(-8));
    expect((await call(ghes, 'check', 'demo-github-app', { token: created.token })).status).toBe(
      200,
    );
  });

  it('mints an OAuth token with scopes that never expires, addressing the app by client id', async () => {
    const created = (await (
      await mint({ app: '5f2d4b8a9c1e3f607a8b', login: 'octocat', scopes: ['repo'] })
    ).json()) as CreatedToken;
    expect(created).toMatchObject({ kind: 'oauth_app', scopes: ['repo'], expires_at: null });
    expect(created.token).toMatch(/^gho_/);
  });

  it('honours expires_in, including null for a non-expiring GitHub-App token', async () => {
    const short = (await (
      await mint({ app: 'demo-oauth', login: 'octocat', expires_in: 60 })
    ).json()) as CreatedToken;
    expect(short.expires_at).toBe('2026-01-15T12:01:00Z');
    const never = (await (
      await mint({ app: 'demo-github-app', login: 'octocat', expires_in: null })
    ).json()) as CreatedToken;
    expect(never.expires_at).toBeNull();
  });

  it('creates an unknown user on the fly with the next id', async () => {
    const created = (await (
      await mint({ app: 'demo-oauth', login: 'bench-user-7' })
    ).json()) as CreatedToken;
    expect(created.user_id).toBe(4);
    const body = await jsonOf(await call(ghes, 'check', 'demo-oauth', { token: created.token }));
    expect(body['user']).toMatchObject({ login: 'bench-user-7', id: 4 });
  });

  it('refuses bad requests with 400 and a reason', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ login: 'octocat' }, /app .* is required/],
      [{ app: 'nope', login: 'octocat' }, /no app nope/],
      [{ app: 'demo-oauth', login: 'not a login' }, /login must be a GitHub login/],
      [{ app: 'demo-oauth', login: 'octocat', scopes: 'repo' }, /scopes must be an array/],
      [{ app: 'demo-oauth', login: 'octocat', expires_in: 0 }, /expires_in must be/],
      [{ app: 'demo-github-app', login: 'octocat', scopes: ['repo'] }, /no OAuth scopes/],
      [{ app: 'demo-oauth', login: 'octo-org' }, /is not a user/],
      [{ app: 'demo-oauth', login: 'octocat', admin: true }, /unknown field\(s\): admin/],
      ['{', /body must be JSON/],
    ];
    const before = ghes.state.tokens.size;
    for (const [body, message] of bad) {
      const res = await mint(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect(ghes.state.tokens.size).toBe(before);
  });
});

describe('DELETE /_emulator/tokens and revokeToken()', () => {
  it('revoke directly in GHES, bypassing any gateway', async () => {
    const token = ghes.seed?.tokens.octocatOauth ?? '';
    expect((await admin(ghes, 'DELETE', 'tokens', { token })).status).toBe(204);
    expect((await call(ghes, 'check', 'demo-oauth', { token })).status).toBe(404);
    expect((await admin(ghes, 'DELETE', 'tokens', { token })).status).toBe(404);
    expect(ghes.revokeToken(ghes.seed?.tokens.monalisaOauth ?? '')).toBe(true);
    expect(ghes.revokeToken('gho_never')).toBe(false);
  });
});

describe('calls', () => {
  it('counts requests per operation, legacy ones apart, and resets', async () => {
    ghes = createGhesEmulator({ version: '3.3', now: () => FIXED_NOW });
    const token = ghes.seed?.tokens.octocatOauth ?? '';
    await call(ghes, 'check', 'demo-oauth', { token });
    await call(ghes, 'check', 'demo-oauth', { token: 'gho_x' });
    await call(ghes, 'legacy_check', 'demo-oauth', { token });
    await call(ghes, 'reset', 'demo-oauth', { token, authorization: null });
    const res = await admin(ghes, 'GET', 'calls');
    expect(await res.json()).toEqual({
      check: 2,
      reset: 1,
      delete: 0,
      grant: 0,
      scoped: 0,
      legacy_check: 1,
      legacy_reset: 0,
      legacy_delete: 0,
      legacy_grant: 0,
      ...Object.fromEntries(AUTHORIZATION_OPERATIONS.map((op) => [op, 0])),
      get_user: 0,
      oauth_access_token: 0,
    });
    expect((await admin(ghes, 'DELETE', 'calls')).status).toBe(204);
    expect(Object.values(ghes.calls())).toEqual(Array(OPERATIONS.length).fill(0));
  });
});

describe('config', () => {
  it('GET shows and POST changes version, bad-credentials status, rate limit and base URL', async () => {
    expect(await (await admin(ghes, 'GET', 'config')).json()).toEqual({
      version: '3.22',
      bad_credentials_status: 404,
      rate_limit: 5000,
      base_url: null,
      pkce: null,
      webhook_url: null,
    });
    const res = await admin(ghes, 'POST', 'config', {
      version: '3.3',
      bad_credentials_status: 401,
      rate_limit: 15000,
      base_url: 'https://ghe.corp.example',
    });
    expect(await res.json()).toMatchObject({
      version: '3.3',
      bad_credentials_status: 401,
      rate_limit: 15000,
    });
    const check = await call(ghes, 'legacy_check', 'demo-oauth', {
      token: ghes.seed?.tokens.octocatOauth ?? '',
    });
    expect(check.headers.get('x-github-enterprise-version')).toBe('3.3.0');
    expect(check.headers.get('x-ratelimit-limit')).toBe('15000');
    expect((await jsonOf(check))['url']).toMatch(/^https:\/\/ghe\.corp\.example\/api\/v3\//);
    expect(
      (await call(ghes, 'check', 'demo-oauth', { token: 'x', authorization: null })).status,
    ).toBe(401);
  });

  it('refuses invalid values and changes nothing', async () => {
    for (const body of [
      { version: '1.0' },
      { bad_credentials_status: 403 },
      { rate_limit: 0 },
      { pkce: 'yes' },
      { colour: 'red' },
      [1],
    ]) {
      expect((await admin(ghes, 'POST', 'config', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(ghes.config()).toMatchObject({ version: '3.22', bad_credentials_status: 404 });
  });
});

describe('POST /_emulator/reset and reset()', () => {
  it('restores the seed tokens, configuration, faults and counts; secrets stay the same', async () => {
    const secrets = ghes.apps().map((a) => a.client_secret);
    const seedTokens = ghes.seed?.tokens;
    if (!seedTokens) throw new Error('demo seed missing');
    await call(ghes, 'reset', 'demo-oauth', { token: seedTokens.octocatOauth });
    await call(ghes, 'grant', 'demo-github-app', { token: seedTokens.octocatGithubApp });
    ghes.createToken({ app: 'demo-oauth', login: 'someone' });
    ghes.addFault({ status: 503, operation: 'delete' });
    ghes.configure({ version: '3.3' });

    expect((await admin(ghes, 'POST', 'reset')).status).toBe(204);
    expect(ghes.apps().map((a) => a.client_secret)).toEqual(secrets);
    expect(ghes.faults()).toEqual([]);
    expect(ghes.config().version).toBe('3.22');
    expect(Object.values(ghes.calls())).toEqual(Array(OPERATIONS.length).fill(0));
    expect(ghes.state.tokens.size).toBe(4);
    for (const [name, token] of Object.entries(seedTokens)) {
      const app = name.endsWith('GithubApp') ? 'demo-github-app' : 'demo-oauth';
      expect((await call(ghes, 'check', app, { token })).status, name).toBe(200);
    }
    expect(ghes.state.accountByLogin('someone')).toBeUndefined();
  });
});

describe('apps and installations', () => {
  it('POST /_emulator/apps adds an app with a fresh secret; names are unique', async () => {
    const res = await admin(ghes, 'POST', 'apps', { name: 'bench-app', kind: 'github_app' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as AppInfo;
    expect(created.client_id).toMatch(/^Iv1\.[0-9a-f]{16}$/);
    expect(created.client_secret).toMatch(/^[0-9a-f]{40}$/);
    expect(
      (await admin(ghes, 'POST', 'apps', { name: 'bench-app', kind: 'oauth_app' })).status,
    ).toBe(400);
    expect((await admin(ghes, 'POST', 'apps', { name: 'x', kind: 'pat' })).status).toBe(400);
    const oauth = ghes.createApp({ name: 'other-oauth', kind: 'oauth_app' });
    expect(oauth.client_id).toMatch(/^[0-9a-f]{20}$/);
  });

  it('POST /_emulator/installations lets a new account be a scoping target', async () => {
    const token = ghes.seed?.tokens.monalisaGithubApp ?? '';
    const scope = () =>
      call(ghes, 'scoped', 'demo-github-app', { token, extra: { target: 'monalisa' } });
    expect((await scope()).status).toBe(422);
    const res = await admin(ghes, 'POST', 'installations', {
      app: 'demo-github-app',
      account: 'monalisa',
      permissions: { metadata: 'read' },
    });
    expect(res.status).toBe(201);
    expect((await scope()).status).toBe(200);
    expect(
      (
        await admin(ghes, 'POST', 'installations', {
          app: 'demo-oauth',
          account: 'monalisa',
          permissions: {},
        })
      ).status,
    ).toBe(400);
  });

  it('unknown admin routes answer 404 JSON', async () => {
    const res = await admin(ghes, 'GET', 'nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'unknown emulator admin route' });
  });
});

describe('ready line of the Node runner', () => {
  it('names the URL and apps but never a client secret', () => {
    const line = readyLine('http://127.0.0.1:8788', '3.22', ghes.apps());
    expect(line).toContain('http://127.0.0.1:8788/api/v3');
    expect(line).toContain('demo-oauth (oauth_app, 5f2d4b8a9c1e3f607a8b)');
    expect(line).not.toContain('\n');
    for (const app of ghes.apps()) expect(line).not.toContain(app.client_secret);
    expect(line).toContain('user passwords: GET http://127.0.0.1:8788/_emulator/users');
    for (const password of Object.values(ghes.seed?.passwords ?? {}))
      expect(line).not.toContain(password);
  });

  it('demo passwords survive reset(); they are only in GET /_emulator/users', async () => {
    const before = await (await admin(ghes, 'GET', 'users')).json();
    ghes.reset();
    expect(await (await admin(ghes, 'GET', 'users')).json()).toEqual(before);
    expect(before).toEqual([
      { login: 'octocat', id: 1, password: ghes.seed?.passwords.octocat, two_factor: null },
      { login: 'monalisa', id: 2, password: ghes.seed?.passwords.monalisa, two_factor: 'app' },
    ]);
  });
});
