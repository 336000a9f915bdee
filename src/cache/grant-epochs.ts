/**
 * Grant revocations known to this isolate: `client_id:user_id` → epoch ms. A positive entry asked
 * for at or before its grant's epoch is not trusted (policy.ts `invalidatedByEpoch`). Epochs are
 * also kept in KV (written by TokenCache.invalidateGrant) and read back here on KV hits.
 */
import type { Clock } from '../lib/clock';
import { Lru } from '../lib/lru';
import type { CacheEntry } from './entry';
import type { EpochRead, KvTier } from './kv-tier';
import { invalidatedByEpoch } from './policy';

export interface GrantEpochsOptions {
  maxEntries: number;
  /** How long an epoch matters (policy.ts `epochRetentionS`), in ms. */
  retentionMs: number;
  kv: KvTier;
  clock: Clock;
}

export class GrantEpochs {
  readonly #epochs: Lru<number>;
  readonly #retentionMs: number;
  readonly #kv: KvTier;
  readonly #clock: Clock;
  /**
   * `stored_at` stamps are at least this. Raised past every epoch set here, so that a load started
   * in the same millisecond as, but after, a grant revocation is not mistaken for one started
   * before it (workerd's clock does not move between I/O).
   */
  #stampFloorMs = 0;

  constructor(options: GrantEpochsOptions) {
    this.#epochs = new Lru(options.maxEntries);
    this.#retentionMs = options.retentionMs;
    this.#kv = options.kv;
    this.#clock = options.clock;
  }

  get size(): number {
    return this.#epochs.size;
  }

  /** The `stored_at` of a load starting now. */
  stamp(): number {
    return Math.max(this.#clock.now(), this.#stampFloorMs);
  }

  /** Records a revocation of the grant `scope` now; returns its epoch. */
  revoke(scope: string): number {
    const epochMs = this.stamp();
    this.#stampFloorMs = epochMs + 1;
    this.#remember(scope, epochMs);
    return epochMs;
  }

  /** The epoch known here for a positive entry's grant, if any. */
  known(entry: CacheEntry, nowMs: number): number | undefined {
    if (entry.kind !== 'positive' || entry.scope === null || this.#epochs.size === 0)
      return undefined;
    const epochMs = this.#epochs.peek(entry.scope);
    if (epochMs === undefined) return undefined;
    if (nowMs > epochMs + this.#retentionMs) {
      this.#epochs.delete(entry.scope);
      return undefined;
    }
    return epochMs;
  }

  /**
   * Whether a positive entry survives the grant epoch in KV (one KV read, only on KV hits and
   * stale-if-error, unless `prefetched` already holds it). An epoch that cannot be read proves nothing: the entry is not trusted.
   */
  async trustedByKv(clientId: string, entry: CacheEntry, prefetched?: EpochRead): Promise<boolean> {
    if (entry.kind !== 'positive' || entry.scope === null || entry.userId === null) return true;
    if (!this.#kv.enabled) return true;
    // Read with the entry (one bulk get) when this isolate already knew the token's user.
    const read =
      prefetched?.userId === entry.userId
        ? prefetched.read
        : await this.#kv.readEpoch(clientId, entry.userId);
    if (!read.ok) return false;
    if (read.value === undefined) return true;
    this.#remember(entry.scope, read.value);
    return !invalidatedByEpoch(entry.storedAtMs, read.value);
  }

  #remember(scope: string, epochMs: number): void {
    const known = this.#epochs.peek(scope);
    this.#epochs.set(scope, known === undefined ? epochMs : Math.max(known, epochMs));
  }
}
