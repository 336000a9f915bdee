/**
 * The token service (src/tokens/service.ts) over a real TokenCache and a scripted GHES client:
 * checks through the cache, the `beforeGhes` hook, and "mutate, then invalidate" for every way a
 * revoking call can end.
 */
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/types';
import { GatewayError } from '../../src/lib/errors';
import type { GhesClient } from '../../src/ghes/client';
import { CredentialHealth } from '../../src/ghes/credential-health';
import type { OAuthToken } from '../../src/ghes/oauth-access-token';
import type { GhesAuthorization } from '../../src/ghes/types';
import { TokenService, type TokenAudit, type TokenRequest } from '../../src/tokens/service';
import { APP, authFor, harness, token } from '../cache/fixtures';

const APP_CONFIG: AppConfig = { ...APP, kind: 'oauth_app', clientSecret: 'cs_' + 'a'.repeat(40) };
const USER = 42;

type Method = keyof GhesClient;

/** A GHES client whose every method answers from a per-method script; records each call. */
class ScriptedGhes implements GhesClient {
  readonly calls: Array<{ method: Method; token: string }> = [];
  /** Tokens GHES knows, with their owner; `check` answers from it unless a script says else. */
  readonly live = new Map<string, number>();
  readonly #scripts = new Map<Method, Array<() => unknown>>();

  script(method: Method, ...answers: Array<() => unknown>): void {
    this.#scripts.set(method, [...(this.#scripts.get(method) ?? []), ...answers]);
  }

  count(method: Method): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  async #run(method: Method, t: string, fallback: () => unknown): Promise<unknown> {
    this.calls.push({ method, token: t });
    const next = this.#scripts.get(method)?.shift();
    return (next ?? fallback)();
  }

  #auth(t: string): GhesAuthorization {
    const userId = this.live.get(t);
    if (userId === undefined) throw new GatewayError('token-not-found', { upstreamStatus: 404 });
    return { ...authFor({ userId }), token: t, hashed_token: 'h' };
  }

  check = async (_app: AppConfig, t: string) =>
    (await this.#run('check', t, () => this.#auth(t))) as GhesAuthorization;
  reset = async (_app: AppConfig, t: string) =>
    (await this.#run('reset', t, () => {
      this.#auth(t);
      this.live.delete(t);
      return { ...authFor(), token: token('fresh'), hashed_token: 'h' };
    })) as GhesAuthorization;
  delete = async (_app: AppConfig, t: string) => {
    await this.#run('delete', t, () => {
      this.#auth(t);
      this.live.delete(t);
    });
  };
  deleteGrant = async (_app: AppConfig, t: string) => {
    await this.#run('deleteGrant', t, () => {
      const owner = this.#auth(t).user?.id;
      for (const [k, v] of this.live) if (v === owner) this.live.delete(k);
    });
  };
  /** The user a refresh token belongs to, and the user token GHES last minted for it. */
  readonly refreshable = new Map<string, { user: number; current: string }>();
  exchangeCode = async (_app: AppConfig, o: { code: string }) =>
    (await this.#run('exchangeCode', o.code, () => {
      const t = token(`code-${o.code}`);
      this.live.set(t, USER);
      return { access_token: t, token_type: 'bearer', scope: 'repo' };
    })) as OAuthToken;
  /** As GitHub: the refresh token and the old user token stop working, new ones are minted. */
  refresh = async (_app: AppConfig, r: string) =>
    (await this.#run('refresh', r, () => {
      const grant = this.refreshable.get(r);
      if (grant === undefined) throw new GatewayError('refresh-token-invalid');
      this.refreshable.delete(r);
      this.live.delete(grant.current);
      const fresh = token(`${grant.current}-next`);
      this.live.set(fresh, grant.user);
      this.refreshable.set(`${r}-next`, { user: grant.user, current: fresh });
      return { access_token: fresh, token_type: 'bearer', scope: '', refresh_token: `${r}-next` };
    })) as OAuthToken;
  scoped = async (_app: AppConfig, o: { access_token: string }) =>
    (await this.#run('scoped', o.access_token, () => ({
      ...authFor(),
      token: token('scoped'),
      hashed_token: 'h',
    }))) as GhesAuthorization;
}

