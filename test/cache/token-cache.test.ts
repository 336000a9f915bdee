import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until, yieldTurns } from '../helpers/clock';
import { withSlowReads } from '../helpers/slow-kv';
import { ConfigurationError, GatewayError, type ErrorCode } from '../../src/lib/errors';
import { TokenCache, type CheckOutcome } from '../../src/cache/token-cache';
import {
  APP,
  Clock,
  CACHE_STATUS_SYNTAX,
  NOT_FOUND,
  OTHER_APP,
  PEPPER,
  T0,
  authFor,
  deferred,
  failing,
  found,
  harness,
  loader,
  otherIsolate,
  token,
  type CountingLoader,
} from './fixtures';

const iso = (ms: number) => new Date(ms).toISOString();

function expectWellFormed(o: CheckOutcome): void {
  expect(o.cacheStatus).toMatch(CACHE_STATUS_SYNTAX);
  expect(o.tokenId).toMatch(/^[A-Za-z0-9_-]{12}$/);
}

describe('hit and miss', () => {
  it('loads on a miss, stores in both tiers, then answers from L1', async () => {
    const { cache, kv, clock } = harness();
    const load = loader(found());

    const miss = await cache.check(APP, token(1), load);
    expectWellFormed(miss);
    expect(miss).toMatchObject({
      result: { active: true, authorization: authFor() },
      source: 'ghes',
      freshForS: 60,
      cacheStatus: 'ghes-token-gateway; fwd=uri-miss; fwd-status=200; ttl=60; stored',
    });
    expect(kv.puts).toHaveLength(1);
    expect(kv.puts[0]!.key).toMatch(/^v1:tok:[A-Za-z0-9_-]{43}$/);
    expect(kv.puts[0]!.key.slice(7, 19)).toBe(miss.tokenId);

    clock.advance(18.5);
    const hit = await cache.check(APP, token(1), load);
    expectWellFormed(hit);
    expect(hit).toMatchObject({
      result: { active: true },
      source: 'l1',
      freshForS: 41,
      cacheStatus: 'ghes-token-gateway; hit; ttl=41; detail=l1',
      tokenId: miss.tokenId,
    });
    expect(load.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ l1Size: 1, l1Hits: 1, loads: 1 });
  });

  it('answers from KV in another isolate, then from that isolate’s L1', async () => {
    const a = harness();
    await a.cache.check(APP, token(2), loader(found()));
    const b = otherIsolate(a);
    const load = loader(found());
    a.clock.advance(10);

    const fromKv = await b.cache.check(APP, token(2), load);
    expectWellFormed(fromKv);
    expect(fromKv).toMatchObject({
      result: { active: true, authorization: authFor() },
      source: 'kv',
      freshForS: 50,
      cacheStatus: 'ghes-token-gateway; hit; ttl=50; detail=kv',
    });
    const fromL1 = await b.cache.check(APP, token(2), load);
    expect(fromL1.source).toBe('l1');
    expect(load.calls).toBe(0);
  });

  it('keys per app: the same token checked for another app is a separate entry', async () => {
    const { cache } = harness();
    await cache.check(APP, token(4), loader(found()));
    const load = loader(NOT_FOUND);
    const o = await cache.check(OTHER_APP, token(4), load);
    expect(o.result).toEqual({ active: false });
    expect(load.calls).toBe(1);
    expect(o.tokenId).not.toBe(await cache.tokenId(APP, token(4)));
  });

  it('tokenId matches the id reported by check', async () => {
    const { cache } = harness();
    const o = await cache.check(APP, token(5), loader(found()));
    expect(await cache.tokenId(APP, token(5))).toBe(o.tokenId);
  });

  it('shares the cached answer read-only: mutating it throws and the cache is unharmed', async () => {
    const { cache } = harness();
    const o = await cache.check(APP, token(6), loader(found()));
    if (!o.result.active) throw new Error('expected active');
    const auth = o.result.authorization;
    expect(() => {
      auth.scopes = ['admin:org'];
    }).toThrow(TypeError);
    const again = await cache.check(APP, token(6), loader(found()));
    expect(again.result.active && again.result.authorization.scopes).toEqual(['repo', 'read:org']);
  });
});

