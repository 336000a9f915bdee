/**
 * POST /webhooks/github/{app}: a revocation made in GHES reaches the cache at once (issue 12 §2).
 * Each handled event turns a cached active answer inactive, at /token/check and /introspect.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createTestGateway, seedTokens, type TestGateway } from '../helpers/gateway';
import { checkStatus, deliver, GH_APP, revoked } from './webhooks.harness';

function clientIdOf(gw: TestGateway): string {
  const app = gw.apps.find((a) => a.name === GH_APP);
  if (app === undefined) throw new Error('no demo GitHub App');
  return app.client_id;
}

/** Caches octocat's GitHub-App token as active, then revokes it in GHES behind the gateway. */
async function cachedThenRevokedInGhes(gw: TestGateway): Promise<string> {
  const token = seedTokens(gw).octocatGithubApp;
  expect(await checkStatus(gw, token)).toBe(200);
  await gw.settle();
  expect(gw.emulator.state.deleteGrant(clientIdOf(gw), 1)).toBeGreaterThan(0);
  // The gateway does not know yet: its cached answer still says active.
  expect(await checkStatus(gw, token)).toBe(200);
  return token;
}

async function introspectedActive(gw: TestGateway, token: string): Promise<unknown> {
  const res = await gw.request('/introspect', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await gw.caller()}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: `token=${encodeURIComponent(token)}&app=${GH_APP}`,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { active: unknown }).active;
}

describe('POST /webhooks/github/{app}', () => {
  it('github_app_authorization revoked: the user’s cached tokens are inactive at once', async () => {
    const gw = await createTestGateway();
    const token = await cachedThenRevokedInGhes(gw);
    expect(await introspectedActive(gw, token)).toBe(true);
    const checksBefore = gw.emulator.calls().check;

    const res = await deliver(gw, { payload: revoked(1) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'processed', event: 'github_app_authorization' });

    expect(await checkStatus(gw, token)).toBe(404);
    expect(await introspectedActive(gw, token)).toBe(false);
    // Re-checked with GHES, not guessed.
    expect(gw.emulator.calls().check).toBeGreaterThan(checksBefore);
    expect(gw.logs).toContainEqual(
      expect.objectContaining({
        event: 'webhook.grants_revoked',
        app: GH_APP,
        handled: 'github_app_authorization.revoked',
        user_ids: [1],
      }),
    );
    expect(gw.logs).toContainEqual(
      expect.objectContaining({ event: 'request', operation: 'webhook', outcome: 'processed' }),
    );
  });

  it('end to end: revoked in GHES (emulator admin API) → signed webhook → inactive at once', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatGithubApp;
    expect(await checkStatus(gw, token)).toBe(200);
    expect(await introspectedActive(gw, token)).toBe(true);
    await gw.settle();

    const res = await gw.emulator.fetch('https://ghes.test/_emulator/users/octocat/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app: GH_APP }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      tokens_revoked: 1,
      webhook: {
        event: 'github_app_authorization',
        url: 'https://gateway.test/webhooks/github/demo-github-app',
        status: 200,
      },
    });
    await gw.settle();
    expect(await checkStatus(gw, token)).toBe(404);
    expect(await introspectedActive(gw, token)).toBe(false);
  });

  it('another user’s cached token stays a cache hit', async () => {
    const gw = await createTestGateway();
    const other = seedTokens(gw).monalisaGithubApp;
    expect(await checkStatus(gw, other)).toBe(200);
    await gw.settle();
    const checks = gw.emulator.calls().check;
    expect((await deliver(gw, { payload: revoked(1) })).status).toBe(200);
    expect(await checkStatus(gw, other)).toBe(200);
    expect(gw.emulator.calls().check).toBe(checks);
  });

  it.each(['deleted', 'suspend'])(
    'installation %s on the user’s account: their cached tokens are re-checked',
    async (action) => {
      const gw = await createTestGateway();
      const token = await cachedThenRevokedInGhes(gw);
      const res = await deliver(gw, {
        event: 'installation',
        payload: {
          action,
          sender: { login: 'site-admin', id: 99, type: 'User' },
          installation: { id: 1, account: { login: 'octocat', id: 1, type: 'User' } },
        },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'processed', event: 'installation' });
      expect(await checkStatus(gw, token)).toBe(404);
      expect(await introspectedActive(gw, token)).toBe(false);
    },
  );

  it('a replayed delivery answers 200 duplicate and is not acted on twice', async () => {
    const gw = await createTestGateway();
    const delivery = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
    expect((await deliver(gw, { delivery })).status).toBe(200);
    const replay = await deliver(gw, { delivery });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ status: 'duplicate', event: 'github_app_authorization' });
    const acted = gw.logs.filter((r) => r.event === 'webhook.grants_revoked');
    expect(acted).toHaveLength(1);
    const keys = (await env.TOKEN_CACHE.list({ prefix: 'v1:delivery:' })).keys.map((k) => k.name);
    expect(keys).toContain(`v1:delivery:Iv1.9d2c5e8f1a3b4c6d:${delivery}`);
    expect(gw.logs.filter((r) => r.event === 'cache.grant_invalidated')).toHaveLength(1);
  });

  it('a replay reaching another isolate (same KV) is not acted on either', async () => {
    const first = await createTestGateway();
    const delivery = '8a1c7e2f-0b3d-4e5f-9a6b-7c8d9e0f1a2b';
    expect((await deliver(first, { delivery })).status).toBe(200);
    // A second gateway (another isolate) on the same KV namespace, the default test binding.
    const second = await createTestGateway();
    const fair = await deliver(second, { delivery });
    expect(fair.status).toBe(200);
    expect(await fair.json()).toEqual({ status: 'duplicate', event: 'github_app_authorization' });
    expect(second.logs.filter((r) => r.event === 'webhook.grants_revoked')).toHaveLength(0);
  });

  it.each([
    ['ping', { zen: 'Design for failure.', hook_id: 42 }],
    ['installation', { action: 'created', sender: { id: 1 }, installation: { id: 9 } }],
    ['installation', { action: 'unsuspend', sender: { id: 1 }, installation: { id: 9 } }],
    ['push', { ref: 'refs/heads/main' }],
  ])('%s is acknowledged with 202 and changes nothing', async (event, payload) => {
    const gw = await createTestGateway();
    const token = await cachedThenRevokedInGhes(gw);
    const deliveryKeys = async () =>
      (await env.TOKEN_CACHE.list({ prefix: 'v1:delivery:' })).keys.map((k) => k.name);
    const before = await deliveryKeys();
    const res = await deliver(gw, { event, payload });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'ignored', event });
    expect(await checkStatus(gw, token)).toBe(200);
    expect(gw.logs.some((r) => r.event === 'cache.grant_invalidated')).toBe(false);
    // Remembered in this isolate only: no KV write for an event that changes nothing.
    expect(await deliveryKeys()).toEqual(before);
  });
});
