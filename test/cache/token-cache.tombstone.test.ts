/**
 * The storage schema of revocations (docs/cache.md): a tombstone under its own key
 * (`v1:revoked:<mac>`), read with the entry, and the grant epoch when the user is known, in one
 * Workers KV bulk get; what a reader does with each thing it finds.
 */
import { describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/cache/entry';
import { TokenKeyer, epochKey, revokedKey, tokenKey } from '../../src/cache/keys';
import { makePositiveEntry, makeRevokedEntry, revokedLifetimeS } from '../../src/cache/policy';
import { APP, PEPPER, T0, authFor, found, harness, loader, otherIsolate, token } from './fixtures';

const POLICY = { positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 0 };

async function keysOf(t: string) {
  const hash = await new TokenKeyer(PEPPER).hash(APP.clientId, t);
  return { entry: tokenKey(hash), revoked: revokedKey(hash) };
}

describe('one bulk get per KV read', () => {
  it('reads the entry and its tombstone together; the epoch too once the user is known', async () => {
    const a = harness();
    const b = otherIsolate(a);
    const t = token('bulk');
    const keys = await keysOf(t);
    const epoch = epochKey(APP.clientId, 42);
    await a.cache.check(APP, t, loader(found()));

    // B knows nothing of the token: entry and tombstone, then the epoch of the user it names.
    let from = a.kv.gets.length;
    expect((await b.cache.check(APP, t, loader(found()))).source).toBe('kv');
    expect(a.kv.gets.slice(from)).toEqual([keys.entry, keys.revoked, epoch]);

    // A newer answer in KV; B's copy has gone stale but names the user: one read of three keys.
    a.clock.advance(61);
    await a.cache.check(APP, t, loader(found()));
    from = a.kv.gets.length;
    const load = loader(found());
    expect((await b.cache.check(APP, t, load)).source).toBe('kv');
    expect(a.kv.gets.slice(from)).toEqual([keys.entry, keys.revoked, epoch]);
    expect(load.calls).toBe(0);
  });

  it('an epoch read in the bulk get is honoured: the entry asked for before it is not trusted', async () => {
    const a = harness();
    const b = otherIsolate(a);
    const t = token('bulk-epoch');
    await a.cache.check(APP, t, loader(found()));
    await b.cache.check(APP, t, loader(found()));
    a.clock.advance(61);
    await a.cache.check(APP, t, loader(found()));
    await a.cache.invalidateGrant(APP, 42);

    const from = a.kv.gets.length;
    const load = loader(found());
    expect((await b.cache.check(APP, t, load)).source).toBe('ghes');
    expect(load.calls).toBe(1);
    // No second read of the epoch: it came with the entry.
    expect(a.kv.gets.slice(from).filter((k) => k.startsWith('v1:epoch:'))).toHaveLength(1);
  });
});

describe('what a reader does with what it finds', () => {
  it('a tombstone written under the entry key by an older gateway still answers inactive', async () => {
    const a = harness();
    const t = token('legacy');
    const keys = await keysOf(t);
    await a.kv.plant(keys.entry, encodeValue(makeRevokedEntry(T0, POLICY)));
    const load = loader(found());
    expect(await a.cache.check(APP, t, load)).toMatchObject({
      result: { active: false },
      source: 'kv',
    });
    expect(load.calls).toBe(0);
  });

  it('an unreadable tombstone proves nothing: the KV answer is not trusted, GHES is asked', async () => {
    const a = harness();
    const t = token('corrupt-tombstone');
    const keys = await keysOf(t);
    await a.cache.check(APP, t, loader(found()));
    await a.kv.plant(keys.revoked, '{"v":1,"kind":"revo');
    const b = otherIsolate(a);
    const load = loader(found());
    const o = await b.cache.check(APP, t, load);
    expect(o).toMatchObject({ result: { active: true }, source: 'ghes' });
    expect(o.cacheStatus).toContain('fwd=miss');
    expect(load.calls).toBe(1);
    expect(b.logs.events('cache.kv_corrupt').length).toBeGreaterThan(0);
  });

  it('an answer planted under the tombstone key is neither a tombstone nor an answer', async () => {
    const a = harness();
    const t = token('wrong-kind');
    const keys = await keysOf(t);
    const positive = makePositiveEntry(authFor(), APP.clientId, T0, T0, POLICY);
    await a.kv.plant(keys.revoked, encodeValue(positive));
    const load = loader(found());
    expect((await a.cache.check(APP, t, load)).source).toBe('ghes');
    expect(load.calls).toBe(1);
    // Read with the entry, and again before storing GHES's answer.
    expect(a.logs.events('cache.kv_corrupt')).toEqual([
      expect.objectContaining({ reason: 'wrong kind' }),
      expect.objectContaining({ reason: 'wrong kind' }),
    ]);
  });

  it('an expired tombstone still undoes a positive asked for before it: GHES is asked', async () => {
    const a = harness();
    const t = token('expired-tombstone');
    const keys = await keysOf(t);
    // A positive asked for at T0, and a revocation a moment later that has since expired: a
    // positive written with a long freshness (another configuration) is still not served.
    const old = makePositiveEntry(authFor(), APP.clientId, T0, T0, {
      ...POLICY,
      positiveTtlS: 3_600,
    });
    await a.kv.plant(keys.entry, encodeValue(old));
    await a.kv.plant(keys.revoked, encodeValue(makeRevokedEntry(T0 + 1, POLICY)));
    // Read by a gateway that would serve that positive for an hour, after the tombstone expired.
    const b = harness({ positiveTtlS: 3_600 }, { kv: a.kv, clock: a.clock });
    a.clock.advance(revokedLifetimeS(POLICY) + 10);
    const load = loader(found());
    const o = await b.cache.check(APP, t, load);
    expect(o).toMatchObject({ result: { active: true }, source: 'ghes' });
    expect(o.cacheStatus).toContain('fwd=miss');
    expect(load.calls).toBe(1);
  });
});