describe('expiry', () => {
  it('reloads once freshness runs out, in L1 and from KV', async () => {
    const a = harness();
    const load = loader(found());
    await a.cache.check(APP, token(10), load);
    a.clock.advance(59.999);
    expect((await a.cache.check(APP, token(10), load)).source).toBe('l1');
    a.clock.advance(0.001);
    const stale = await a.cache.check(APP, token(10), load);
    expect(stale.source).toBe('ghes');
    expect(stale.cacheStatus).toBe('ghes-token-gateway; fwd=stale; fwd-status=200; ttl=60; stored');
    expect(load.calls).toBe(2);

    // The KV value outlives its freshness (KV keeps it at least 60 s); its fresh_until decides.
    a.clock.advance(60);
    const b = otherIsolate(a);
    const bLoad = loader(found());
    const o = await b.cache.check(APP, token(10), bLoad);
    expect(o.source).toBe('ghes');
    expect(o.cacheStatus).toContain('fwd=stale');
    expect(bLoad.calls).toBe(1);
  });

  it('caps freshness at the token’s expires_at, while KV still gets ≥ 60 s', async () => {
    const a = harness();
    const auth = authFor({ expiresAt: iso(T0 + 10_000) });
    const load = loader(found(auth));
    const o = await a.cache.check(APP, token(11), load);
    expect(o.freshForS).toBe(10);
    expect(o.cacheStatus).toBe('ghes-token-gateway; fwd=uri-miss; fwd-status=200; ttl=10; stored');
    expect(a.kv.puts[0]!.expirationTtl).toBe(60);

    a.clock.advance(9.5);
    expect(await a.cache.check(APP, token(11), load)).toMatchObject({ source: 'l1', freshForS: 0 });
    a.clock.advance(0.5);
    const b = otherIsolate(a);
    const bLoad = loader(NOT_FOUND);
    expect((await b.cache.check(APP, token(11), bLoad)).result).toEqual({ active: false });
    expect(bLoad.calls).toBe(1);
    // A's expired L1 entry is not used either: it finds B's newer 404 answer in KV.
    expect(await a.cache.check(APP, token(11), load)).toMatchObject({
      source: 'kv',
      result: { active: false },
    });
    expect(load.calls).toBe(1);
  });

  it('does not cache an answer whose expires_at is already past', async () => {
    const { cache, kv } = harness();
    const load = loader(found(authFor({ expiresAt: iso(T0 - 1000) })));
    const o = await cache.check(APP, token(12), load);
    expect(o).toMatchObject({ freshForS: 0, source: 'ghes' });
    expect(o.cacheStatus).toBe('ghes-token-gateway; fwd=uri-miss; fwd-status=200');
    await cache.check(APP, token(12), load);
    expect(load.calls).toBe(2);
    expect(kv.puts).toHaveLength(0);
  });
});

describe('negative caching', () => {
  it('caches a definitive not-found for negativeTtlS (KV still ≥ 60 s)', async () => {
    const a = harness();
    const load = loader(NOT_FOUND);
    const o = await a.cache.check(APP, token(20), load);
    expect(o).toMatchObject({
      result: { active: false },
      source: 'ghes',
      freshForS: 30,
      cacheStatus: 'ghes-token-gateway; fwd=miss; stored',
    });
    expect(a.kv.puts[0]!.expirationTtl).toBe(60);

    a.clock.advance(29);
    expect(await a.cache.check(APP, token(20), load)).toMatchObject({ source: 'l1', freshForS: 1 });
    expect(await otherIsolate(a).cache.check(APP, token(20), load)).toMatchObject({
      source: 'kv',
      result: { active: false },
    });
    a.clock.advance(1);
    expect((await a.cache.check(APP, token(20), load)).source).toBe('ghes');
    expect(load.calls).toBe(2);
  });

  it('can be suspended per app: nothing stored, nothing served', async () => {
    let allowed = true;
    const a = harness({
      negativeCachingAllowed: (app) => app.clientId !== APP.clientId || allowed,
    });
    const load = loader(NOT_FOUND);
    await a.cache.check(APP, token(21), load);
    expect(a.kv.puts).toHaveLength(1);

    allowed = false;
    const o = await a.cache.check(APP, token(21), load);
    expect(o).toMatchObject({ source: 'ghes', freshForS: 0 });
    expect(o.cacheStatus).toBe('ghes-token-gateway; fwd=miss');
    await a.cache.check(APP, token(22), load);
    expect(load.calls).toBe(3);
    expect(a.kv.puts).toHaveLength(1);

    // Another app is unaffected.
    const other = loader(NOT_FOUND);
    await a.cache.check(OTHER_APP, token(21), other);
    await a.cache.check(OTHER_APP, token(21), other);
    expect(other.calls).toBe(1);
  });
});

describe('failures are never cached', () => {
  const codes: ErrorCode[] = [
    'upstream-error',
    'upstream-timeout',
    'upstream-unavailable',
    'upstream-rate-limited',
    'upstream-credentials-rejected',
  ];

  it.each(codes)('%s: rethrown, nothing stored, the next check asks again', async (code) => {
    const { cache, kv } = harness();
    const err = new GatewayError(code, { upstreamStatus: 503 });
    const load = failing(err);
    await expect(cache.check(APP, token(30), load)).rejects.toBe(err);
    await expect(cache.check(APP, token(30), load)).rejects.toBe(err);
    expect(load.calls).toBe(2);
    expect(kv.puts).toHaveLength(0);
    expect(cache.stats().l1Size).toBe(0);
  });

  it('an unexpected error is rethrown and not cached either', async () => {
    const { cache, kv } = harness();
    const load = failing(new TypeError('bug'));
    await expect(cache.check(APP, token(31), load)).rejects.toThrow('bug');
    expect(kv.puts).toHaveLength(0);
  });
});

