/**
 * The OAuth Authorizations API: user Basic auth with two-factor OTP, get-or-create by
 * fingerprint, the token shown only at creation, PATCH of scopes, grants with the union of
 * scopes, and tokens that the app-token API sees.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createGhesEmulator, type GhesEmulator } from './index';
import { admin, basic, call, credentials, FIXED_NOW, GHES_ORIGIN, jsonOf } from './test-client';

let now = FIXED_NOW;
let ghes: GhesEmulator;

beforeEach(() => {
  now = FIXED_NOW;
  ghes = createGhesEmulator({ now: () => now });
});

function password(login: 'octocat' | 'monalisa'): string {
  const p = ghes.seed?.passwords[login];
  if (!p) throw new Error('demo seed missing');
  return p;
}

interface Options {
  body?: unknown;
  auth?: string | null;
  otp?: string;
}

function api(method: string, path: string, options: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
  const auth = options.auth === undefined ? basic('octocat', password('octocat')) : options.auth;
  if (auth !== null) headers['authorization'] = auth;
  if (options.otp !== undefined) headers['x-github-otp'] = options.otp;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return ghes.fetch(`${GHES_ORIGIN}/api/v3${path}`, {
    method,
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
}

function oauthSecret(): { client_id: string; client_secret: string } {
  const { clientId, secret } = credentials(ghes, 'demo-oauth');
  return { client_id: clientId, client_secret: secret };
}

async function otpOf(login: string): Promise<string> {
  return (await jsonOf(await admin(ghes, 'GET', `users/${login}/otp`)))['otp'] as string;
}

describe('user authentication', () => {
  it('asks for credentials, refuses a wrong password and a token as password', async () => {
    const none = await api('GET', '/authorizations', { auth: null });
    expect(none.status).toBe(401);
    expect((await jsonOf(none))['message']).toBe('Requires authentication');
    const wrong = await api('GET', '/authorizations', { auth: basic('octocat', 'nope') });
    expect(wrong.status).toBe(401);
    expect((await jsonOf(wrong))['message']).toBe('Bad credentials');
    expect(wrong.headers.get('x-github-otp')).toBeNull();
    const token = ghes.seed?.tokens.octocatOauth ?? '';
    expect((await api('GET', '/authorizations', { auth: basic('octocat', token) })).status).toBe(
      401,
    );
  });

  it('with two-factor authentication: 401 and X-GitHub-OTP until the current code comes', async () => {
    const auth = basic('monalisa', password('monalisa'));
    const first = await api('GET', '/authorizations', { auth });
    expect(first.status).toBe(401);
    expect(first.headers.get('x-github-otp')).toBe('required; app');
    expect((await jsonOf(first))['message']).toBe(
      'Must specify two-factor authentication OTP code.',
    );
    const otp = await otpOf('monalisa');
    expect(otp).toMatch(/^\d{6}$/);
    expect((await api('GET', '/authorizations', { auth, otp })).status).toBe(200);
    const wrong = String((Number(otp) + 1) % 1_000_000).padStart(6, '0');
    expect((await api('GET', '/authorizations', { auth, otp: wrong })).status).toBe(401);
    now += 30_000;
    expect((await api('GET', '/authorizations', { auth, otp })).status).toBe(401);
    expect(
      (await api('GET', '/authorizations', { auth, otp: await otpOf('monalisa') })).status,
    ).toBe(200);
  });

  it('sms users are told so; the admin API adds users and refuses an OTP without 2FA', async () => {
    const added = await admin(ghes, 'POST', 'users', {
      login: 'hubot',
      password: 's3cret',
      two_factor: 'sms',
    });
    expect(await jsonOf(added)).toEqual({ login: 'hubot', id: 4 });
    const res = await api('GET', '/authorizations', { auth: basic('hubot', 's3cret') });
    expect(res.headers.get('x-github-otp')).toBe('required; sms');
    expect((await admin(ghes, 'GET', 'users/octocat/otp')).status).toBe(400);
    expect((await admin(ghes, 'GET', 'users/nobody/otp')).status).toBe(404);
    const users = (await (await admin(ghes, 'GET', 'users')).json()) as Array<
      Record<string, unknown>
    >;
    expect(users.map((u) => [u['login'], u['two_factor']])).toEqual([
      ['octocat', null],
      ['monalisa', 'app'],
      ['hubot', 'sms'],
    ]);
  });
});

describe('authorizations', () => {
  it('POST creates a real token, shown once; a duplicate fingerprint is 422', async () => {
    const res = await api('POST', '/authorizations', {
      body: { ...oauthSecret(), scopes: ['repo'], note: 'ci', fingerprint: 'laptop' },
    });
    expect(res.status).toBe(201);
    const created = await jsonOf(res);
    const token = created['token'] as string;
    expect(token).toMatch(/^gho_/);
    expect(res.headers.get('location')).toBe(
      `${GHES_ORIGIN}/api/v3/authorizations/${String(created['id'])}`,
    );
    expect(created).toMatchObject({
      scopes: ['repo'],
      note: 'ci',
      note_url: null,
      fingerprint: 'laptop',
      token_last_eight: token.slice(-8),
    });
    expect(created).not.toHaveProperty('user');
    expect((await call(ghes, 'check', 'demo-oauth', { token })).status).toBe(200);
    const again = await jsonOf(await api('GET', `/authorizations/${String(created['id'])}`));
    expect(again['token']).toBe('');
    expect(again['hashed_token']).toBe(created['hashed_token']);
    const dup = await api('POST', '/authorizations', {
      body: { ...oauthSecret(), fingerprint: 'laptop' },
    });
    expect(dup.status).toBe(422);
    expect((await jsonOf(dup))['errors']).toEqual([
      { resource: 'OauthAccess', field: 'fingerprint', code: 'already_exists' },
    ]);
  });

  it('POST refuses a missing or wrong client and a body of the wrong shape', async () => {
    const status = async (body: unknown): Promise<number> =>
      (await api('POST', '/authorizations', { body })).status;
    expect(await status({ note: 'pat' })).toBe(422);
    expect(await status({ ...oauthSecret(), client_secret: 'x' })).toBe(422);
    const app = credentials(ghes, 'demo-github-app');
    expect(
      await status({ client_id: app.clientId, client_secret: app.secret, fingerprint: 'a' }),
    ).toBe(422);
    expect(await status({ ...oauthSecret(), scopes: 'repo' })).toBe(422);
    const raw = await ghes.fetch(`${GHES_ORIGIN}/api/v3/authorizations`, {
      method: 'POST',
      headers: { authorization: basic('octocat', password('octocat')) },
      body: '{',
    });
    expect(raw.status).toBe(400);
    expect(ghes.state.tokens.size).toBe(4);
  });

  it('PUT get-or-create: 201 with the token, then 200 with an empty token', async () => {
    const { client_id: id, client_secret: secret } = oauthSecret();
    const first = await api('PUT', `/authorizations/clients/${id}/phone`, {
      body: { client_secret: secret, scopes: ['gist'] },
    });
    expect(first.status).toBe(201);
    const created = await jsonOf(first);
    const second = await api('PUT', `/authorizations/clients/${id}/phone`, {
      body: { client_secret: secret, scopes: ['repo'] },
    });
    expect(second.status).toBe(200);
    const existing = await jsonOf(second);
    expect(existing).toMatchObject({
      id: created['id'],
      token: '',
      scopes: ['gist'],
      fingerprint: 'phone',
    });
    // Without a fingerprint: octocat's seed token of demo-oauth is the existing one.
    const plain = await api('PUT', `/authorizations/clients/${id}`, {
      body: { client_secret: secret },
    });
    expect(plain.status).toBe(200);
    expect((await jsonOf(plain))['token_last_eight']).toBe(
      ghes.seed?.tokens.octocatOauth.slice(-8),
    );
    expect(
      (await api('PUT', `/authorizations/clients/${id}`, { body: { client_secret: 'x' } })).status,
    ).toBe(422);
    expect((await api('PUT', `/authorizations/clients/${id}`, { body: {} })).status).toBe(422);
    expect(
      (
        await api('PUT', '/authorizations/clients/0000000000000000dead', {
          body: { client_secret: secret },
        })
      ).status,
    ).toBe(404);
  });

  it('PATCH changes scopes one way at a time, note and fingerprint', async () => {
    const created = await jsonOf(
      await api('POST', '/authorizations', {
        body: { ...oauthSecret(), scopes: ['repo'], fingerprint: 'a' },
      }),
    );
    const path = `/authorizations/${String(created['id'])}`;
    const patch = async (body: unknown) => api('PATCH', path, { body });
    expect((await jsonOf(await patch({ add_scopes: ['gist', 'repo'] })))['scopes']).toEqual([
      'repo',
      'gist',
    ]);
    expect((await jsonOf(await patch({ remove_scopes: ['repo'] })))['scopes']).toEqual(['gist']);
    const replaced = await jsonOf(
      await patch({ scopes: ['user'], note: 'n', note_url: 'https://n.example', fingerprint: 'b' }),
    );
    expect(replaced).toMatchObject({
      scopes: ['user'],
      note: 'n',
      note_url: 'https://n.example',
      fingerprint: 'b',
      token: '',
    });
    const both = await patch({ scopes: ['a'], add_scopes: ['b'] });
    expect(both.status).toBe(422);
    expect((await jsonOf(both))['errors']).toEqual([
      {
        resource: 'OauthAccess',
        field: 'scopes',
        code: 'invalid',
        message: 'You can only send one of these scope keys at a time.',
      },
    ]);
    await api('POST', '/authorizations', { body: { ...oauthSecret(), fingerprint: 'c' } });
    expect((await patch({ fingerprint: 'c' })).status).toBe(422);
    const check = await jsonOf(
      await call(ghes, 'check', 'demo-oauth', { token: created['token'] as string }),
    );
    expect(check['scopes']).toEqual(['user']);
  });

  it("lists the user's own authorizations without tokens; another user's is 404; DELETE revokes", async () => {
    const list = (await (await api('GET', '/authorizations')).json()) as Array<
      Record<string, unknown>
    >;
    expect(list.map((a) => (a['app'] as { name: string }).name)).toEqual([
      'demo-oauth',
      'demo-github-app',
    ]);
    expect(list.every((a) => a['token'] === '')).toBe(true);
    const filtered = (await (
      await api('GET', `/authorizations?client_id=${oauthSecret().client_id}`)
    ).json()) as unknown[];
    expect(filtered).toHaveLength(1);
    const paged = (await (await api('GET', '/authorizations?per_page=1&page=2')).json()) as Array<
      Record<string, unknown>
    >;
    expect(paged.map((a) => a['id'])).toEqual([list[1]?.['id']]);
    const monalisas = [...ghes.state.tokens.values()].find((t) => t.userId === 2);
    expect((await api('GET', `/authorizations/${String(monalisas?.id)}`)).status).toBe(404);
    expect((await api('DELETE', `/authorizations/${String(list[0]?.['id'])}`)).status).toBe(204);
    expect(
      (await call(ghes, 'check', 'demo-oauth', { token: ghes.seed?.tokens.octocatOauth ?? '' }))
        .status,
    ).toBe(404);
  });
});

describe('grants', () => {
  it('one per app with the union of scopes; deleting one deletes every token of it', async () => {
    await api('POST', '/authorizations', {
      body: { ...oauthSecret(), scopes: ['gist', 'repo'], fingerprint: 'x' },
    });
    const grants = (await (await api('GET', '/applications/grants')).json()) as Array<
      Record<string, unknown>
    >;
    expect(grants.map((g) => [(g['app'] as { name: string }).name, g['scopes']])).toEqual([
      ['demo-oauth', ['repo', 'read:org', 'gist']],
      ['demo-github-app', []],
    ]);
    const id = String(grants[0]?.['id']);
    expect(await jsonOf(await api('GET', `/applications/grants/${id}`))).toEqual(grants[0]);
    expect((await api('DELETE', `/applications/grants/${id}`)).status).toBe(204);
    const left = [...ghes.state.tokens.values()]
      .filter((t) => t.userId === 1)
      .map((t) => t.clientId);
    expect(left).toEqual([credentials(ghes, 'demo-github-app').clientId]);
    expect((await api('GET', `/applications/grants/${id}`)).status).toBe(404);
    // A new grant for the same user × app gets a new id.
    await api('POST', '/authorizations', { body: { ...oauthSecret(), fingerprint: 'y' } });
    const after = (await (await api('GET', '/applications/grants')).json()) as Array<
      Record<string, unknown>
    >;
    expect(after.map((g) => g['id'])).not.toContain(grants[0]?.['id']);
  });

  it("another user's grant is 404 and stays", async () => {
    const auth = basic('monalisa', password('monalisa'));
    const theirs = (await (
      await api('GET', '/applications/grants', { auth, otp: await otpOf('monalisa') })
    ).json()) as Array<Record<string, unknown>>;
    const id = String(theirs[0]?.['id']);
    expect((await api('DELETE', `/applications/grants/${id}`)).status).toBe(404);
    expect(ghes.state.tokens.size).toBe(4);
  });
});

describe('counts and faults', () => {
  it('counts each operation and lets faults target it', async () => {
    ghes.addFault({ operation: 'create_authorization', status: 500, times: 1 });
    expect(
      (await api('POST', '/authorizations', { body: { ...oauthSecret(), fingerprint: 'f' } }))
        .status,
    ).toBe(500);
    expect(
      (await api('POST', '/authorizations', { body: { ...oauthSecret(), fingerprint: 'f' } }))
        .status,
    ).toBe(201);
    await api('GET', '/authorizations');
    expect(ghes.calls()).toMatchObject({
      create_authorization: 2,
      list_authorizations: 1,
      check: 0,
    });
  });
});
