/**
 * Webhook deliveries already acted on, by `X-GitHub-Delivery` (a GUID GHES sends with every
 * delivery and keeps on a redelivery): in this isolate's memory (a bounded LRU) and, so that other
 * isolates see them too, in Workers KV under `v1:delivery:<client_id>:<delivery id>` for
 * `ttlS`. The id is not a secret; the value is `1`. KV trouble never fails a delivery: a failed
 * read counts as unseen (acting twice only re-checks some tokens once more), a failed write is
 * logged as `cache.kv_error`.
 */
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { Lru } from '../lib/lru';

/** What GHES sends: a GUID; anything else is refused before it reaches a key. */
export const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/;

/** A day: longer than GHES's own redelivery of a failed delivery is likely to be asked for. */
export const DELIVERY_TTL_S = 86_400;

export interface DeliveryLogOptions {
  kv: KVNamespace | undefined;
  clock: Clock;
  log: Logger;
  maxEntries?: number;
  ttlS?: number;
}

export class DeliveryLog {
  readonly #kv: KVNamespace | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #ttlS: number;
  /** Delivery key → until when (epoch ms) it counts as seen here. */
  readonly #seen: Lru<number>;

  constructor(options: DeliveryLogOptions) {
    this.#kv = options.kv;
    this.#clock = options.clock;
    this.#log = options.log;
    // KV refuses an expirationTtl under 60 s.
    this.#ttlS = Math.max(60, options.ttlS ?? DELIVERY_TTL_S);
    this.#seen = new Lru(options.maxEntries ?? 1024);
  }

  /**
   * Claims a delivery: false when it was seen already (here or in KV), else true, and it counts
   * as seen here from now on (a concurrent copy of it is not acted on twice). `release` it when
   * acting failed, `commit` it when done.
   */
  async claim(clientId: string, deliveryId: string): Promise<boolean> {
    const key = deliveryKey(clientId, deliveryId);
    const until = this.#seen.get(key);
    if (until !== undefined && until > this.#clock.now()) return false;
    this.#seen.set(key, this.#clock.now() + this.#ttlS * 1000);
    if (this.#kv === undefined) return true;
    try {
      if ((await this.#kv.get(key, 'text')) === null) return true;
    } catch (e) {
      this.#kvError('get_delivery', e);
      return true;
    }
    return false;
  }

  release(clientId: string, deliveryId: string): void {
    this.#seen.delete(deliveryKey(clientId, deliveryId));
  }

  /** Records the delivery in KV, so that other isolates do not act on a replay of it. */
  async commit(clientId: string, deliveryId: string): Promise<void> {
    if (this.#kv === undefined) return;
    try {
      await this.#kv.put(deliveryKey(clientId, deliveryId), '1', { expirationTtl: this.#ttlS });
    } catch (e) {
      this.#kvError('put_delivery', e);
    }
  }

  #kvError(op: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.#log({ level: 'warn', event: 'cache.kv_error', op, error: message.slice(0, 200) });
  }
}

export function deliveryKey(clientId: string, deliveryId: string): string {
  return `v1:delivery:${clientId}:${deliveryId}`;
}