describe('coalescing', () => {
  it('100 concurrent checks of a new token make exactly one load and one KV read', async () => {
    const { cache, kv } = harness();
    const gate = deferred<void>();
    const load = loader(async () => {
      await gate.promise;
      return found();
    });
    const all = Promise.all(Array.from({ length: 100 }, () => cache.check(APP, token(40), load)));
    await Promise.resolve();
    gate.resolve();
    const outcomes = await all;

    expect(load.calls).toBe(1);
    expect(kv.gets.filter((k) => k.startsWith('v1:tok:'))).toHaveLength(1);
    expect(kv.puts).toHaveLength(1);
    expect(outcomes.every((o) => o.result.active)).toBe(true);
    expect(outcomes.filter((o) => o.source === 'ghes')).toHaveLength(1);
    const followers = outcomes.filter((o) => o.source === 'coalesced');
    expect(followers).toHaveLength(99);
    for (const f of followers) {
      expectWellFormed(f);
      expect(f.cacheStatus).toBe(
        'ghes-token-gateway; fwd=uri-miss; fwd-status=200; ttl=60; stored; collapsed',
      );
      expect(f.freshForS).toBe(60);
    }
    expect(cache.stats()).toMatchObject({ inflight: 0, coalesced: 99, loads: 1 });
  });

  it('shares a failure too: one load, everyone gets the error, nothing cached', async () => {
    const { cache, kv } = harness();
    const err = new GatewayError('upstream-timeout');
    const gate = deferred<void>();
    const load = loader(async () => {
      await gate.promise;
      throw err;
    });
    const all = Promise.allSettled(
      Array.from({ length: 100 }, () => cache.check(APP, token(41), load)),
    );
    gate.resolve();
    const settled = await all;
    expect(load.calls).toBe(1);
    expect(settled.every((s) => s.status === 'rejected' && s.reason === err)).toBe(true);
    expect(kv.puts).toHaveLength(0);
    await expect(cache.check(APP, token(41), loader(found()))).resolves.toMatchObject({
      source: 'ghes',
    });
  });

  it('a waiter gives up on a load that never settles and loads itself', async () => {
    const { cache, logs, clock } = harness({ coalesceTimeoutMs: 5 });
    const stuck = loader(() => new Promise<never>(() => {}));
    void cache.check(APP, token(42), stuck);
    await until(() => stuck.calls === 1);
    const own = loader(found());
    const waiting = cache.check(APP, token(42), own);
    // The waiter is looking at the stuck load after pauses of its own (src/lib/single-flight.ts).
    await yieldTurns();
    clock.advanceMs(4);
    await yieldTurns();
    expect(own.calls).toBe(0);
    clock.advanceMs(1);
    const o = await waiting;
    expect(o.result.active).toBe(true);
    expect(stuck.calls).toBe(1);
    expect(own.calls).toBe(1);
    expect(logs.events('cache.coalesce_timeout')).toHaveLength(1);
  });

  it('hands the load and the KV write to waitUntil', async () => {
    const { cache } = harness();
    const handed: Promise<unknown>[] = [];
    await cache.check(APP, token(43), loader(found()), { waitUntil: (p) => handed.push(p) });
    expect(handed).toHaveLength(2);
    await Promise.all(handed);
  });
});

describe('L1 bound', () => {
  it('holds while 10× the bound are inserted, evicting the least recently used', async () => {
    const cap = 16;
    const { cache } = harness({ l1MaxEntries: cap, kv: undefined });
    const load = loader(found());
    for (let i = 0; i < cap * 10; i++) {
      await cache.check(APP, token(`b${i}`), load);
      expect(cache.stats().l1Size).toBeLessThanOrEqual(cap);
    }
    expect(cache.stats().l1Size).toBe(cap);
    expect(load.calls).toBe(cap * 10);
    // The newest `cap` are still in memory; the oldest was evicted and (with no KV) reloads.
    for (let i = cap * 9; i < cap * 10; i++) await cache.check(APP, token(`b${i}`), load);
    expect(load.calls).toBe(cap * 10);
    await cache.check(APP, token('b0'), load);
    expect(load.calls).toBe(cap * 10 + 1);
  });

  it('l1MaxEntries 0 turns L1 off: every check goes to KV', async () => {
    const { cache } = harness({ l1MaxEntries: 0 });
    const load: CountingLoader = loader(found());
    await cache.check(APP, token(50), load);
    const o = await cache.check(APP, token(50), load);
    expect(o.source).toBe('kv');
    expect(cache.stats().l1Size).toBe(0);
    expect(load.calls).toBe(1);
  });
});

