import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { GatewayError, type ErrorCode } from '../../src/lib/errors';
import { tokenKey } from '../../src/cache/keys';
import { StrictKv } from '../helpers/strict-kv';
import { APP, T0, authFor, failing, found, harness, loader, otherIsolate, token } from './fixtures';

const iso = (ms: number) => new Date(ms).toISOString();

describe('the strict KV refuses what real KV refuses', () => {
  const kv = new StrictKv(env.TOKEN_CACHE);
  it.each([0, 1, 59, 59.5, 60.5])('expirationTtl %s', async (ttl) => {
    await expect(kv.put('k', 'v', { expirationTtl: ttl })).rejects.toThrow(/expiration/i);
  });
  it('keys over 512 bytes', async () => {
    await expect(kv.put('k'.repeat(513), 'v', { expirationTtl: 60 })).rejects.toThrow(/512/);
    await expect(kv.put('k'.repeat(400), 'v', { expirationTtl: 60 })).resolves.toBeUndefined();
  });
});

describe('KV trouble never fails a check', () => {
  it('a throwing get falls through to GHES and is logged', async () => {
    const { cache, kv, logs } = harness();
    kv.failGets = true;
    const load = loader(found());
    const o = await cache.check(APP, token(1), load);
    expect(o).toMatchObject({ result: { active: true }, source: 'ghes' });
    expect(o.cacheStatus).toContain('fwd=miss');
    expect(load.calls).toBe(1);
    // The read of the entry and its tombstone, then the tombstone read before storing.
    expect(logs.events('cache.kv_error')).toEqual(
      ['get', 'get_revoked'].map((op) =>
        expect.objectContaining({ level: 'warn', op, token_id: o.tokenId, rate_limited: false }),
      ),
    );
    // Still answered from L1 afterwards.
    expect((await cache.check(APP, token(1), load)).source).toBe('l1');
  });

  it('a throwing put is logged; L1 still has the answer', async () => {
    const { cache, kv, logs } = harness();
    kv.failPuts = true;
    const load = loader(found());
    const o = await cache.check(APP, token(2), load);
    expect(o).toMatchObject({ result: { active: true }, source: 'ghes', freshForS: 60 });
    expect(o.cacheStatus).toContain('; stored');
    expect(logs.events('cache.kv_error')).toEqual([expect.objectContaining({ op: 'put' })]);
    expect((await cache.check(APP, token(2), load)).source).toBe('l1');
    expect(await kv.dump()).toEqual([]);
  });

  it('a 429 on put (one write per second per key) is logged as rate limited', async () => {
    const { cache, kv, logs } = harness();
    kv.rateLimitNextPuts = 1;
    const o = await cache.check(APP, token(3), loader(found()));
    expect(o.result.active).toBe(true);
    expect(logs.events('cache.kv_error')).toEqual([
      expect.objectContaining({ op: 'put', rate_limited: true }),
    ]);
  });

  it('a put failing with L1 off reports the answer as not stored but still fresh', async () => {
    const { cache, kv } = harness({ l1MaxEntries: 0 });
    kv.failPuts = true;
    const o = await cache.check(APP, token(4), loader(found()));
    expect(o.cacheStatus).toBe('ghes-token-gateway; fwd=uri-miss; fwd-status=200; ttl=60');
    expect(o.freshForS).toBe(60);
  });

  it('a throwing epoch read distrusts the KV entry and asks GHES', async () => {
    const a = harness();
    await a.cache.check(APP, token(5), loader(found()));
    const b = otherIsolate(a);
    a.kv.failGetsMatching = 'v1:epoch:';
    const load = loader(found());
    const o = await b.cache.check(APP, token(5), load);
    expect(o.source).toBe('ghes');
    expect(load.calls).toBe(1);
    expect(b.logs.events('cache.kv_error')).toEqual([expect.objectContaining({ op: 'get_epoch' })]);
  });

  it('works with no KV at all', async () => {
    const { cache } = harness({ kv: undefined });
    const load = loader(found());
    await cache.check(APP, token(6), load);
    await cache.invalidateToken(APP, token(6));
    await cache.invalidateGrant(APP, 42);
    expect((await cache.check(APP, token(6), load)).result).toEqual({ active: false });
    expect(load.calls).toBe(1);
  });
});

describe('corrupt KV values are misses', () => {
  it.each([
    ['garbage', 'not json at all'],
    ['a wrong shape', JSON.stringify({ v: 1, kind: 'positive', auth: { id: 1 } })],
    [
      'another version',
      JSON.stringify({ v: 9, kind: 'negative', fresh_until: 2e9, stored_at: 1.7e9 }),
    ],
  ])('%s: logged, reloaded, then overwritten with a good value', async (_name, text) => {
    // L1 off, so that every check reads KV.
    const { cache, kv, logs } = harness({ l1MaxEntries: 0 });
    // Write a good value first, then corrupt it in place.
    await cache.check(APP, token(7), loader(found()));
    const written = kv.puts[0]!.key;
    expect(written.startsWith(tokenKey(await cache.tokenId(APP, token(7))))).toBe(true);
    await kv.plant(written, text);

    const load = loader(found());
    const o = await cache.check(APP, token(7), load);
    expect(o).toMatchObject({ result: { active: true }, source: 'ghes' });
    expect(o.cacheStatus).toContain('fwd=miss');
    expect(load.calls).toBe(1);
    expect(logs.events('cache.kv_corrupt')).toEqual([
      expect.objectContaining({ level: 'warn', token_id: o.tokenId }),
    ]);
    expect((await cache.check(APP, token(7), load)).source).toBe('kv');
  });
});

