/**
 * Secrecy of the Authorizations API routes: a full run of every route (with a two-factor user,
 * failures included) leaves no password, OTP, Basic value, client secret or minted token in any
 * log line, KV entry or error answer; the user's credentials never reach a GHES URL; the
 * user-login limiter keys carry a hash of the login, never the login itself.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createTestGateway, secretsOf, type TestGateway } from '../helpers/gateway';
import { StrictKv } from '../helpers/strict-kv';
import {
  asUser,
  monalisa,
  octocat,
  otpOf,
  userSecrets,
  type UserLogin,
} from './authorizations.harness';

type Json = Record<string, unknown>;

interface Exchange {
  status: number;
  body: string;
  headers: string;
}

async function fullRun(gw: TestGateway) {
  const exchanges: Exchange[] = [];
  const tokens: string[] = [];
  const record = async (res: Response) => {
    const body = await res.text();
    exchanges.push({ status: res.status, body, headers: JSON.stringify([...res.headers]) });
    return body;
  };
  const mona: UserLogin = { ...monalisa(gw), otp: await otpOf(gw, 'monalisa') };
  const wrong: UserLogin = { login: 'octocat', password: 'not-the-password-123' };
  const users = [octocat(gw), mona];
  for (const user of users) {
    const created = JSON.parse(
      await record(
        await asUser(gw, 'POST', 'authorizations', {
          user,
          body: { scopes: ['repo', 'user'], fingerprint: 'x' },
        }),
      ),
    ) as Json;
    tokens.push(String(created['token']));
    const put = JSON.parse(
      await record(await asUser(gw, 'PUT', 'authorizations', { user, body: { fingerprint: 'y' } })),
    ) as Json;
    tokens.push(String(put['token']));
    await record(await asUser(gw, 'PUT', 'authorizations', { user, body: { fingerprint: 'y' } }));
    // A duplicate fingerprint: GHES's 422 is passed on.
    await record(await asUser(gw, 'POST', 'authorizations', { user, body: { fingerprint: 'x' } }));
    await record(await gw.post('/v1/apps/demo-oauth/token/check', { access_token: tokens.at(-1) }));
    await record(await asUser(gw, 'GET', 'authorizations', { user }));
    const id = String(created['id']);
    await record(await asUser(gw, 'GET', `authorizations/${id}`, { user }));
    await record(
      await asUser(gw, 'PATCH', `authorizations/${id}`, {
        user,
        body: { remove_scopes: ['user'] },
      }),
    );
    await record(await asUser(gw, 'DELETE', `authorizations/${id}`, { user }));
    const grants = JSON.parse(await record(await asUser(gw, 'GET', 'grants', { user }))) as Json[];
    await record(await asUser(gw, 'DELETE', `grants/${String(grants[0]?.['id'])}`, { user }));
  }
  await record(await asUser(gw, 'GET', 'authorizations', { user: wrong }));
  await record(
    await asUser(gw, 'GET', 'authorizations', { user: { ...monalisa(gw), otp: '000000' } }),
  );
  await record(await asUser(gw, 'GET', 'authorizations', { user: monalisa(gw) }));
  await gw.settle();
  const created = tokens.filter((t) => t !== 'undefined');
  expect(created.length).toBe(4);
  return {
    exchanges,
    tokens: created,
    forbidden: [...secretsOf(gw), ...[...users, wrong].flatMap(userSecrets)],
  };
}

const leaks = (text: string, forbidden: readonly string[]) =>
  forbidden.filter((s) => s.length >= 6 && text.includes(s));

describe('Authorizations API secrecy', () => {
  it('no credential in any log line or answer; tokens only in the create answers', async () => {
    const kv = new StrictKv(env.TOKEN_CACHE);
    const gw = await createTestGateway({ kv: kv.kv });
    const run = await fullRun(gw);
    for (const line of gw.logs) {
      const text = JSON.stringify(line);
      expect(leaks(text, [...run.forbidden, ...run.tokens]), text).toEqual([]);
    }
    for (const ex of run.exchanges) {
      expect(leaks(ex.body + ex.headers, run.forbidden), ex.body).toEqual([]);
      const carriesToken = run.tokens.some((t) => ex.body.includes(t));
      if (carriesToken) expect(ex.status, ex.body).toBe(201);
      if (ex.status >= 400) expect(leaks(ex.body, run.tokens)).toEqual([]);
    }
    // Every kind of answer was seen: created, existed, refused, 401s.
    expect(new Set(run.exchanges.map((e) => e.status))).toEqual(new Set([200, 201, 204, 401, 422]));
  });

  it('KV holds no credential and no token', async () => {
    const kv = new StrictKv(env.TOKEN_CACHE);
    const gw = await createTestGateway({ kv: kv.kv });
    const run = await fullRun(gw);
    const stored = await kv.dump();
    expect(kv.puts.length).toBeGreaterThan(0);
    for (const { key, value } of [...kv.puts, ...stored]) {
      expect(leaks(key + value, [...run.forbidden, ...run.tokens]), key).toEqual([]);
      expect(key + value).not.toContain('octocat:');
    }
  });

  it('credentials never go into a GHES URL, only into the Authorization and OTP headers', async () => {
    const gw = await createTestGateway();
    const run = await fullRun(gw);
    for (const o of gw.outbound) expect(leaks(o.url, run.forbidden), o.url).toEqual([]);
  });

  it('user-login limiter keys: per caller and per hashed login, never the login', async () => {
    const keys: string[] = [];
    const counting = {
      limit: async ({ key }: { key: string }) => (keys.push(key), { success: true }),
    };
    const gw = await createTestGateway({ vars: { USER_LOGIN_RATE_LIMITER: counting } });
    await asUser(gw, 'GET', 'authorizations', {
      user: { login: 'OctoCat', password: 'wrong-password' },
    });
    await asUser(gw, 'GET', 'authorizations', { user: octocat(gw) });
    expect(keys.filter((k) => k === 'user-login:svc-demo')).toHaveLength(2);
    const loginKeys = keys.filter((k) => k.startsWith('user-login:login:'));
    expect(loginKeys).toHaveLength(2);
    // Case-insensitive like GitHub logins: one account, one key.
    expect(loginKeys[0]).toBe(loginKeys[1]);
    for (const k of keys) expect(k.toLowerCase()).not.toContain('octocat');
  });

  it('a failed login is charged before GHES: over the limit, the right password is not tried', async () => {
    let n = 0;
    const twice = { limit: async () => ({ success: ++n <= 2 }) };
    const gw = await createTestGateway({ vars: { USER_LOGIN_RATE_LIMITER: twice } });
    const wrong = await asUser(gw, 'GET', 'authorizations', {
      user: { login: 'octocat', password: 'guess-1' },
    });
    expect(wrong.status).toBe(401);
    const right = await asUser(gw, 'GET', 'authorizations', { user: octocat(gw) });
    expect(right.status).toBe(429);
    expect(gw.outbound).toHaveLength(1);
  });
});
