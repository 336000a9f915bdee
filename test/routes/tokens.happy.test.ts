/**
 * The narrowed token API end to end: a real gateway (buildGateway) in front of a fresh GHES
 * emulator. Each operation's success answer, field by field, and what it does to the cache
 * (revocations through the gateway are visible at once, without waiting for a TTL).
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway, seedTokens } from '../helpers/gateway';

const OAUTH = 'demo-oauth';
const GH_APP = 'demo-github-app';
const path = (
  app: string,
  op: 'token/check' | 'token/reset' | 'token/scoped' | 'token/delete' | 'grant/delete',
) => `/v1/apps/${app}/${op}`;

/** The authorization fields the check endpoint passes on (GitHub's `authorization` schema minus secrets). */
const PUBLIC_FIELDS = [
  'app',
  'created_at',
  'expires_at',
  'fingerprint',
  'id',
  'note',
  'note_url',
  'scopes',
  'token_last_eight',
  'updated_at',
  'url',
  'user',
];

function totalCalls(gw: TestGateway): number {
  return Object.values(gw.emulator.calls()).reduce((a, b) => a + b, 0);
}

interface Authorization {
  id: number;
  token?: string;
  hashed_token?: string;
  token_last_eight: string | null;
  scopes: string[] | null;
  expires_at?: string | null;
  user?: { login: string; id: number } | null;
  app: { client_id: string; name: string; url: string };
  installation?: {
    permissions: Record<string, string>;
    repository_selection: string;
    account: { login: string; id: number };
  } | null;
}

const clientId = (gw: TestGateway, name: string): string => {
  const app = gw.apps.find((a) => a.name === name);
  if (app === undefined) throw new Error(`no app ${name}`);
  return app.client_id;
};

describe('POST /v1/apps/{app}/token/check', () => {
  it('answers the authorization without token or hashed_token, and a second check is an L1 hit', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;

    const first = await gw.post(path(OAUTH, 'token/check'), { access_token: token });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const firstStatus = first.headers.get('cache-status');
    expect(firstStatus).toMatch(/^ghes-token-gateway; fwd=uri-miss; fwd-status=200;/);
    expect(firstStatus).toContain('stored');
    const text = await first.text();
    expect(text).not.toContain(token);
    const body = JSON.parse(text) as Authorization;
    expect(Object.keys(body).sort()).toEqual(PUBLIC_FIELDS);
    expect(body).not.toHaveProperty('token');
    expect(body).not.toHaveProperty('hashed_token');
    expect(body.token_last_eight).toBe(token.slice(-8));
    expect(body.scopes).toEqual(['repo', 'read:org']);
    expect(body.expires_at).toBeNull();
    expect(body.user).toMatchObject({ login: 'octocat', id: 1 });
    expect(body.app).toEqual({
      client_id: clientId(gw, OAUTH),
      name: OAUTH,
      url: 'https://example.com/demo-oauth',
    });
    expect(gw.emulator.calls().check).toBe(1);

    const second = await gw.post(path(OAUTH, 'token/check'), { access_token: token });
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-status')).toMatch(/^ghes-token-gateway; hit;.*detail=l1/);
    expect(await second.json()).toEqual(body);
    expect(gw.emulator.calls().check).toBe(1);
    expect(totalCalls(gw)).toBe(1);
  });

  it('keeps expires_at of an expiring GitHub-App user token', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatGithubApp;
    const res = await gw.post(path(GH_APP, 'token/check'), { access_token: token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Authorization;
    // GitHub-App user tokens live 8 hours (the emulator's clock is the gateway's).
    expect(body.expires_at).toBe(
      new Date(gw.clock.now() + 8 * 3600_000).toISOString().replace('.000Z', 'Z'),
    );
    expect(body.scopes).toEqual([]);
    expect(body.user).toMatchObject({ login: 'octocat', id: 1 });
    expect(body.app.client_id).toBe(clientId(gw, GH_APP));
    expect(body.token_last_eight).toBe(token.slice(-8));
    expect(body).not.toHaveProperty('token');
    expect(body).not.toHaveProperty('hashed_token');
  });

  it('answers a token minted through the emulator admin API with its scopes', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({
      app: OAUTH,
      login: 'hubot',
      scopes: ['read:user', 'gist'],
    });
    const res = await gw.post(path(OAUTH, 'token/check'), { access_token: token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Authorization;
    expect(body.scopes).toEqual(['read:user', 'gist']);
    expect(body.user?.login).toBe('hubot');
  });
});

describe('POST /v1/apps/{app}/token/reset', () => {
  it('returns a new working token; the old one is 404 at once through the gateway', async () => {
    const gw = await createTestGateway();
    const old = seedTokens(gw).octocatOauth;
    // Cached as active first: the reset must drop that entry, not wait for its TTL.
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: old })).status).toBe(200);

    const res = await gw.post(path(OAUTH, 'token/reset'), { access_token: old });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Authorization;
    expect(typeof body.token).toBe('string');
    const fresh = body.token as string;
    expect(fresh).toMatch(/^gho_[A-Za-z0-9]{36}$/);
    expect(fresh).not.toBe(old);
    expect(body).not.toHaveProperty('hashed_token');
    expect(body.token_last_eight).toBe(fresh.slice(-8));
    expect(body.scopes).toEqual(['repo', 'read:org']);
    expect(body.user).toMatchObject({ login: 'octocat', id: 1 });
    expect(gw.emulator.calls().reset).toBe(1);

    const oldCheck = await gw.post(path(OAUTH, 'token/check'), { access_token: old });
    expect(oldCheck.status).toBe(404);
    expect(((await oldCheck.json()) as { code: string }).code).toBe('token-not-found');

    const freshCheck = await gw.post(path(OAUTH, 'token/check'), { access_token: fresh });
    expect(freshCheck.status).toBe(200);
    expect(((await freshCheck.json()) as Authorization).token_last_eight).toBe(fresh.slice(-8));
  });
});

