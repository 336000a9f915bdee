/**
 * The token-check cache as introspection callers see it, through the real gateway in front of
 * the emulator, with a fixed clock: hits, expiry, the expires_at cap, negative caching, no
 * caching of failures, coalescing counted by the emulator, and revocations through the gateway
 * taking effect at once.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { introspect } from '../introspection/requests';

async function active(gw: TestGateway, token: string, app?: string): Promise<boolean> {
  const res = await introspect(gw, app === undefined ? { token } : { token, app });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { active: boolean };
  return body.active;
}

const checks = (gw: TestGateway) => gw.emulator.calls()['check'] ?? 0;

describe('introspection through the cache', () => {
  it('100 concurrent introspections of one new token cause exactly one GHES check', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({
      app: 'demo-oauth',
      login: 'octocat',
      scopes: ['repo'],
    });
    const answers = await Promise.all(Array.from({ length: 100 }, () => introspect(gw, { token })));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ active: true, username: 'octocat' });
    }
    expect(checks(gw)).toBe(1);
  });

  it('serves repeats from cache until the freshness time, then asks GHES again', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' });
    expect(await active(gw, token)).toBe(true);
    gw.clock.advance(59);
    expect(await active(gw, token)).toBe(true);
    expect(checks(gw)).toBe(1);
    gw.clock.advance(2);
    expect(await active(gw, token)).toBe(true);
    expect(checks(gw)).toBe(2);
  });

  it('never serves a token as active past its expires_at', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({
      app: 'demo-github-app',
      login: 'octocat',
      expiresIn: 20,
    });
    const res = await introspect(gw, { token, app: 'demo-github-app' });
    expect(await res.json()).toMatchObject({ active: true });
    expect(res.headers.get('cache-status')).toMatch(/ttl=20\b/);
    gw.clock.advance(21);
    expect(await active(gw, token, 'demo-github-app')).toBe(false);
    expect(checks(gw)).toBe(2);
  });

  it('caches a GHES 404 as a negative answer for the negative freshness time', async () => {
    const gw = await createTestGateway({ vars: { CACHE_NEGATIVE_TTL_S: '30' } });
    const unknown = 'gho_' + 'Q'.repeat(36);
    expect(await active(gw, unknown)).toBe(false);
    expect(await active(gw, unknown)).toBe(false);
    expect(checks(gw)).toBe(1);
    gw.clock.advance(31);
    expect(await active(gw, unknown)).toBe(false);
    expect(checks(gw)).toBe(2);
  });

  it.each([
    ['a 5xx', { status: 500, times: 3, operation: 'check' }, 503],
    ['a 429', { status: 429, retry_after: 120, times: 1, operation: 'check' }, 503],
  ])(
    'does not cache %s: fails closed, then answers from GHES once it recovers',
    async (_name, fault, status) => {
      const gw = await createTestGateway();
      const { token } = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' });
      gw.emulator.addFault(fault as Parameters<typeof gw.emulator.addFault>[0]);
      const failed = await introspect(gw, { token });
      expect(failed.status).toBe(status);
      expect(failed.headers.get('cache-control')).toBe('no-store');
      gw.emulator.clearFaults();
      expect(await active(gw, token)).toBe(true);
    },
  );
});

describe('revocations through the gateway take effect at once', () => {
  const v1 = (gw: TestGateway, op: string, token: string, app = 'demo-oauth') =>
    gw.post(`/v1/apps/${app}/${op}`, { access_token: token });

  it('delete: a cached active token introspects inactive right after the 204, without GHES', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' });
    expect(await active(gw, token)).toBe(true);
    expect((await v1(gw, 'token/delete', token)).status).toBe(204);
    const before = checks(gw);
    expect(await active(gw, token)).toBe(false);
    expect(checks(gw)).toBe(before);
  });

  it('reset: the old token is inactive at once, the new one active', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' });
    expect(await active(gw, token)).toBe(true);
    const res = await v1(gw, 'token/reset', token);
    expect(res.status).toBe(200);
    const fresh = ((await res.json()) as { token: string }).token;
    expect(await active(gw, token)).toBe(false);
    expect(await active(gw, fresh)).toBe(true);
  });

  it('grant delete: every cached token of that user for that app turns inactive at once', async () => {
    const gw = await createTestGateway();
    const a = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' }).token;
    const b = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' }).token;
    const otherUser = gw.emulator.createToken({ app: 'demo-oauth', login: 'hubot' }).token;
    for (const t of [a, b, otherUser]) expect(await active(gw, t)).toBe(true);
    expect((await v1(gw, 'grant/delete', a)).status).toBe(204);
    expect(await active(gw, a)).toBe(false);
    expect(await active(gw, b)).toBe(false);
    expect(await active(gw, otherUser)).toBe(true);
  });

  it('a token revoked in GHES directly stays active from cache only until the freshness time', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' });
    expect(await active(gw, token)).toBe(true);
    gw.emulator.revokeToken(token);
    expect(await active(gw, token)).toBe(true);
    gw.clock.advance(61);
    expect(await active(gw, token)).toBe(false);
  });
});
