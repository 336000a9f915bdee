/**
 * The Authorizations API routes end to end against the emulator: what a caller gets, on GHES
 * 2.22, 3.3 and 3.22 (every release describes the family, marked deprecated). GitHub's answers
 * name no user, so the gateway asks `GET /user` for the grant epoch it moves.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, seedTokens, type TestGateway } from '../helpers/gateway';
import { introspect } from '../introspection/requests';
import { asUser, monalisa, octocat, otpOf } from './authorizations.harness';

type Json = Record<string, unknown>;

const checkToken = (gw: TestGateway, token: string) =>
  gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });

/** octocat's demo-oauth token from the seed: the same grant as octocat's new ones. */
const seedTokenOf = (gw: TestGateway) => seedTokens(gw).octocatOauth;

async function active(gw: TestGateway, token: string): Promise<boolean> {
  const res = await introspect(gw, { token });
  return ((await res.json()) as { active: boolean }).active;
}

describe.each(['2.22', '3.3', '3.22'])('Authorizations API on GHES %s, happy paths', (version) => {
  const createTestGatewayAt = () => createTestGateway({ version });

  it('POST creates a token (201, shown once) that checks like any other', async () => {
    const gw = await createTestGatewayAt();
    const user = octocat(gw);
    const res = await asUser(gw, 'POST', 'authorizations', {
      user,
      body: { scopes: ['repo'], note: 'ci', fingerprint: 'fp-1' },
    });
    const created = (await res.json()) as Json;
    expect(res.status, JSON.stringify(created)).toBe(201);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(typeof created['token']).toBe('string');
    expect(created).not.toHaveProperty('hashed_token');
    expect(created['scopes']).toEqual(['repo']);
    const check = await checkToken(gw, String(created['token']));
    expect(check.status).toBe(200);
    expect(((await check.json()) as Json)['id']).toBe(created['id']);
    expect(await active(gw, String(created['token']))).toBe(true);
    // 40 hex characters before 3.2, gho_ from then (as the web flow's tokens).
    expect(created['token']).toMatch(version === '2.22' ? /^[0-9a-f]{40}$/ : /^gho_/);
  });

  it('PUT get-or-create: 201 with the token, then 200 without it and what to do next', async () => {
    const gw = await createTestGatewayAt();
    const user = octocat(gw);
    const first = await asUser(gw, 'PUT', 'authorizations', {
      user,
      body: { fingerprint: 'laptop', scopes: ['read:org'] },
    });
    const a = (await first.json()) as Json;
    expect(first.status, JSON.stringify(a)).toBe(201);
    expect(a['token_returned']).toBe(true);
    expect(typeof a['token']).toBe('string');
    const again = await asUser(gw, 'PUT', 'authorizations', {
      user,
      body: { fingerprint: 'laptop', scopes: ['read:org'] },
    });
    const b = (await again.json()) as Json;
    expect(again.status, JSON.stringify(b)).toBe(200);
    expect(b['id']).toBe(a['id']);
    expect(b['token_returned']).toBe(false);
    expect(b).not.toHaveProperty('token');
    expect(String(b['next'])).toMatch(/DELETE/);
    // The token of the 201 is the one GHES keeps.
    expect(await active(gw, String(a['token']))).toBe(true);
  });

  it("GET lists this app's authorizations without tokens; GET one; PATCH; DELETE", async () => {
    const gw = await createTestGatewayAt();
    const user = octocat(gw);
    const created = (await (
      await asUser(gw, 'POST', 'authorizations', {
        user,
        body: { scopes: ['repo', 'user'], fingerprint: 'lpd' },
      })
    ).json()) as Json;
    const token = String(created['token']);
    const id = Number(created['id']);

    const list = await asUser(gw, 'GET', 'authorizations', { user });
    const items = (await list.json()) as Json[];
    expect(list.status).toBe(200);
    expect(items.map((i) => i['id'])).toContain(id);
    expect(JSON.stringify(items)).not.toContain(token);
    for (const i of items)
      expect((i['app'] as Json)['client_id']).toBe(
        gw.apps.find((a) => a.name === 'demo-oauth')?.client_id,
      );

    const one = await asUser(gw, 'GET', `authorizations/${id}`, { user });
    expect(one.status).toBe(200);
    expect(await one.text()).not.toContain(token);

    // Cached with both scopes, then narrowed: the next check re-checks at GHES.
    expect((await checkToken(gw, token)).status).toBe(200);
    const patched = await asUser(gw, 'PATCH', `authorizations/${id}`, {
      user,
      body: { remove_scopes: ['user'], note: 'narrowed' },
    });
    const p = (await patched.json()) as Json;
    expect(patched.status, JSON.stringify(p)).toBe(200);
    expect(p['scopes']).toEqual(['repo']);
    expect(p['note']).toBe('narrowed');
    const narrowed = await checkToken(gw, token);
    expect(narrowed.headers.get('cache-status')).not.toMatch(/hit/);
    expect(((await narrowed.json()) as Json)['scopes']).toEqual(['repo']);
    // GitHub's Authorizations answers name no user: the gateway asked GHES who this is.
    expect(gw.emulator.calls().get_user).toBe(1);

    expect(await active(gw, token)).toBe(true);
    const del = await asUser(gw, 'DELETE', `authorizations/${id}`, { user });
    expect(del.status).toBe(204);
    expect(gw.emulator.calls().get_user).toBe(2);
    const check = await checkToken(gw, token);
    expect(check.status).toBe(404);
    expect(await active(gw, token)).toBe(false);
    const gone = await asUser(gw, 'GET', `authorizations/${id}`, { user });
    expect(gone.status).toBe(404);
  });

  it('a two-factor user: 401 user-otp-required, then the same request with the code', async () => {
    const gw = await createTestGatewayAt();
    const user = monalisa(gw);
    const first = await asUser(gw, 'POST', 'authorizations', {
      user,
      body: { note: 'x', fingerprint: 'otp' },
    });
    const problem = (await first.json()) as Json;
    expect(first.status).toBe(401);
    expect(problem['code']).toBe('user-otp-required');
    expect(problem['otp_type']).toBe('app');
    expect(first.headers.get('x-github-otp')).toBe('required; app');
    const otp = await otpOf(gw, 'monalisa');
    const second = await asUser(gw, 'POST', 'authorizations', {
      user: { ...user, otp },
      body: { note: 'x', fingerprint: 'otp' },
    });
    const created = (await second.json()) as Json;
    expect(second.status, JSON.stringify(created)).toBe(201);
    // Deleting needs the code too, also for GET /user (the same 30 s step here).
    const del = await asUser(gw, 'DELETE', `authorizations/${String(created['id'])}`, {
      user: { ...user, otp },
    });
    expect(del.status, await del.clone().text()).toBe(204);
    expect(gw.emulator.calls().get_user).toBe(1);
    expect(await active(gw, String(created['token']))).toBe(false);
  });

  it("grants: list this app's grant, delete it, and its tokens stop checking at once", async () => {
    const gw = await createTestGatewayAt();
    const user = octocat(gw);
    const created = (await (
      await asUser(gw, 'POST', 'authorizations', {
        user,
        body: { scopes: ['repo'], fingerprint: 'g' },
      })
    ).json()) as Json;
    const token = String(created['token']);
    // Cached as active first.
    expect((await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token })).status).toBe(
      200,
    );
    const list = await asUser(gw, 'GET', 'grants', { user });
    const grants = (await list.json()) as Json[];
    expect(list.status, JSON.stringify(grants)).toBe(200);
    expect(grants).toHaveLength(1);
    const del = await asUser(gw, 'DELETE', `grants/${String(grants[0]?.['id'])}`, { user });
    expect(del.status, await del.clone().text()).toBe(204);
    const check = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
    expect(check.status).toBe(404);
    expect(check.headers.get('cache-status')).not.toMatch(/hit/);
    expect(await active(gw, token)).toBe(false);
    // Every token of the grant went, the seed's one too; the grant list is empty.
    expect(await active(gw, String(seedTokenOf(gw)))).toBe(false);
    const after = (await (await asUser(gw, 'GET', 'grants', { user })).json()) as Json[];
    expect(after).toEqual([]);
  });

  it('the list pages: page and per_page reach GHES', async () => {
    const gw = await createTestGatewayAt();
    const user = octocat(gw);
    for (const fp of ['a', 'b', 'c'])
      await asUser(gw, 'POST', 'authorizations', { user, body: { fingerprint: fp } });
    const one = await asUser(gw, 'GET', 'authorizations?per_page=1', { user });
    const two = await asUser(gw, 'GET', 'authorizations?per_page=1&page=2', { user });
    expect(one.status).toBe(200);
    const [a, b] = [(await one.json()) as Json[], (await two.json()) as Json[]];
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]?.['id']).not.toBe(b[0]?.['id']);
    // The emulator sends no Link header; reading GHES's rel="next" is tested in
    // test/ghes/authorizations/authorizations.test.ts.
  });
});

describe('Authorizations API, the OpenAPI document', () => {
  it('OpenAPI documents every route', async () => {
    const gw = await createTestGateway();
    const doc = (await (await gw.request('/openapi.json')).json()) as {
      paths: Record<string, Json>;
    };
    expect(Object.keys(doc.paths['/v1/apps/{app}/authorizations'] ?? {}).sort()).toEqual([
      'get',
      'post',
      'put',
    ]);
    expect(Object.keys(doc.paths['/v1/apps/{app}/authorizations/{id}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
    ]);
    expect(Object.keys(doc.paths['/v1/apps/{app}/grants'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/apps/{app}/grants/{id}'] ?? {})).toEqual(['delete']);
  });
});
