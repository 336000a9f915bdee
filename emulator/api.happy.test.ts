import { beforeEach, describe, expect, it } from 'vitest';
import { createGhesEmulator, hasValidChecksum, type GhesEmulator } from './index';
import { call, FIXED_NOW, GHES_ORIGIN, jsonOf, sha256Base64 } from './test-client';

let clock = FIXED_NOW;
let ghes: GhesEmulator;

beforeEach(() => {
  clock = FIXED_NOW;
  ghes = createGhesEmulator({ now: () => clock });
});

function seed(): NonNullable<GhesEmulator['seed']> {
  if (!ghes.seed) throw new Error('demo seed missing');
  return ghes.seed;
}

describe('check (POST /applications/{client_id}/token)', () => {
  it('returns the authorization of an OAuth-app token', async () => {
    const token = seed().tokens.octocatOauth;
    const res = await call(ghes, 'check', 'demo-oauth', { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-github-enterprise-version')).toBe('3.22.0');
    expect(res.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('4999');
    expect(res.headers.get('x-github-request-id')).toMatch(/^[0-9A-F]+(:[0-9A-F]+){4}$/);
    const body = await jsonOf(res);
    expect(body).toMatchObject({
      scopes: ['repo', 'read:org'],
      token,
      token_last_eight: token.slice(-8),
      hashed_token: await sha256Base64(token),
      app: {
        client_id: '5f2d4b8a9c1e3f607a8b',
        name: 'demo-oauth',
        url: 'https://example.com/demo-oauth',
      },
      note: null,
      note_url: null,
      fingerprint: null,
      created_at: '2026-01-15T12:00:00Z',
      updated_at: '2026-01-15T12:00:00Z',
      expires_at: null,
    });
    expect(body['url']).toBe(`${GHES_ORIGIN}/api/v3/authorizations/${String(body['id'])}`);
    expect(body['user']).toMatchObject({
      login: 'octocat',
      id: 1,
      node_id: 'MDQ6VXNlcjE=',
      type: 'User',
      site_admin: false,
      url: `${GHES_ORIGIN}/api/v3/users/octocat`,
      html_url: `${GHES_ORIGIN}/octocat`,
    });
    expect(body).not.toHaveProperty('installation');
  });

  it('returns an expiring ghu_ token of a GitHub App with expires_at 8 h after issue', async () => {
    const token = seed().tokens.octocatGithubApp;
    expect(token).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
    expect(hasValidChecksum(token)).toBe(true);
    const body = await jsonOf(await call(ghes, 'check', 'demo-github-app', { token }));
    expect(body['scopes']).toEqual([]);
    expect(body['expires_at']).toBe('2026-01-15T20:00:00Z');
    expect((body['app'] as Record<string, unknown>)['client_id']).toBe('Iv1.9d2c5e8f1a3b4c6d');
  });

  it('does not change anything and counts the call', async () => {
    const token = seed().tokens.octocatOauth;
    await call(ghes, 'check', 'demo-oauth', { token });
    expect((await call(ghes, 'check', 'demo-oauth', { token })).status).toBe(200);
    expect(ghes.calls().check).toBe(2);
  });

  it('uses baseUrl for url fields when configured', async () => {
    ghes = createGhesEmulator({
      now: () => clock,
      baseUrl: 'https://ghe.corp.example/ignored/path',
    });
    const body = await jsonOf(
      await call(ghes, 'check', 'demo-oauth', { token: ghes.seed?.tokens.octocatOauth ?? '' }),
    );
    expect(body['url']).toMatch(/^https:\/\/ghe\.corp\.example\/api\/v3\/authorizations\/\d+$/);
  });
});

describe('reset (PATCH /applications/{client_id}/token)', () => {
  it('returns a new token for the same authorization and kills the old one', async () => {
    const old = seed().tokens.octocatOauth;
    const before = await jsonOf(await call(ghes, 'check', 'demo-oauth', { token: old }));
    clock += 60_000;
    const res = await call(ghes, 'reset', 'demo-oauth', { token: old });
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    const fresh = body['token'] as string;
    expect(fresh).toMatch(/^gho_[A-Za-z0-9]{36}$/);
    expect(fresh).not.toBe(old);
    expect(body['id']).toBe(before['id']);
    expect(body['created_at']).toBe('2026-01-15T12:00:00Z');
    expect(body['updated_at']).toBe('2026-01-15T12:01:00Z');
    expect(body['hashed_token']).toBe(await sha256Base64(fresh));
    expect((await call(ghes, 'check', 'demo-oauth', { token: old })).status).toBe(404);
    expect((await call(ghes, 'check', 'demo-oauth', { token: fresh })).status).toBe(200);
  });

  it('gives a reset GitHub-App token a fresh 8 h lifetime', async () => {
    clock += 3_600_000;
    const body = await jsonOf(
      await call(ghes, 'reset', 'demo-github-app', { token: seed().tokens.octocatGithubApp }),
    );
    expect(body['expires_at']).toBe('2026-01-15T21:00:00Z');
  });
});

describe('delete (DELETE /applications/{client_id}/token)', () => {
  it('answers 204 and kills only that token', async () => {
    const extra = ghes.createToken({ app: 'demo-oauth', login: 'octocat', scopes: ['repo'] }).token;
    const res = await call(ghes, 'delete', 'demo-oauth', { token: seed().tokens.octocatOauth });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-github-enterprise-version')).toBe('3.22.0');
    expect(
      (await call(ghes, 'check', 'demo-oauth', { token: seed().tokens.octocatOauth })).status,
    ).toBe(404);
    expect((await call(ghes, 'check', 'demo-oauth', { token: extra })).status).toBe(200);
  });
});

describe('delete grant (DELETE /applications/{client_id}/grant)', () => {
  it('kills every token of that user for that app and nothing else', async () => {
    const second = ghes.createToken({ app: 'demo-oauth', login: 'octocat' }).token;
    const res = await call(ghes, 'grant', 'demo-oauth', { token: seed().tokens.octocatOauth });
    expect(res.status).toBe(204);
    expect(
      (await call(ghes, 'check', 'demo-oauth', { token: seed().tokens.octocatOauth })).status,
    ).toBe(404);
    expect((await call(ghes, 'check', 'demo-oauth', { token: second })).status).toBe(404);
    // Another user of the same app, and the same user's GitHub-App token, survive.
    expect(
      (await call(ghes, 'check', 'demo-oauth', { token: seed().tokens.monalisaOauth })).status,
    ).toBe(200);
    expect(
      (await call(ghes, 'check', 'demo-github-app', { token: seed().tokens.octocatGithubApp }))
        .status,
    ).toBe(200);
    expect(ghes.state.grants.has('5f2d4b8a9c1e3f607a8b:1')).toBe(false);
  });

  it('also kills scoped tokens derived from the grant', async () => {
    const scoped = await jsonOf(
      await call(ghes, 'scoped', 'demo-github-app', {
        token: seed().tokens.octocatGithubApp,
        extra: { target: 'octocat' },
      }),
    );
    await call(ghes, 'grant', 'demo-github-app', { token: seed().tokens.octocatGithubApp });
    expect(
      (await call(ghes, 'check', 'demo-github-app', { token: scoped['token'] as string })).status,
    ).toBe(404);
  });
});

describe('scoped (POST /applications/{client_id}/token/scoped)', () => {
  it('returns a new narrower token with the installation, and the parent stays valid', async () => {
    const parent = seed().tokens.octocatGithubApp;
    const res = await call(ghes, 'scoped', 'demo-github-app', {
      token: parent,
      extra: {
        target: 'octocat',
        repositories: ['hello-world'],
        permissions: { contents: 'read', issues: 'write' },
      },
    });
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(body['token']).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
    expect(body['token']).not.toBe(parent);
    expect(body['scopes']).toEqual([]);
    expect(body['expires_at']).toBe('2026-01-15T20:00:00Z');
    expect(body['installation']).toMatchObject({
      permissions: { contents: 'read', issues: 'write' },
      repository_selection: 'selected',
      single_file_name: null,
      repositories_url: `${GHES_ORIGIN}/api/v3/user/repos`,
      account: { login: 'octocat', id: 1, type: 'User' },
    });
    expect((await call(ghes, 'check', 'demo-github-app', { token: parent })).status).toBe(200);
    const checked = await jsonOf(
      await call(ghes, 'check', 'demo-github-app', { token: body['token'] as string }),
    );
    expect(checked['installation']).toEqual(body['installation']);
  });

  it('without permissions or repositories inherits the installation (all repositories)', async () => {
    const body = await jsonOf(
      await call(ghes, 'scoped', 'demo-github-app', {
        token: seed().tokens.octocatGithubApp,
        extra: { target_id: 1 },
      }),
    );
    expect(body['installation']).toMatchObject({
      permissions: { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' },
      repository_selection: 'all',
    });
  });

  it('scopes to an organisation the user belongs to, by repository id, with target and target_id agreeing', async () => {
    const body = await jsonOf(
      await call(ghes, 'scoped', 'demo-github-app', {
        token: seed().tokens.octocatGithubApp,
        extra: {
          target: 'octo-org',
          target_id: 3,
          repository_ids: [4200001],
          permissions: { issues: 'read' },
        },
      }),
    );
    expect(body['installation']).toMatchObject({
      permissions: { issues: 'read' },
      repository_selection: 'selected',
      account: {
        login: 'octo-org',
        id: 3,
        type: 'Organization',
        node_id: btoa('012:Organization3'),
      },
    });
  });
});

describe('legacy path-style endpoints (GHES 3.3)', () => {
  beforeEach(() => {
    ghes = createGhesEmulator({ now: () => clock, version: '3.3' });
  });

  it('check, reset, revoke and revoke grant behave like their body-style twins', async () => {
    const token = seed().tokens.octocatOauth;
    const checked = await call(ghes, 'legacy_check', 'demo-oauth', { token });
    expect(checked.status).toBe(200);
    expect((await jsonOf(checked))['token']).toBe(token);

    const reset = await jsonOf(await call(ghes, 'legacy_reset', 'demo-oauth', { token }));
    const fresh = reset['token'] as string;
    expect(fresh).not.toBe(token);
    expect((await call(ghes, 'legacy_check', 'demo-oauth', { token })).status).toBe(404);

    const revoked = await call(ghes, 'legacy_delete', 'demo-oauth', { token: fresh });
    expect(revoked.status).toBe(204);
    expect((await call(ghes, 'check', 'demo-oauth', { token: fresh })).status).toBe(404);

    const other = ghes.createToken({ app: 'demo-oauth', login: 'monalisa' }).token;
    expect((await call(ghes, 'legacy_grant', 'demo-oauth', { token: other })).status).toBe(204);
    expect(
      (await call(ghes, 'check', 'demo-oauth', { token: seed().tokens.monalisaOauth })).status,
    ).toBe(404);
    expect(ghes.calls()).toMatchObject({
      legacy_check: 2,
      legacy_reset: 1,
      legacy_delete: 1,
      legacy_grant: 1,
      check: 2,
    });
  });
});
