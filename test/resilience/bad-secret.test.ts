/**
 * A wrong or rotated client secret: GHES answers 404 exactly as for an unknown token. The
 * gateway must not cache "every token is invalid"; it must alert and stop negative caching.
 */
import { describe, expect, it } from 'vitest';
import { CredentialHealth } from '../../src/ghes/credential-health';
import type { LogRecord } from '../../src/lib/log';
import { createTestGateway } from '../helpers/gateway';

describe('CredentialHealth (pure)', () => {
  it('marks an app suspect after a run of 404s and clears it on the next positive answer', () => {
    const logs: LogRecord[] = [];
    const h = new CredentialHealth({ threshold: 3, log: (r) => logs.push(r) });
    h.onNotFound('a');
    h.onNotFound('a');
    expect(h.negativeCachingAllowed('a')).toBe(true);
    h.onNotFound('a');
    expect(h.negativeCachingAllowed('a')).toBe(false);
    expect(h.negativeCachingAllowed('b')).toBe(true);
    expect(logs.filter((l) => l.event === 'ghes.credentials_suspect')).toHaveLength(1);
    h.onNotFound('a');
    expect(logs.filter((l) => l.event === 'ghes.credentials_suspect')).toHaveLength(1);
    h.onPositive('a');
    expect(h.negativeCachingAllowed('a')).toBe(true);
    expect(logs.at(-1)).toMatchObject({
      level: 'warn',
      event: 'ghes.credentials_recovered',
      app: 'a',
    });
  });

  it('a positive answer inside the run resets the count', () => {
    const h = new CredentialHealth({ threshold: 2, log: () => undefined });
    h.onNotFound('a');
    h.onPositive('a');
    h.onNotFound('a');
    expect(h.isSuspect('a')).toBe(false);
  });

  it('refuses a threshold below 1', () => {
    expect(() => new CredentialHealth({ threshold: 0, log: () => undefined })).toThrow(/threshold/);
  });
});

describe('gateway with a rotated client secret (emulator answers 404 for bad Basic auth)', () => {
  it('stops negative caching and logs an alert once the 404 run reaches the threshold', async () => {
    const gw = await createTestGateway({
      badCredentialsStatus: 404,
      vars: { DEMO_OAUTH_CLIENT_SECRET: 'f'.repeat(40), CREDENTIAL_SUSPECT_AFTER_404S: '3' },
    });
    // Real, valid tokens — GHES cannot tell us so because our secret is wrong.
    const tokens = [1, 2, 3, 4].map(
      () => gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' }).token,
    );
    for (const token of tokens.slice(0, 3)) {
      const res = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
      expect(res.status).toBe(404);
    }
    expect(gw.logs.filter((l) => l.event === 'ghes.credentials_suspect')).toEqual([
      expect.objectContaining({ level: 'error', app: 'demo-oauth', consecutive_not_found: 3 }),
    ]);
    const before = gw.emulator.calls()['check'] ?? 0;
    // From now on a 404 is neither stored nor served from the negative cache.
    for (let i = 0; i < 3; i++) {
      const res = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: tokens[3] });
      expect(res.status).toBe(404);
      expect(res.headers.get('cache-status')).not.toMatch(/; hit/);
    }
    expect((gw.emulator.calls()['check'] ?? 0) - before).toBe(3);
  });

  it('keeps caching negatives while the app still gets positive answers', async () => {
    const gw = await createTestGateway({ vars: { CREDENTIAL_SUSPECT_AFTER_404S: '2' } });
    const good = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' }).token;
    const bogus = 'gho_' + 'A'.repeat(36);
    expect((await gw.post('/v1/apps/demo-oauth/token/check', { access_token: bogus })).status).toBe(
      404,
    );
    expect((await gw.post('/v1/apps/demo-oauth/token/check', { access_token: good })).status).toBe(
      200,
    );
    expect((await gw.post('/v1/apps/demo-oauth/token/check', { access_token: bogus })).status).toBe(
      404,
    );
    const again = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: bogus });
    expect(again.status).toBe(404);
    expect(again.headers.get('cache-status')).toMatch(/; hit/);
    expect(gw.logs.some((l) => l.event === 'ghes.credentials_suspect')).toBe(false);
  });

  it('with 401 for bad Basic auth, answers 502 upstream-credentials-rejected and caches nothing', async () => {
    const gw = await createTestGateway({
      badCredentialsStatus: 401,
      vars: { DEMO_OAUTH_CLIENT_SECRET: 'f'.repeat(40) },
    });
    const token = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' }).token;
    for (let i = 0; i < 2; i++) {
      const res = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ code: 'upstream-credentials-rejected' });
    }
    expect(gw.emulator.calls()['check']).toBe(2);
  });
});
