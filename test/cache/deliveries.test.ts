/** Webhook delivery ids acted on (src/cache/deliveries.ts): isolate LRU + KV, KV failures contained. */
import { describe, expect, it } from 'vitest';
import { DeliveryLog, deliveryKey } from '../../src/cache/deliveries';
import type { LogRecord } from '../../src/lib/log';
import { TestClock } from '../helpers/clock';
import { memoryKv } from '../helpers/memory-kv';

const CLIENT = 'Iv1.9d2c5e8f1a3b4c6d';
const ID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

function setup(kv: KVNamespace | undefined = memoryKv()) {
  const clock = new TestClock(Date.UTC(2026, 10, 21));
  const logs: LogRecord[] = [];
  const puts: { key: string; ttl: number | undefined }[] = [];
  const spied =
    kv === undefined
      ? undefined
      : ({
          get: kv.get.bind(kv),
          put: async (key: string, value: string, o?: KVNamespacePutOptions) => {
            puts.push({ key, ttl: o?.expirationTtl });
            return kv.put(key, value, o);
          },
        } as unknown as KVNamespace);
  const log = new DeliveryLog({ kv: spied, clock, log: (r) => logs.push(r) });
  return { log, logs, puts, clock, kv };
}

describe('DeliveryLog', () => {
  it('claims a delivery once; a concurrent or later copy is refused in this isolate', async () => {
    const { log } = setup();
    const [a, b] = await Promise.all([log.claim(CLIENT, ID), log.claim(CLIENT, ID)]);
    expect([a, b].sort()).toEqual([false, true]);
    expect(await log.claim(CLIENT, ID)).toBe(false);
    // Per app: the same id for another app is another delivery.
    expect(await log.claim('Iv1.other', ID)).toBe(true);
  });

  it('commit writes the KV key for a day; another isolate then refuses the replay', async () => {
    const { log, puts, kv } = setup();
    expect(await log.claim(CLIENT, ID)).toBe(true);
    await log.commit(CLIENT, ID);
    expect(puts).toEqual([{ key: `v1:delivery:${CLIENT}:${ID}`, ttl: 86_400 }]);
    const other = setup(kv);
    expect(await other.log.claim(CLIENT, ID)).toBe(false);
  });

  it('release lets a failed delivery be claimed again', async () => {
    const { log } = setup();
    expect(await log.claim(CLIENT, ID)).toBe(true);
    log.release(CLIENT, ID);
    expect(await log.claim(CLIENT, ID)).toBe(true);
  });

  it('the isolate copy expires with the TTL', async () => {
    const { log, clock } = setup(undefined);
    expect(await log.claim(CLIENT, ID)).toBe(true);
    await clock.elapse(86_400_000 + 1);
    expect(await log.claim(CLIENT, ID)).toBe(true);
  });

  it('KV failures never fail a delivery: a failed read counts as unseen, a failed write is logged', async () => {
    const broken = {
      get: async () => {
        throw new Error('KV GET failed: 503');
      },
      put: async () => {
        throw new Error('KV PUT failed: 429 Too Many Requests');
      },
    } as unknown as KVNamespace;
    const logs: LogRecord[] = [];
    const log = new DeliveryLog({
      kv: broken,
      clock: new TestClock(0),
      log: (r) => logs.push(r),
    });
    expect(await log.claim(CLIENT, ID)).toBe(true);
    await log.commit(CLIENT, ID);
    expect(logs.map((r) => [r.event, r['op']])).toEqual([
      ['cache.kv_error', 'get_delivery'],
      ['cache.kv_error', 'put_delivery'],
    ]);
  });

  it('keys name the app and the delivery only', () => {
    expect(deliveryKey(CLIENT, ID)).toBe(`v1:delivery:${CLIENT}:${ID}`);
  });
});
