/** The Authorizations API routes: every refusal, mapped to its problem, before or from GHES. */
import { describe, expect, it } from 'vitest';
import { createTestGateway } from '../helpers/gateway';
import { asUser, monalisa, octocat } from './authorizations.harness';

type Json = Record<string, unknown>;

function totalCalls(gw: { emulator: { calls(): Record<string, number> } }): number {
  return Object.values(gw.emulator.calls()).reduce((a, b) => a + b, 0);
}

async function problemOf(res: Response): Promise<Json> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as Json;
}

describe('Authorizations API, refusals before GHES', () => {
  it('off for an app without authorizations_api: 404 authorizations-disabled, no GHES call', async () => {
    const gw = await createTestGateway({ authorizationsApi: [] });
    const res = await asUser(gw, 'GET', 'authorizations', { user: octocat(gw) });
    expect(res.status).toBe(404);
    expect((await problemOf(res))['code']).toBe('authorizations-disabled');
    expect(totalCalls(gw)).toBe(0);
  });

  it('a GitHub App: authorizations-disabled', async () => {
    const gw = await createTestGateway();
    const res = await asUser(gw, 'GET', 'grants', { user: octocat(gw), app: 'demo-github-app' });
    expect((await problemOf(res))['code']).toBe('authorizations-disabled');
  });

  it.each([
    ['no header', undefined],
    ['not Basic', 'Bearer abc'],
    ['not base64', 'Basic !!!'],
    ['no colon', `Basic ${btoa('octocat')}`],
    ['empty password', `Basic ${btoa('octocat:')}`],
    ['a CR in the password', `Basic ${btoa('octocat:a\rb')}`],
  ])('user header %s → 400 invalid-request, no GHES call', async (_name, header) => {
    const gw = await createTestGateway();
    const res = await asUser(gw, 'GET', 'authorizations', {
      headers: header === undefined ? {} : { 'x-ghes-user-authorization': header },
    });
    expect(res.status).toBe(400);
    expect((await problemOf(res))['code']).toBe('invalid-request');
    expect(totalCalls(gw)).toBe(0);
  });

  it('an OTP that is not digits → 400', async () => {
    const gw = await createTestGateway();
    const res = await asUser(gw, 'GET', 'authorizations', {
      user: { ...octocat(gw), otp: '12ab56' },
    });
    expect(res.status).toBe(400);
  });

  it('PATCH with two of scopes/add_scopes/remove_scopes, or nothing → 422, no GHES call', async () => {
    const gw = await createTestGateway();
    for (const body of [{ scopes: ['repo'], add_scopes: ['user'] }, {}]) {
      const res = await asUser(gw, 'PATCH', 'authorizations/1', { user: octocat(gw), body });
      expect(res.status).toBe(422);
      expect((await problemOf(res))['code']).toBe('validation-failed');
    }
    expect(totalCalls(gw)).toBe(0);
  });

  it('scopes above the caller ceiling → 403 before GHES; a child of a listed scope is fine', async () => {
    const gw = await createTestGateway({
      policy: {
        'svc-demo': {
          apps: ['demo-oauth'],
          operations: ['authorizations_read', 'authorizations_write'],
          authorization_scopes: ['repo'],
        },
      },
    });
    const user = octocat(gw);
    for (const [method, body] of [
      ['POST', { scopes: ['repo', 'admin:org'] }],
      ['PUT', { scopes: ['delete_repo'] }],
      ['PATCH', { add_scopes: ['user'] }],
    ] as const) {
      const res = await asUser(
        gw,
        method,
        method === 'PATCH' ? 'authorizations/1' : 'authorizations',
        { user, body },
      );
      expect(res.status, method).toBe(403);
      expect((await problemOf(res))['code']).toBe('forbidden');
    }
    expect(totalCalls(gw)).toBe(0);
    const ok = await asUser(gw, 'POST', 'authorizations', {
      user,
      body: { scopes: ['public_repo'], fingerprint: 'c' },
    });
    expect(ok.status).toBe(201);
  });

  it('a caller with read only may list but not write', async () => {
    const gw = await createTestGateway({
      policy: { 'svc-demo': { apps: ['demo-oauth'], operations: ['authorizations_read'] } },
    });
    const user = octocat(gw);
    expect((await asUser(gw, 'GET', 'authorizations', { user })).status).toBe(200);
    const res = await asUser(gw, 'DELETE', 'authorizations/1', { user });
    expect(res.status).toBe(403);
  });

  it('the user-login limit refuses with 429 before GHES', async () => {
    const deny = { limit: async () => ({ success: false }) };
    const gw = await createTestGateway({ vars: { USER_LOGIN_RATE_LIMITER: deny } });
    const res = await asUser(gw, 'GET', 'authorizations', { user: octocat(gw) });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(totalCalls(gw)).toBe(0);
  });
});

