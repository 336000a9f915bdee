/**
 * Revoking a GitHub App for a user through the admin API (emulator/webhooks.ts): the grant and
 * its tokens go, and the signed `github_app_authorization` webhook is delivered to `webhook_url`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createGhesEmulator, type AppInfo, type GhesEmulator } from './index';
import { admin, call, FIXED_NOW } from './test-client';
import { signWebhook } from './webhooks';

interface Sent {
  url: string;
  headers: Headers;
  body: string;
}

let ghes: GhesEmulator;
let sent: Sent[];
let answer: () => Promise<Response>;

beforeEach(() => {
  sent = [];
  answer = async () => new Response(null, { status: 200 });
  ghes = createGhesEmulator({
    now: () => FIXED_NOW,
    webhookFetch: async (url, init) => {
      sent.push({ url, headers: new Headers(init.headers), body: String(init.body) });
      return answer();
    },
  });
});

const app = (name: string): AppInfo => {
  const found = ghes.apps().find((a) => a.name === name);
  if (!found) throw new Error(name);
  return found;
};
const revoke = (login: string, body: unknown) => admin(ghes, 'POST', `users/${login}/revoke`, body);
const seedToken = (): string => ghes.seed?.tokens.octocatGithubApp ?? '';

describe('POST /_emulator/users/{login}/revoke', () => {
  it('revokes the grant and delivers the signed github_app_authorization webhook', async () => {
    const url = 'https://gateway.test/webhooks/github/demo-github-app';
    expect((await admin(ghes, 'POST', 'config', { webhook_url: url })).status).toBe(200);
    const res = await revoke('octocat', { app: 'demo-github-app' });
    expect(res.status).toBe(200);
    const out = (await res.json()) as Record<string, unknown>;
    expect(out).toMatchObject({
      login: 'octocat',
      app: 'demo-github-app',
      tokens_revoked: 1,
      webhook: { event: 'github_app_authorization', url, status: 200 },
    });

    expect(sent).toHaveLength(1);
    const [d] = sent as [Sent];
    expect(d.url).toBe(url);
    expect(d.headers.get('x-github-event')).toBe('github_app_authorization');
    expect(d.headers.get('x-github-delivery')).toBe((out['webhook'] as { id: string }).id);
    expect(d.headers.get('x-github-delivery')).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.headers.get('user-agent')).toMatch(/^GitHub-Hookshot\//);
    expect(d.headers.get('content-type')).toBe('application/json');
    const secret = app('demo-github-app').webhook_secret ?? '';
    expect(d.headers.get('x-hub-signature-256')).toBe(await signWebhook(secret, d.body));
    expect(JSON.parse(d.body)).toMatchObject({
      action: 'revoked',
      sender: { login: 'octocat', id: 1, type: 'User' },
    });

    // The token is gone at GHES.
    const check = await call(ghes, 'check', 'demo-github-app', { token: seedToken() });
    expect(check.status).toBe(404);
  });

  it('puts the app’s name in place of {app}: each GitHub App has its own webhook URL', async () => {
    await admin(ghes, 'POST', 'config', {
      webhook_url: 'http://127.0.0.1:8787/webhooks/github/{app}',
    });
    await revoke('monalisa', { app: 'demo-github-app' });
    expect(sent.map((d) => d.url)).toEqual([
      'http://127.0.0.1:8787/webhooks/github/demo-github-app',
    ]);
  });

  it('signs as GitHub documents it (its test vector)', async () => {
    expect(await signWebhook("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('without webhook_url it revokes and delivers nothing', async () => {
    const res = await revoke('octocat', { app: 'Iv1.9d2c5e8f1a3b4c6d' });
    expect(await res.json()).toMatchObject({ tokens_revoked: 1, webhook: null });
    expect(sent).toEqual([]);
  });

  it('an OAuth app gets no webhook (GHES sends none), but its grant is revoked', async () => {
    await admin(ghes, 'POST', 'config', { webhook_url: 'https://gateway.test/hook' });
    const res = await revoke('octocat', { app: 'demo-oauth' });
    expect(await res.json()).toMatchObject({ app: 'demo-oauth', tokens_revoked: 1, webhook: null });
    expect(sent).toEqual([]);
    const token = ghes.seed?.tokens.octocatOauth ?? '';
    expect((await call(ghes, 'check', 'demo-oauth', { token })).status).toBe(404);
  });

  it('reports a failed delivery instead of failing the revocation', async () => {
    await admin(ghes, 'POST', 'config', { webhook_url: 'https://gateway.test/hook' });
    answer = async () => {
      throw new TypeError('connection refused');
    };
    const res = await revoke('octocat', { app: 'demo-github-app' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      tokens_revoked: 1,
      webhook: { status: null, error: 'TypeError' },
    });
  });

  it.each([
    ['no app', 'octocat', {}, 400],
    ['not JSON', 'octocat', '{', 400],
    ['an unknown app', 'octocat', { app: 'nope' }, 404],
    ['an unknown user', 'nobody', { app: 'demo-github-app' }, 404],
    ['an organization', 'octo-org', { app: 'demo-github-app' }, 404],
  ])('refuses %s', async (_, login, body, status) => {
    expect((await revoke(login, body)).status).toBe(status);
    expect(sent).toEqual([]);
  });
});

describe('webhook_url in /_emulator/config', () => {
  it('is null by default, settable, and cleared by null or reset', async () => {
    expect(await (await admin(ghes, 'GET', 'config')).json()).toMatchObject({ webhook_url: null });
    const set = await admin(ghes, 'POST', 'config', { webhook_url: 'http://127.0.0.1:8787/w' });
    expect(await set.json()).toMatchObject({ webhook_url: 'http://127.0.0.1:8787/w' });
    const cleared = await admin(ghes, 'POST', 'config', { webhook_url: null });
    expect(await cleared.json()).toMatchObject({ webhook_url: null });
    await admin(ghes, 'POST', 'config', { webhook_url: 'http://127.0.0.1:8787/w' });
    ghes.reset();
    expect(ghes.config().webhook_url).toBeNull();
  });

  it.each([['not a url'], ['ftp://example.com/x'], [42]])('refuses %s', async (value) => {
    const res = await admin(ghes, 'POST', 'config', { webhook_url: value });
    expect(res.status).toBe(400);
  });
});