function setup() {
  const h = harness();
  const health = new CredentialHealth({ threshold: 3, log: h.logs.log });
  const ghes = new ScriptedGhes();
  const service = new TokenService({
    cache: h.cache,
    credentialHealth: health,
    ghesFor: () => ghes,
  });
  const background: Promise<unknown>[] = [];
  const request = (extra: Partial<TokenRequest> = {}): TokenRequest & { audit: TokenAudit } => ({
    requestId: 'req-test',
    audit: {},
    waitUntil: (p) => background.push(p),
    ...extra,
  });
  /** Whether a check now answers active, and whether it needed GHES for that. */
  const probe = async (t: string) => {
    const before = ghes.count('check');
    const o = await service.check(request(), APP_CONFIG, t);
    return { active: o.result.active, askedGhes: ghes.count('check') > before };
  };
  return { ...h, health, service, ghes, request, probe, settle: () => Promise.all(background) };
}

const thrower = (e: unknown) => () => {
  throw e;
};

/** How a revoking call can fail, and whether the gateway must stop vouching for the token. */
const ENDINGS: Array<[string, unknown, boolean]> = [
  ['a 429 on the first answer (GHES refused)', rateLimited(false), false],
  ['a 429 after an attempt whose outcome is unknown', rateLimited(true), true],
  [
    'a secondary-limit 403 after a lost connection',
    new GatewayError('upstream-rate-limited', { upstreamStatus: 403, mayHaveApplied: true }),
    true,
  ],
  [
    'a 5xx streak',
    new GatewayError('upstream-error', { upstreamStatus: 502, mayHaveApplied: true }),
    true,
  ],
  ['upstream-outcome-unknown', new GatewayError('upstream-outcome-unknown'), true],
  [
    'an unreadable 2xx',
    new GatewayError('upstream-error', { upstreamStatus: 200, mayHaveApplied: true }),
    true,
  ],
  ['a bug while reading the answer', new TypeError('x is undefined'), true],
  ['GHES 404: the token does not exist', new GatewayError('token-not-found'), true],
  ['a 422', new GatewayError('upstream-validation-failed'), false],
  ['rejected credentials (401)', new GatewayError('upstream-credentials-rejected'), false],
  ['the breaker open (nothing sent)', new GatewayError('upstream-unavailable'), false],
];

function rateLimited(mayHaveApplied: boolean): GatewayError {
  return new GatewayError('upstream-rate-limited', {
    upstreamStatus: 429,
    headers: { 'retry-after': '60' },
    mayHaveApplied,
  });
}

describe('check', () => {
  it('asks GHES on a miss only, records the audit fields, and runs beforeGhes right before GHES', async () => {
    const s = setup();
    const t = token('c1');
    s.ghes.live.set(t, USER);
    const order: string[] = [];
    const beforeGhes = async () => {
      order.push(`before:${s.ghes.count('check')}`);
    };
    const req = s.request({ beforeGhes });
    const first = await s.service.check(req, APP_CONFIG, t);
    expect(first).toMatchObject({ result: { active: true }, source: 'ghes' });
    expect(req.audit).toMatchObject({ ghes_status: 200, token_id: first.tokenId });
    expect(req.audit.cache_status).toBe(first.cacheStatus);

    const again = s.request({ beforeGhes });
    expect((await s.service.check(again, APP_CONFIG, t)).source).toBe('l1');
    expect(again.audit.ghes_status).toBeUndefined();
    expect(order).toEqual(['before:0']);
    expect(s.ghes.count('check')).toBe(1);
  });

  it('a beforeGhes that refuses stops the GHES call, and nothing is cached', async () => {
    const s = setup();
    const t = token('c2');
    s.ghes.live.set(t, USER);
    const refusal = new GatewayError('rate-limited', { headers: { 'retry-after': '5' } });
    const beforeGhes = () => Promise.reject(refusal);
    await expect(s.service.check(s.request({ beforeGhes }), APP_CONFIG, t)).rejects.toBe(refusal);
    expect(s.ghes.count('check')).toBe(0);
    expect(await s.probe(t)).toEqual({ active: true, askedGhes: true });
  });

  it('GHES 404 is a cached inactive answer and counts toward the credential-health alarm', async () => {
    const s = setup();
    const req = s.request();
    const o = await s.service.check(req, APP_CONFIG, token('unknown'));
    expect(o.result.active).toBe(false);
    expect(req.audit.ghes_status).toBe(404);
    expect(await s.probe(token('unknown'))).toEqual({ active: false, askedGhes: false });
  });

  it('any other GHES failure is thrown and not cached', async () => {
    const s = setup();
    const t = token('c3');
    s.ghes.live.set(t, USER);
    s.ghes.script('check', thrower(new GatewayError('upstream-error', { mayHaveApplied: true })));
    await expect(s.service.check(s.request(), APP_CONFIG, t)).rejects.toMatchObject({
      code: 'upstream-error',
    });
    expect(await s.probe(t)).toEqual({ active: true, askedGhes: true });
  });
});