describe('Authorizations API, GHES refusals', () => {
  it('a wrong password → 401 user-credentials-rejected (not unauthorized, no challenge)', async () => {
    const gw = await createTestGateway();
    const res = await asUser(gw, 'GET', 'authorizations', {
      user: { login: 'octocat', password: 'wrong' },
    });
    expect(res.status).toBe(401);
    expect((await problemOf(res))['code']).toBe('user-credentials-rejected');
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('a wrong OTP → 401 user-otp-required again', async () => {
    const gw = await createTestGateway();
    const res = await asUser(gw, 'GET', 'grants', { user: { ...monalisa(gw), otp: '000000' } });
    expect(res.status).toBe(401);
    expect((await problemOf(res))['code']).toBe('user-otp-required');
  });

  it("POST with a fingerprint in use → 422 keeping GitHub's message", async () => {
    const gw = await createTestGateway();
    const user = octocat(gw);
    await asUser(gw, 'POST', 'authorizations', { user, body: { fingerprint: 'dup' } });
    const res = await asUser(gw, 'POST', 'authorizations', { user, body: { fingerprint: 'dup' } });
    const p = await problemOf(res);
    expect(res.status).toBe(422);
    expect(p['code']).toBe('upstream-validation-failed');
    expect(p['detail']).toBe('Validation Failed');
    expect(p['upstream_errors']).toEqual([
      expect.objectContaining({ code: 'already_exists', field: 'fingerprint' }),
    ]);
  });

  it('an unknown id → 404 authorization-not-found; GET, PATCH, DELETE, grant DELETE', async () => {
    const gw = await createTestGateway();
    const user = octocat(gw);
    for (const [method, path, body] of [
      ['GET', 'authorizations/999999', undefined],
      ['PATCH', 'authorizations/999999', { note: 'x' }],
      ['DELETE', 'authorizations/999999', undefined],
      ['DELETE', 'grants/999999', undefined],
    ] as const) {
      const res = await asUser(gw, method, path, { user, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await problemOf(res))['code']).toBe('authorization-not-found');
    }
  });

  it("another app's authorization is 404 and is not changed", async () => {
    const gw = await createTestGateway({ authorizationsApi: ['demo-oauth', 'second-oauth'] });
    // A second OAuth app of the same user, through the emulator's admin API.
    const add = await gw.emulator.fetch('https://ghes.test/_emulator/apps', {
      method: 'POST',
      body: JSON.stringify({ name: 'other-oauth', kind: 'oauth_app' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(add.status).toBeLessThan(300);
    const other = (await (await gw.emulator.fetch('https://ghes.test/_emulator/apps')).json()) as {
      name: string;
      client_id: string;
      client_secret: string;
    }[];
    const app = other.find((a) => a.name === 'other-oauth');
    if (app === undefined) throw new Error('no second app');
    const user = octocat(gw);
    const basic = btoa(`${user.login}:${user.password}`);
    const made = await gw.emulator.fetch('https://ghes.test/api/v3/authorizations', {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: app.client_id,
        client_secret: app.client_secret,
        fingerprint: 'o',
      }),
    });
    const id = ((await made.json()) as Json)['id'];
    expect(made.status).toBe(201);
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { note: 'hijack' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await asUser(gw, method, `authorizations/${String(id)}`, { user, body });
      expect(res.status, method).toBe(404);
      expect((await problemOf(res))['code']).toBe('authorization-not-found');
    }
    const still = await gw.emulator.fetch(`https://ghes.test/api/v3/authorizations/${String(id)}`, {
      headers: { authorization: `Basic ${basic}` },
    });
    expect(still.status).toBe(200);
    expect(((await still.json()) as Json)['note']).not.toBe('hijack');
    expect(gw.outbound.filter((o) => o.method === 'PATCH' || o.method === 'DELETE')).toEqual([]);
  });

  it('GHES 5xx on create → 502 upstream-outcome-unknown, one attempt', async () => {
    const gw = await createTestGateway();
    await gw.emulator.fetch('https://ghes.test/_emulator/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 502, times: 5 }),
    });
    const res = await asUser(gw, 'POST', 'authorizations', { user: octocat(gw), body: {} });
    expect(res.status).toBe(502);
    expect((await problemOf(res))['code']).toBe('upstream-outcome-unknown');
    expect(gw.outbound.filter((o) => o.url.endsWith('/authorizations'))).toHaveLength(1);
  });

  it('GET /user failing: nothing is deleted, the problem is passed on, a retry works', async () => {
    const gw = await createTestGateway();
    const user = octocat(gw);
    const created = (await (
      await asUser(gw, 'POST', 'authorizations', { user, body: { fingerprint: 'u' } })
    ).json()) as Json;
    const token = String(created['token']);
    expect((await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token })).status).toBe(
      200,
    );
    gw.emulator.addFault({ status: 503, operation: 'get_user', times: 10 });
    const del = await asUser(gw, 'DELETE', `authorizations/${String(created['id'])}`, { user });
    const problem = await problemOf(del);
    expect(del.status, JSON.stringify(problem)).toBe(502);
    expect(problem['code']).toBe('upstream-error');
    // The gateway could not name the user whose cached checks to end, so it deleted nothing.
    expect(gw.emulator.calls().delete_authorization).toBe(0);
    const check = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
    expect(check.status).toBe(200);
    gw.emulator.clearFaults();
    const retry = await asUser(gw, 'DELETE', `authorizations/${String(created['id'])}`, { user });
    expect(retry.status).toBe(204);
    expect((await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token })).status).toBe(
      404,
    );
  });

  it('DELETE carried out but its answer lost: the token no longer checks from the cache', async () => {
    const gw = await createTestGateway();
    const user = octocat(gw);
    const created = (await (
      await asUser(gw, 'POST', 'authorizations', { user, body: { fingerprint: 'lost' } })
    ).json()) as Json;
    const token = String(created['token']);
    expect((await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token })).status).toBe(
      200,
    );
    gw.emulator.addFault({ commit_then_fail: true, drop: true, operation: 'delete_authorization' });
    const del = await asUser(gw, 'DELETE', `authorizations/${String(created['id'])}`, { user });
    expect(del.status).toBeGreaterThanOrEqual(500);
    const check = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
    expect(check.status).toBe(404);
    expect(check.headers.get('cache-status')).not.toMatch(/hit/);
  });
});