describe('remembered keys (KnownKeys)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keys a token once while an answer about it is fresh, again once it is not', async () => {
    const sign = vi.spyOn(crypto.subtle, 'sign');
    const { cache, clock } = harness({ positiveTtlS: 60 });
    const load = loader(found());
    await cache.check(APP, token(60), load);
    expect(sign).toHaveBeenCalledTimes(1);
    clock.advance(59);
    expect((await cache.check(APP, token(60), load)).source).toBe('l1');
    await cache.tokenId(APP, token(60));
    expect(sign).toHaveBeenCalledTimes(1);
    // Another app's check of the same token is another key.
    await cache.check(OTHER_APP, token(60), load);
    expect(sign).toHaveBeenCalledTimes(2);
    clock.advance(1);
    await cache.check(APP, token(60), load);
    expect(sign).toHaveBeenCalledTimes(3);
  });

  it('peeks at an L1 hit synchronously, as check would answer it, counting it only when told', async () => {
    const { cache, clock } = harness({ positiveTtlS: 60 });
    const load = loader(found());
    expect(cache.peek(APP, token(62))).toBeUndefined();
    const checked = await cache.check(APP, token(62), load);
    expect(checked.source).toBe('ghes');
    clock.advance(10);
    const peeked = cache.peek(APP, token(62));
    expect(peeked).toEqual({ ...(await cache.check(APP, token(62), load)) });
    expect(peeked?.cacheStatus).toMatch(/; hit; ttl=50; detail=l1$/);
    const hits = cache.stats().l1Hits;
    cache.peek(APP, token(62));
    expect(cache.stats().l1Hits).toBe(hits);
    cache.countL1Hit();
    expect(cache.stats().l1Hits).toBe(hits + 1);
    // Another app, an entry no longer fresh, L1 off: check's to answer.
    expect(cache.peek(OTHER_APP, token(62))).toBeUndefined();
    clock.advance(50);
    expect(cache.peek(APP, token(62))).toBeUndefined();
    expect(load.calls).toBe(1);
  });

  it('remembers nothing when L1 is off', async () => {
    const sign = vi.spyOn(crypto.subtle, 'sign');
    const { cache } = harness({ l1MaxEntries: 0 });
    const load = loader(found());
    await cache.check(APP, token(61), load);
    await cache.check(APP, token(61), load);
    expect(sign).toHaveBeenCalledTimes(2);
  });
});

describe('construction', () => {
  it('refuses impossible bounds with a ConfigurationError naming the option', () => {
    const base = {
      kv: undefined,
      pepper: PEPPER,
      positiveTtlS: 60,
      negativeTtlS: 60,
      l1MaxEntries: 10,
      staleIfErrorS: 0,
      log: () => {},
      clock: new Clock(),
    };
    expect(() => new TokenCache({ ...base, positiveTtlS: 0 })).toThrow(ConfigurationError);
    expect(() => new TokenCache({ ...base, positiveTtlS: 0 })).toThrow(/positiveTtlS/);
    expect(() => new TokenCache({ ...base, l1MaxEntries: -1 })).toThrow(/l1MaxEntries/);
    expect(() => new TokenCache({ ...base, staleIfErrorS: 1.5 })).toThrow(/staleIfErrorS/);
    expect(() => new TokenCache(base)).not.toThrow();
  });
});

describe('onKvRead: how long the answer waited on KV (the audit line’s kv_ms)', () => {
  it('is told the bulk read of a miss, and nothing on an L1 hit', async () => {
    const clock = new Clock();
    const { cache } = harness(
      { kv: withSlowReads(env.TOKEN_CACHE, () => clock.advanceMs(7)) },
      { clock },
    );
    const reads: number[] = [];
    const onKvRead = (ms: number) => reads.push(ms);
    await cache.check(APP, token('kv-ms-1'), loader(found()), { onKvRead });
    expect(reads).toEqual([7]);
    await cache.check(APP, token('kv-ms-1'), loader(found()), { onKvRead });
    expect(reads).toEqual([7]);
  });

  it('is told nothing when the cache has no KV', async () => {
    const clock = new Clock();
    const { cache } = harness({ kv: undefined }, { clock });
    const reads: number[] = [];
    const miss = await cache.check(APP, token('kv-ms-2'), loader(found()), {
      onKvRead: (ms) => reads.push(ms),
    });
    expect(miss.source).toBe('ghes');
    expect(reads).toEqual([]);
  });
});