describe('POST /v1/apps/{app}/token/scoped', () => {
  it('narrows a GitHub-App user token to one repository of a target account', async () => {
    const gw = await createTestGateway();
    const parent = seedTokens(gw).octocatGithubApp;
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: parent,
      target: 'octocat',
      repositories: ['hello-world'],
      permissions: { contents: 'read' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Authorization;
    const scoped = body.token as string;
    expect(scoped).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
    expect(scoped).not.toBe(parent);
    expect(body).not.toHaveProperty('hashed_token');
    expect(body.token_last_eight).toBe(scoped.slice(-8));
    expect(body.installation?.permissions).toEqual({ contents: 'read' });
    expect(body.installation?.repository_selection).toBe('selected');
    expect(body.installation?.account).toMatchObject({ login: 'octocat', id: 1 });
    expect(gw.emulator.calls().scoped).toBe(1);

    // The new token works through the gateway and carries its installation; the parent stays valid.
    const check = await gw.post(path(GH_APP, 'token/check'), { access_token: scoped });
    expect(check.status).toBe(200);
    const checked = (await check.json()) as Authorization;
    expect(checked).not.toHaveProperty('token');
    expect(checked.installation?.permissions).toEqual({ contents: 'read' });
    expect(checked.installation?.repository_selection).toBe('selected');
    expect((await gw.post(path(GH_APP, 'token/check'), { access_token: parent })).status).toBe(200);
  });

  it('accepts target_id and repository_ids (an organisation installation)', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: seedTokens(gw).octocatGithubApp,
      target_id: 3,
      repository_ids: [4200001],
      permissions: { issues: 'read', metadata: 'read' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Authorization;
    expect(body.installation?.account).toMatchObject({ login: 'octo-org', id: 3 });
    expect(body.installation?.permissions).toEqual({ issues: 'read', metadata: 'read' });
    expect(body.installation?.repository_selection).toBe('selected');
  });

  it('without permissions or repositories keeps the installation’s', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: seedTokens(gw).octocatGithubApp,
      target: 'octocat',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Authorization;
    expect(body.installation?.permissions).toEqual({
      metadata: 'read',
      contents: 'write',
      issues: 'write',
      pull_requests: 'write',
    });
    expect(body.installation?.repository_selection).toBe('all');
  });
});

describe('POST /v1/apps/{app}/token/delete', () => {
  it('answers 204; the token then checks 404 at once, without a GHES call', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: token })).status).toBe(200);

    const res = await gw.post(path(OAUTH, 'token/delete'), { access_token: token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(gw.emulator.calls().delete).toBe(1);

    const before = gw.emulator.calls().check;
    const check = await gw.post(path(OAUTH, 'token/check'), { access_token: token });
    expect(check.status).toBe(404);
    expect(((await check.json()) as { code: string }).code).toBe('token-not-found');
    // Answered by the tombstone the delete left, not by asking GHES again.
    expect(gw.emulator.calls().check).toBe(before);
    expect(check.headers.get('cache-status')).toMatch(/; hit/);

    // GHES agrees: the token is really gone there.
    expect(gw.emulator.revokeToken(token)).toBe(false);
  });
});

describe('POST /v1/apps/{app}/grant/delete', () => {
  it('answers 204; every token of that user for that app is dead, cached ones included', async () => {
    const gw = await createTestGateway();
    const seed = seedTokens(gw);
    const second = gw.emulator.createToken({
      app: OAUTH,
      login: 'octocat',
      scopes: ['gist'],
    }).token;
    const third = gw.emulator.createToken({ app: OAUTH, login: 'octocat' }).token;
    const sameUserOtherApp = seed.octocatGithubApp;
    const otherUser = seed.monalisaOauth;
    for (const [app, t] of [
      [OAUTH, seed.octocatOauth],
      [OAUTH, second],
      [OAUTH, third],
      [GH_APP, sameUserOtherApp],
      [OAUTH, otherUser],
    ] as const) {
      expect((await gw.post(path(app, 'token/check'), { access_token: t })).status).toBe(200);
    }

    const res = await gw.post(path(OAUTH, 'grant/delete'), { access_token: second });
    expect(res.status).toBe(204);
    expect(gw.emulator.calls().grant).toBe(1);

    for (const t of [seed.octocatOauth, second, third]) {
      const check = await gw.post(path(OAUTH, 'token/check'), { access_token: t });
      expect(check.status).toBe(404);
    }
    // Other users of the app and the same user's tokens for other apps are untouched.
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: otherUser })).status).toBe(
      200,
    );
    expect(
      (await gw.post(path(GH_APP, 'token/check'), { access_token: sameUserOtherApp })).status,
    ).toBe(200);
  });
});