describe.each([
  ['delete', 'delete'],
  ['reset', 'reset'],
] as const)('%s: mutate, then invalidate', (name, method) => {
  it('success: the old token is inactive at once, without asking GHES', async () => {
    const s = setup();
    const t = token(`${name}-ok`);
    s.ghes.live.set(t, USER);
    expect(await s.probe(t)).toEqual({ active: true, askedGhes: true });
    const req = s.request();
    await s.service[method](req, APP_CONFIG, t);
    expect(req.audit.token_id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(req.audit.ghes_status).toBe(method === 'delete' ? 204 : 200);
    expect(await s.probe(t)).toEqual({ active: false, askedGhes: false });
  });

  for (const [ending, error, invalidates] of ENDINGS) {
    it(`${ending}: ${invalidates ? 'invalidated before the error is answered' : 'the cache is left alone'}`, async () => {
      const s = setup();
      const t = token(`${name}-x`);
      s.ghes.live.set(t, USER);
      expect(await s.probe(t)).toEqual({ active: true, askedGhes: true });
      s.ghes.script(method, thrower(error));
      const req = s.request();
      // The error goes out unchanged: the route maps it as before.
      await expect(s.service[method](req, APP_CONFIG, t)).rejects.toBe(error);
      expect(req.audit.token_id).toBeDefined();
      expect(await s.probe(t)).toEqual(
        invalidates ? { active: false, askedGhes: false } : { active: true, askedGhes: false },
      );
    });
  }
});

describe('deleteGrant', () => {
  function grantSetup() {
    const s = setup();
    const t = token('grant-a');
    const sibling = token('grant-b');
    const stranger = token('grant-c');
    s.ghes.live.set(t, USER);
    s.ghes.live.set(sibling, USER);
    s.ghes.live.set(stranger, USER + 1);
    return { ...s, t, sibling, stranger };
  }

  it('success: every cached token of that user is re-checked, the token itself is inactive', async () => {
    const s = grantSetup();
    for (const x of [s.t, s.sibling, s.stranger]) expect((await s.probe(x)).active).toBe(true);
    await s.service.deleteGrant(s.request(), APP_CONFIG, s.t);
    expect(await s.probe(s.t)).toEqual({ active: false, askedGhes: false });
    expect(await s.probe(s.sibling)).toEqual({ active: false, askedGhes: true });
    expect(await s.probe(s.stranger)).toEqual({ active: true, askedGhes: false });
  });

  for (const [ending, error, invalidates] of ENDINGS) {
    it(`${ending}: ${invalidates ? 'the grant epoch moves and the token is tombstoned' : 'the cache is left alone'}`, async () => {
      const s = grantSetup();
      for (const x of [s.t, s.sibling]) expect((await s.probe(x)).active).toBe(true);
      s.ghes.script('deleteGrant', thrower(error));
      await expect(s.service.deleteGrant(s.request(), APP_CONFIG, s.t)).rejects.toBe(error);
      if (invalidates) {
        expect(await s.probe(s.t)).toEqual({ active: false, askedGhes: false });
        // GHES still knows the sibling here (the scripted call did nothing): it is asked again.
        expect(await s.probe(s.sibling)).toEqual({ active: true, askedGhes: true });
      } else {
        expect(await s.probe(s.t)).toEqual({ active: true, askedGhes: false });
        expect(await s.probe(s.sibling)).toEqual({ active: true, askedGhes: false });
      }
    });
  }

  it('a token the cache holds as revoked is asked about at GHES itself, and the grant still goes', async () => {
    const s = grantSetup();
    expect((await s.probe(s.sibling)).active).toBe(true);
    // An unclear delete left a tombstone although GHES still has the token.
    s.ghes.script('delete', thrower(rateLimited(true)));
    await expect(s.service.delete(s.request(), APP_CONFIG, s.t)).rejects.toBeDefined();
    const checks = s.ghes.count('check');
    await s.service.deleteGrant(s.request(), APP_CONFIG, s.t);
    expect(s.ghes.count('check')).toBe(checks + 1);
    expect(s.ghes.count('deleteGrant')).toBe(1);
    expect(s.ghes.live.has(s.sibling)).toBe(false);
    expect(await s.probe(s.sibling)).toEqual({ active: false, askedGhes: true });
  });

  it('a token GHES does not know: 404 with the cache outcome, no grant call', async () => {
    const s = grantSetup();
    const err = await s.service
      .deleteGrant(s.request(), APP_CONFIG, token('nobody'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('token-not-found');
    expect((err as GatewayError).headers['cache-status']).toMatch(/^ghes-token-gateway; fwd=miss/);
    expect(s.ghes.count('deleteGrant')).toBe(0);
  });

  it('a user id GHES sends that is not a non-negative integer is ignored, not a crash', async () => {
    const s = grantSetup();
    s.ghes.script('check', () => ({ ...authFor({ userId: USER }), user: { login: 'x', id: -1 } }));
    await s.service.deleteGrant(s.request(), APP_CONFIG, s.t);
    expect(await s.probe(s.t)).toEqual({ active: false, askedGhes: false });
  });
});

describe('scoped', () => {
  it('never invalidates the source token, whatever the outcome: GHES does not revoke it', async () => {
    const outcomes: Array<() => unknown> = [() => authFor(), ...ENDINGS.map(([, e]) => thrower(e))];
    for (const answer of outcomes) {
      const s = setup();
      const t = token('scoped-src');
      s.ghes.live.set(t, USER);
      expect((await s.probe(t)).active).toBe(true);
      s.ghes.script('scoped', answer);
      const req = s.request();
      await s.service
        .scoped(req, APP_CONFIG, { access_token: t, target: 'octocat' })
        .catch(() => undefined);
      expect(req.audit.token_id).toBeDefined();
      expect(await s.probe(t)).toEqual({ active: true, askedGhes: false });
    }
  });
});

describe('exchangeCode', () => {
  it('answers the new token and leaves every cached answer alone', async () => {
    const s = setup();
    const other = token('other');
    s.ghes.live.set(other, USER);
    expect((await s.probe(other)).active).toBe(true);
    const req = s.request();
    const answer = await s.service.exchangeCode(req, APP_CONFIG, { code: 'c1' });
    expect(answer.access_token).toBe(token('code-c1'));
    expect(req.audit.ghes_status).toBe(200);
    expect(s.ghes.count('check')).toBe(1);
    expect(await s.probe(other)).toEqual({ active: true, askedGhes: false });
  });
});

describe('refresh', () => {
  function refreshSetup() {
    const s = setup();
    const old = token('user-old');
    const sibling = token('user-sibling');
    const stranger = token('stranger');
    s.ghes.live.set(old, USER);
    s.ghes.live.set(sibling, USER);
    s.ghes.live.set(stranger, USER + 1);
    s.ghes.refreshable.set('ghr_1', { user: USER, current: old });
    return { ...s, old, sibling, stranger };
  }

  it("GHES revokes the old user token: the user's cached answers are re-checked, the old one is then inactive", async () => {
    const s = refreshSetup();
    for (const x of [s.old, s.sibling, s.stranger]) expect((await s.probe(x)).active).toBe(true);
    const req = s.request();
    const answer = await s.service.refresh(req, APP_CONFIG, 'ghr_1');
    expect(answer.refresh_token).toBe('ghr_1-next');
    expect(req.audit.invalidation).toBe('grant_epoch');
    expect(await s.probe(s.old)).toEqual({ active: false, askedGhes: true });
    expect(await s.probe(s.sibling)).toEqual({ active: true, askedGhes: true });
    expect(await s.probe(s.stranger)).toEqual({ active: true, askedGhes: false });
    expect(await s.probe(answer.access_token)).toEqual({ active: true, askedGhes: true });
  });

  it('a failed check of the new token still answers it; the audit line says the epoch did not move', async () => {
    const s = refreshSetup();
    expect((await s.probe(s.old)).active).toBe(true);
    s.ghes.script('check', thrower(new GatewayError('upstream-timeout')));
    const req = s.request();
    const answer = await s.service.refresh(req, APP_CONFIG, 'ghr_1');
    expect(answer.access_token).toBe(token(`${s.old}-next`));
    expect(req.audit.invalidation).toBe('failed');
    // The residual window docs/cache.md describes: the old token's entry lives out its TTL.
    expect(await s.probe(s.old)).toEqual({ active: true, askedGhes: false });
  });

  it('a new token whose check names no user leaves the cache alone and says so', async () => {
    const s = refreshSetup();
    s.ghes.script('check', () => ({ ...authFor({ userId: USER }), user: null }));
    const req = s.request();
    await s.service.refresh(req, APP_CONFIG, 'ghr_1');
    expect(req.audit.invalidation).toBe('failed');
  });

  it('a refused refresh checks nothing and changes nothing', async () => {
    const s = refreshSetup();
    expect((await s.probe(s.old)).active).toBe(true);
    await expect(s.service.refresh(s.request(), APP_CONFIG, 'ghr_wrong')).rejects.toMatchObject({
      code: 'refresh-token-invalid',
    });
    expect(s.ghes.count('check')).toBe(1);
    expect(await s.probe(s.old)).toEqual({ active: true, askedGhes: false });
  });
});