describe('stale-if-error', () => {
  const down = (code: ErrorCode = 'upstream-unavailable', upstreamStatus = 503) =>
    failing(new GatewayError(code, { upstreamStatus }));

  it('serves a positive answer past freshness while GHES is down, never for reuse', async () => {
    const a = harness({ staleIfErrorS: 300 });
    await a.cache.check(APP, token(10), loader(found()));
    expect(a.kv.puts[0]!.expirationTtl).toBe(360);
    a.clock.advance(160);
    const o = await a.cache.check(APP, token(10), down());
    expect(o).toMatchObject({ result: { active: true }, source: 'stale', freshForS: 0 });
    expect(o.cacheStatus).toBe(
      'ghes-token-gateway; fwd=stale; fwd-status=503; ttl=-100; detail=stale-if-error',
    );
    expect(a.logs.events('cache.stale_served')).toHaveLength(1);

    // From KV in an isolate that never saw it.
    const b = otherIsolate(a, { staleIfErrorS: 300 });
    const timeout = failing(new GatewayError('upstream-timeout'));
    const fromKv = await b.cache.check(APP, token(10), timeout);
    expect(fromKv).toMatchObject({ source: 'stale', result: { active: true } });
    // A timeout has no upstream status to report.
    expect(fromKv.cacheStatus).toBe(
      'ghes-token-gateway; fwd=stale; ttl=-100; detail=stale-if-error',
    );
  });

  it('is off by default: the error is rethrown', async () => {
    const a = harness();
    await a.cache.check(APP, token(11), loader(found()));
    a.clock.advance(61);
    await expect(a.cache.check(APP, token(11), down())).rejects.toBeInstanceOf(GatewayError);
  });

  it('ends with its window', async () => {
    const a = harness({ staleIfErrorS: 300 });
    await a.cache.check(APP, token(12), loader(found()));
    a.clock.advance(360);
    await expect(a.cache.check(APP, token(12), down())).rejects.toBeInstanceOf(GatewayError);
  });

  it('never for 429 or rejected credentials', async () => {
    const a = harness({ staleIfErrorS: 300 });
    await a.cache.check(APP, token(13), loader(found()));
    a.clock.advance(61);
    await expect(
      a.cache.check(APP, token(13), down('upstream-rate-limited', 429)),
    ).rejects.toThrow();
    await expect(
      a.cache.check(APP, token(13), down('upstream-credentials-rejected', 401)),
    ).rejects.toThrow();
  });

  it('never past the token’s expires_at', async () => {
    const a = harness({ staleIfErrorS: 300 });
    await a.cache.check(APP, token(14), loader(found(authFor({ expiresAt: iso(T0 + 90_000) }))));
    a.clock.advance(89);
    expect((await a.cache.check(APP, token(14), down())).source).toBe('stale');
    a.clock.advance(1);
    await expect(a.cache.check(APP, token(14), down())).rejects.toBeInstanceOf(GatewayError);
  });

  it('never for a negative answer', async () => {
    const a = harness({ staleIfErrorS: 300 });
    await a.cache.check(APP, token(15), loader({ found: false }));
    a.clock.advance(31);
    await expect(a.cache.check(APP, token(15), down())).rejects.toBeInstanceOf(GatewayError);
  });

  it('never for a revoked token, in the isolate that revoked it or one holding a stale copy', async () => {
    const a = harness({ staleIfErrorS: 300 });
    const b = otherIsolate(a, { staleIfErrorS: 300 });
    await a.cache.check(APP, token(16), loader(found()));
    await b.cache.check(APP, token(16), loader(found()));
    await a.cache.invalidateToken(APP, token(16));
    const failingLoad = down();
    // b's fresh copy is the documented window (up to positiveTtlS); through b's whole stale
    // window after it, b answers from the tombstone in KV, never from its stale copy.
    a.clock.advance(60);
    for (let s = 60; s < 360; s += 30) {
      expect((await b.cache.check(APP, token(16), failingLoad)).result).toEqual({ active: false });
      expect((await a.cache.check(APP, token(16), failingLoad)).result).toEqual({ active: false });
      a.clock.advance(30);
    }
    expect(failingLoad.calls).toBe(0);
  });

  it('prefers the newest entry: a stale L1 positive loses to a newer negative in KV', async () => {
    const a = harness({ staleIfErrorS: 300 });
    const b = otherIsolate(a, { staleIfErrorS: 300 });
    await a.cache.check(APP, token(17), loader(found()));
    a.clock.advance(61);
    await b.cache.check(APP, token(17), loader({ found: false }));
    a.clock.advance(31);
    await expect(a.cache.check(APP, token(17), down())).rejects.toBeInstanceOf(GatewayError);
  });
});