describe('operational routes', () => {
  it('GET /healthz answers without caller auth and without a GHES call', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(totalCalls(gw)).toBe(0);
  });

  it('GET /openapi.json is valid JSON listing the /v1 token paths', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/v1/apps/{app}/token/check',
      '/v1/apps/{app}/token/reset',
      '/v1/apps/{app}/token/scoped',
      '/v1/apps/{app}/token/delete',
      '/v1/apps/{app}/grant/delete',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
      expect(Object.keys(doc.paths[p] ?? {})).toEqual(['post']);
    }
    // Tokens travel in bodies: no documented operation takes one in the path or the query.
    const params = JSON.stringify(Object.values(doc.paths).flatMap((ops) => Object.values(ops)));
    expect(params).not.toMatch(/"name":"access_token","in":"(path|query)"/);
  });
});

describe('body style vs legacy path style, by GHES version and GHES_API_STYLE', () => {
  const BODY_OPS = ['check', 'reset', 'delete', 'grant'] as const;
  const LEGACY_OPS = ['legacy_check', 'legacy_reset', 'legacy_delete', 'legacy_grant'] as const;

  /** Check, reset, delete and grant delete through the gateway; returns the reset's new token. */
  async function allFour(gw: TestGateway): Promise<string> {
    const seed = seedTokens(gw);
    expect(
      (await gw.post(path(OAUTH, 'token/check'), { access_token: seed.octocatOauth })).status,
    ).toBe(200);
    const reset = await gw.post(path(OAUTH, 'token/reset'), { access_token: seed.octocatOauth });
    expect(reset.status).toBe(200);
    const fresh = ((await reset.json()) as Authorization).token as string;
    expect((await gw.post(path(OAUTH, 'token/delete'), { access_token: fresh })).status).toBe(204);
    expect(
      (await gw.post(path(OAUTH, 'grant/delete'), { access_token: seed.monalisaOauth })).status,
    ).toBe(204);
    return fresh;
  }

  it.each([
    ['3.3', 'legacy', 'legacy'],
    ['3.3', 'auto', 'body'],
    ['3.3', 'body', 'body'],
    ['3.4', 'auto', 'body'],
    ['3.22', 'auto', 'body'],
    ['2.20', 'auto', 'body'],
    ['2.20', 'legacy', 'legacy'],
    ['2.19', 'auto', 'legacy'],
    ['2.18', 'auto', 'legacy'],
  ] as const)(
    'GHES %s with GHES_API_STYLE=%s uses %s-style calls for all four operations',
    async (version, apiStyle, style) => {
      const gw = await createTestGateway({ version, apiStyle });
      const fresh = await allFour(gw);
      const calls = gw.emulator.calls();
      // The grant delete checks the token first (to learn the user whose cached tokens to drop).
      const [used, unused] = style === 'legacy' ? [LEGACY_OPS, BODY_OPS] : [BODY_OPS, LEGACY_OPS];
      expect(used.map((op) => calls[op])).toEqual([2, 1, 1, 1]);
      expect(unused.map((op) => calls[op])).toEqual([0, 0, 0, 0]);

      const seed = seedTokens(gw);
      const urls = gw.outbound.map((o) => o.url);
      expect(urls).toHaveLength(5);
      const withToken = urls.filter((u) =>
        [seed.octocatOauth, seed.monalisaOauth, fresh].some((t) => u.includes(t)),
      );
      // Legacy calls carry the token in the path (why they must never be logged); body-style never.
      expect(withToken).toHaveLength(style === 'legacy' ? 5 : 0);
    },
  );

  it('scoped tokens always use the body-style endpoint (there is no legacy one), even with GHES_API_STYLE=legacy', async () => {
    const gw = await createTestGateway({ version: '3.3', apiStyle: 'legacy' });
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: seedTokens(gw).octocatGithubApp,
      target: 'octocat',
      permissions: { contents: 'read' },
    });
    expect(res.status).toBe(200);
    expect(gw.emulator.calls().scoped).toBe(1);
    expect(gw.outbound.map((o) => [o.method, new URL(o.url).pathname])).toEqual([
      ['POST', `/api/v3/applications/${clientId(gw, GH_APP)}/token/scoped`],
    ]);
  });

  it('body-style requests are the documented GHES calls', async () => {
    const gw = await createTestGateway({ version: '3.4' });
    await allFour(gw);
    const base = `/api/v3/applications/${clientId(gw, OAUTH)}`;
    expect(gw.outbound.map((o) => [o.method, new URL(o.url).pathname])).toEqual([
      ['POST', `${base}/token`],
      ['PATCH', `${base}/token`],
      ['DELETE', `${base}/token`],
      ['POST', `${base}/token`],
      ['DELETE', `${base}/grant`],
    ]);
  });
});
