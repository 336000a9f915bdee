/**
 * Client authentication, run against every operation: HTTP Basic with the app's client_id and
 * client_secret, the client_id equal to the path's. GHES answers 404 by default (it does not
 * reveal which clients exist) or 401 when configured; a refused request changes nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createGhesEmulator,
  TOKEN_OPERATIONS,
  type GhesEmulator,
  type TokenOperation,
} from './index';
import { basic, call, credentials, FIXED_NOW, jsonOf } from './test-client';

const LEGACY = new Set<TokenOperation>([
  'legacy_check',
  'legacy_reset',
  'legacy_delete',
  'legacy_grant',
]);

function appFor(op: TokenOperation): string {
  return op === 'scoped' ? 'demo-github-app' : 'demo-oauth';
}

function tokenFor(ghes: GhesEmulator, op: TokenOperation): string {
  const t = ghes.seed?.tokens;
  if (!t) throw new Error('demo seed missing');
  return op === 'scoped' ? t.octocatGithubApp : t.octocatOauth;
}

/** Each way a caller can get the client credentials wrong. */
function badAuthorizations(
  ghes: GhesEmulator,
  appName: string,
): Array<[string, string | null, boolean]> {
  const { clientId, secret } = credentials(ghes, appName);
  const other = credentials(ghes, appName === 'demo-oauth' ? 'demo-github-app' : 'demo-oauth');
  const wrongSecret = secret.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
  return [
    ['no Authorization header', null, true],
    ['a bearer token instead of Basic', `Bearer ${tokenFor(ghes, 'check')}`, true],
    ['a wrong secret', basic(clientId, wrongSecret), false],
    ['an empty secret', basic(clientId, ''), false],
    ["another app's valid credentials", basic(other.clientId, other.secret), false],
    ['the secret without a client id', `Basic ${btoa(secret)}`, false],
    ['malformed base64', 'Basic %%%', true],
  ];
}

for (const op of TOKEN_OPERATIONS) {
  const version = LEGACY.has(op) ? '3.3' : '3.22';

  describe(`${op} on GHES ${version}`, () => {
    let ghes: GhesEmulator;
    beforeEach(() => {
      ghes = createGhesEmulator({ version, now: () => FIXED_NOW });
    });

    it('answers 404 Not Found for every bad credential and changes nothing', async () => {
      const before = [...ghes.state.tokens.keys()].sort();
      for (const [, authorization] of badAuthorizations(ghes, appFor(op))) {
        const res = await call(ghes, op, appFor(op), {
          token: tokenFor(ghes, op),
          authorization,
          extra: { target: 'octocat' },
        });
        expect(res.status).toBe(404);
        expect((await jsonOf(res))['message']).toBe('Not Found');
      }
      expect([...ghes.state.tokens.keys()].sort()).toEqual(before);
      expect(ghes.calls()[op]).toBe(badAuthorizations(ghes, appFor(op)).length);
    });

    it('answers 401 when configured: "Requires authentication" without credentials, else "Bad credentials"', async () => {
      ghes.configure({ bad_credentials_status: 401 });
      for (const [what, authorization, missing] of badAuthorizations(ghes, appFor(op))) {
        const res = await call(ghes, op, appFor(op), {
          token: tokenFor(ghes, op),
          authorization,
          extra: { target: 'octocat' },
        });
        expect(res.status, what).toBe(401);
        expect((await jsonOf(res))['message'], what).toBe(
          missing ? 'Requires authentication' : 'Bad credentials',
        );
      }
      expect(
        (await call(ghes, 'check', 'demo-oauth', { token: tokenFor(ghes, 'check') })).status,
      ).not.toBe(401);
    });

    it('refuses a Basic client_id that differs from the path client_id', async () => {
      const { clientId, secret } = credentials(ghes, appFor(op));
      const other = credentials(
        ghes,
        appFor(op) === 'demo-oauth' ? 'demo-github-app' : 'demo-oauth',
      );
      const res = await call(ghes, op, appFor(op), {
        token: tokenFor(ghes, op),
        authorization: basic(clientId, secret),
        clientId: other.clientId,
        extra: { target: 'octocat' },
      });
      expect(res.status).toBe(404);
    });

    if (!LEGACY.has(op)) {
      it('checks credentials before the body: a bad body with bad credentials is 404, not 422', async () => {
        const res = await call(ghes, op, appFor(op), { body: {}, authorization: null });
        expect(res.status).toBe(404);
      });
    }
  });
}

describe('secrets stay secret', () => {
  it('no response body or header carries a client secret', async () => {
    const ghes = createGhesEmulator({ now: () => FIXED_NOW });
    const secrets = ghes.apps().map((a) => a.client_secret);
    const seen: string[] = [];
    for (const op of ['check', 'reset', 'scoped', 'delete', 'grant'] as const) {
      for (const authorization of [undefined, null]) {
        const res = await call(ghes, op, appFor(op), {
          token: tokenFor(ghes, op),
          extra: { target: 'octocat' },
          ...(authorization === null && { authorization }),
        });
        seen.push(await res.text(), JSON.stringify([...res.headers]));
      }
    }
    for (const secret of secrets) expect(seen.join('\n')).not.toContain(secret);
  });

  it('client secrets are 40 hex characters, random per emulator instance', () => {
    const a = createGhesEmulator({ now: () => FIXED_NOW }).apps();
    const b = createGhesEmulator({ now: () => FIXED_NOW }).apps();
    for (const app of [...a, ...b]) expect(app.client_secret).toMatch(/^[0-9a-f]{40}$/);
    expect(a.map((x) => x.client_secret)).not.toEqual(b.map((x) => x.client_secret));
    expect(a.map((x) => x.client_id)).toEqual(b.map((x) => x.client_id));
  });
});
