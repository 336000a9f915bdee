/**
 * The rule this file enforces: a raw token never reaches a KV key, a KV value or a log record,
 * whatever the token looks like and whatever the cache is asked to do with it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyPlan } from '../helpers/fast-check';
import { memoryKv } from '../helpers/memory-kv';
import { StrictKv } from '../helpers/strict-kv';
import { GatewayError } from '../../src/lib/errors';
import type { GhesAuthorization } from '../../src/ghes/types';
import type { LoadResult } from '../../src/cache/token-cache';
import { APP, OTHER_APP, authFor, harness, loader, token } from './fixtures';

const ghesToken = fc
  .tuple(
    fc.constantFrom('gho_', 'ghp_', 'ghu_', 'ghs_', ''),
    fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
      minLength: 36,
      maxLength: 40,
    }),
  )
  .map(([prefix, body]) => prefix + body);
// Arbitrary printable strings too: the cache must not rely on a token's shape.
const anyToken = fc.oneof(ghesToken, fc.string({ minLength: 20, maxLength: 120 }));

type Op = 'found' | 'not-found' | 'error' | 'revoke' | 'revoke-grant';

function fullAuthorization(t: string, userId: number): GhesAuthorization {
  // What a careless loader might hand over: the full GHES answer including the secrets.
  return { ...authFor({ userId }), token: t, hashed_token: 'ab'.repeat(32) };
}

/**
 * Up to 25 cache operations a case, on KV in memory (what the cache wrote is the subject): on the
 * shared KV simulator 40 cases took 4-7 s on a loaded machine, past vitest's default 5 s. In
 * memory a case takes under 10 ms at load ~18; budgeted 100 ms (test/helpers/fast-check.ts).
 */
const PLAN = propertyPlan(40, 100);

describe('no raw token in KV or logs', { timeout: PLAN.timeoutMs }, () => {
  it('after many generated operations, no KV key, value or log record contains a token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(anyToken, { minLength: 1, maxLength: 6 }),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom<Op>('found', 'not-found', 'error', 'revoke', 'revoke-grant'),
            fc.boolean(),
            fc.integer({ min: 0, max: 90 }),
          ),
          { minLength: 1, maxLength: 25 },
        ),
        async (tokens, ops) => {
          const h = harness({ staleIfErrorS: 120 }, { kv: new StrictKv(memoryKv()) });
          for (const [pick, op, otherApp, advance] of ops) {
            const t = tokens[pick % tokens.length]!;
            const app = otherApp ? OTHER_APP : APP;
            h.clock.advance(advance);
            if (op === 'revoke') await h.cache.invalidateToken(app, t);
            else if (op === 'revoke-grant') await h.cache.invalidateGrant(app, 42);
            else {
              const load = loader(async (): Promise<LoadResult> => {
                if (op === 'error') throw new GatewayError('upstream-unavailable');
                return op === 'found'
                  ? { found: true, authorization: fullAuthorization(t, 42) }
                  : { found: false };
              });
              const outcome = await h.cache.check(app, t, load).catch(() => undefined);
              if (outcome?.result.active === true) {
                expect(outcome.result.authorization).not.toHaveProperty('token');
                expect(outcome.result.authorization).not.toHaveProperty('hashed_token');
              }
              if (outcome !== undefined) expect(outcome.cacheStatus).not.toContain(t);
            }
          }
          const stored = await h.kv.dump();
          const logged = JSON.stringify(h.logs.records);
          for (const t of tokens) {
            for (const { key, value } of stored) {
              expect(key).not.toContain(t);
              expect(value).not.toContain(t);
              expect(new TextEncoder().encode(key).byteLength).toBeLessThanOrEqual(512);
            }
            expect(logged).not.toContain(t);
          }
          for (const { value } of stored) expect(value).not.toContain('hashed_token');
          // Every put went through the strict KV's rules (TTL ≥ 60 s, key size).
          for (const put of h.kv.puts) expect(put.expirationTtl).toBeGreaterThanOrEqual(60);
        },
      ),
      PLAN.params,
    );
  });

  it('refuses to store an answer that carries the token anywhere (a loader bug)', async () => {
    const { cache, kv, logs } = harness();
    const t = token('leaky');
    const auth = { ...authFor(), note: `created with ${t}` };
    const load = loader({ found: true, authorization: auth });
    const o = await cache.check(APP, t, load);
    expect(o.result.active).toBe(true);
    expect(o.cacheStatus).not.toContain('stored');
    expect(await kv.dump()).toEqual([]);
    expect(logs.events('cache.secret_in_value')).toHaveLength(1);
    await cache.check(APP, t, load);
    expect(load.calls).toBe(2);
  });

  it('logs identify a token only by its 12-character id', async () => {
    const { cache, kv, logs } = harness();
    kv.failGets = true;
    const t = token('logged');
    const o = await cache.check(APP, t, loader({ found: false }));
    await cache.invalidateToken(APP, t);
    const ids = logs.records.map((r) => r['token_id']).filter((x) => x !== undefined);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect(id).toBe(o.tokenId);
  });
});
