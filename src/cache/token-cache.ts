/**
 * The two-tier token-check cache used by the check endpoint, introspection and forward auth
 * through one call, `check`. See docs/cache.md for the storage schema and the consistency
 * window.
 *
 * - L1: a bounded LRU in this isolate's memory, keyed by the token's keyed hash.
 * - L2: Workers KV, shared by every isolate, eventually consistent (~60 s).
 * - Misses for one token in one isolate share one load (flight.ts, src/lib/single-flight.ts).
 * - `invalidateToken` / `invalidateGrant` make revocations through the gateway visible at once in
 *   this isolate and, through KV, elsewhere (grant-epochs.ts).
 *
 * Trust boundary: the raw token is used only to compute the key (src/cache/keys.ts) and is never
 * stored, logged or kept beyond the call. Answers are stored without `token`/`hashed_token`.
 */
import type { Clock } from '../lib/clock';
import { ConfigurationError } from '../lib/errors';
import type { Logger } from '../lib/log';
import { Lru } from '../lib/lru';
import {
  SharedAttemptFailed,
  createKeyedSingleFlight,
  type KeyedSingleFlight,
} from '../lib/single-flight';
import type { CacheEntry } from './entry';
import { fly, l1Outcome, toOutcome } from './flight';
import { GrantEpochs } from './grant-epochs';
import { TokenKeyer, grantScope, revokedKey, tokenIdOf, tokenKey } from './keys';
import { KvTier } from './kv-tier';
import {
  epochRetentionS,
  kvExpirationTtlS,
  makeRevokedEntry,
  retainUntilMs,
  servable,
  type FreshnessPolicy,
} from './policy';
import type {
  CacheApp,
  CheckOptions,
  CheckOutcome,
  FlightContext,
  FlightResult,
  LoadResult,
  TokenCacheStats,
} from './types';

export type { CheckResult } from './entry';
export type {
  CacheApp,
  CheckOptions,
  CheckOutcome,
  CheckSource,
  LoadResult,
  TokenCacheStats,
} from './types';

export interface TokenCacheOptions {
  /** L2; undefined runs the cache on L1 alone. */
  kv: KVNamespace | undefined;
  /** Secret HMAC key for cache keys (CACHE_PEPPER; its length is checked with the config). */
  pepper: string;
  positiveTtlS: number;
  negativeTtlS: number;
  /** L1 bound; 0 disables L1. */
  l1MaxEntries: number;
  /** Stale-if-error window for positive answers; 0 = off. */
  staleIfErrorS: number;
  log: Logger;
  clock: Clock;
  /**
   * Whether a definitive "not found" for this app may be cached and served from cache. When it
   * returns false, 404 answers are neither stored nor read back (revocation tombstones still
   * are: they come from the gateway's own successful revocation).
   */
  negativeCachingAllowed?: (app: CacheApp) => boolean;
  /**
   * A shared load older than this is taken as abandoned and the next check of that token loads
   * itself (`staleAfterMs` of src/lib/single-flight.ts). Set it above the GHES deadline.
   * Default 10 000 ms.
   */
  coalesceTimeoutMs?: number;
  /** Pause before the single retry of a failed invalidation write (KV allows one write per second per key). Default 1 000 ms. */
  kvRetryDelayMs?: number;
}

function requireInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new ConfigurationError(`TokenCache.${name}`, `must be an integer ≥ ${min}`);
}

export class TokenCache {
  readonly #keyer: TokenKeyer;
  readonly #flights: KeyedSingleFlight<FlightResult>;
  readonly #ctx: FlightContext;
  readonly #counters = { l1Hits: 0, kvHits: 0, loads: 0, coalesced: 0, staleServed: 0 };
  readonly #coalesceTimeoutMs: number;
  readonly #kvRetryDelayMs: number;

  constructor(opts: TokenCacheOptions) {
    requireInt('positiveTtlS', opts.positiveTtlS, 1);
    requireInt('negativeTtlS', opts.negativeTtlS, 1);
    requireInt('l1MaxEntries', opts.l1MaxEntries, 0);
    requireInt('staleIfErrorS', opts.staleIfErrorS, 0);
    this.#coalesceTimeoutMs = opts.coalesceTimeoutMs ?? 10_000;
    this.#kvRetryDelayMs = opts.kvRetryDelayMs ?? 1_000;
    requireInt('coalesceTimeoutMs', this.#coalesceTimeoutMs, 1);
    requireInt('kvRetryDelayMs', this.#kvRetryDelayMs, 0);

    const { log, clock } = opts;
    const policy: FreshnessPolicy = {
      positiveTtlS: opts.positiveTtlS,
      negativeTtlS: opts.negativeTtlS,
      staleIfErrorS: opts.staleIfErrorS,
    };
    const kv = new KvTier(opts.kv, log);
    // A token's key is remembered no longer than an answer about it stays fresh, and for no more
    // tokens than L1 holds (src/cache/keys.ts, KnownKeys).
    this.#keyer = new TokenKeyer(opts.pepper, {
      maxEntries: opts.l1MaxEntries,
      ttlMs: opts.positiveTtlS * 1000,
      clock,
    });
    this.#ctx = {
      l1: new Lru(opts.l1MaxEntries),
      kv,
      // Kept even when L1 is off: a grant revoked here must take effect here at once.
      epochs: new GrantEpochs({
        maxEntries: Math.max(1024, opts.l1MaxEntries),
        retentionMs: epochRetentionS(policy) * 1000,
        kv,
        clock,
      }),
      policy,
      log,
      clock,
      negativeAllowed: opts.negativeCachingAllowed ?? (() => true),
      counters: this.#counters,
    };
    this.#flights = createKeyedSingleFlight({
      clock,
      staleAfterMs: this.#coalesceTimeoutMs,
      onAbandoned: (hash) =>
        log({ level: 'warn', event: 'cache.coalesce_timeout', token_id: tokenIdOf(hash) }),
    });
  }

  /**
   * Answer a token check from L1, KV or `load`, storing what may be stored. The L1 hit path is
   * the token's remembered key (or one HMAC), one map lookup and a freshness check.
   */
  async check(
    app: CacheApp,
    token: string,
    load: () => Promise<LoadResult>,
    opts: CheckOptions = {},
  ): Promise<CheckOutcome> {
    const hash = await this.#keyer.hash(app.clientId, token);
    const key = tokenKey(hash);
    const hit = this.#fromL1(app, hash, key);
    if (hit !== undefined) {
      this.countL1Hit();
      return hit;
    }
    const req = {
      app,
      key,
      revokedKey: revokedKey(hash),
      tokenId: tokenIdOf(hash),
      token,
      load,
      waitUntil: opts.waitUntil,
      onKvRead: opts.onKvRead,
    };
    try {
      const { value, shared } = await this.#flights.run(hash, undefined, (revoked) => {
        const flight = fly(this.#ctx, req, revoked);
        opts.waitUntil?.(flight.catch(() => undefined));
        return flight;
      });
      if (shared) this.#counters.coalesced++;
      return toOutcome(value, this.#ctx.clock.now(), req.tokenId, shared);
    } catch (e) {
      if (!(e instanceof SharedAttemptFailed)) throw e;
      // Everyone waiting on a failed load gets its error.
      this.#counters.coalesced++;
      throw e.cause;
    }
  }

  /**
   * `check`'s answer when it is an L1 hit on a remembered key, found without a promise; undefined
   * whenever `check` would do more (compute the key, read KV, load). The hot paths answer such a
   * hit synchronously and hand everything else to `check` (src/routes/lean.ts). Not counted:
   * `countL1Hit` when the hit is answered, since a request that falls back is counted by `check`.
   */
  peek(app: CacheApp, token: string): CheckOutcome | undefined {
    const hash = this.#keyer.knownHash(app.clientId, token);
    return hash === undefined ? undefined : this.#fromL1(app, hash, tokenKey(hash));
  }

  countL1Hit(): void {
    this.#counters.l1Hits++;
  }

  /** The answer of a servable L1 entry under `key`, or undefined. */
  #fromL1(app: CacheApp, hash: string, key: string): CheckOutcome | undefined {
    const { l1, clock, epochs, negativeAllowed } = this.#ctx;
    const entry = l1.get(key);
    if (entry === undefined) return undefined;
    const now = clock.now();
    if (!servable(entry, now, negativeAllowed(app), epochs.known(entry, now))) return undefined;
    return l1Outcome(entry, now, tokenIdOf(hash));
  }

  /**
   * The token was revoked through the gateway (deleted, or replaced by a reset): answer
   * "inactive" from now on without asking GHES. Drops the L1 entry, writes a `revoked`
   * tombstone to L1 and KV, and stops a load already running for it from storing or serving a
   * positive answer. Call it after GHES confirmed the revocation. Never throws on KV trouble.
   */
  async invalidateToken(app: CacheApp, token: string): Promise<void> {
    const { l1, kv, clock, policy } = this.#ctx;
    const hash = await this.#keyer.hash(app.clientId, token);
    const key = tokenKey(hash);
    const tokenId = tokenIdOf(hash);
    this.#flights.forget(hash);
    const now = clock.now();
    const tombstone = makeRevokedEntry(now, policy);
    l1.delete(key);
    l1.set(key, tombstone);
    let replicated = !kv.enabled;
    if (kv.enabled) {
      // Under its own key: an answer stored afterwards (a load elsewhere that began before this)
      // lands beside it, never over it, and every reader reads both (docs/cache.md).
      const ttl = kvExpirationTtlS(now, retainUntilMs(tombstone));
      replicated = await this.#withRetry(() =>
        kv.writeEntry(revokedKey(hash), tombstone, ttl, tokenId),
      );
    }
    this.#ctx.log({
      level: replicated ? 'info' : 'error',
      event: replicated ? 'cache.token_invalidated' : 'cache.invalidation_not_replicated',
      app: app.name,
      token_id: tokenId,
    });
  }

  /**
   * The user's grant for this app was revoked through the gateway: every token of that user for
   * that app is treated as unchecked. Records a per-(client_id, user) epoch here and in KV;
   * positive entries asked for at or before it are misses everywhere that sees the epoch.
   * Never throws on KV trouble.
   */
  async invalidateGrant(app: CacheApp, userId: number): Promise<boolean> {
    if (!Number.isSafeInteger(userId) || userId < 0)
      throw new RangeError('userId must be a non-negative integer');
    const { l1, kv, policy, epochs } = this.#ctx;
    const scope = grantScope(app.clientId, userId);
    const epochMs = epochs.revoke(scope);
    const evicted = l1.deleteWhere((e: CacheEntry) => e.kind === 'positive' && e.scope === scope);
    let replicated = !kv.enabled;
    if (kv.enabled) {
      const ttl = epochRetentionS(policy);
      replicated = await this.#withRetry(() => kv.writeEpoch(app.clientId, userId, epochMs, ttl));
    }
    this.#ctx.log({
      level: replicated ? 'info' : 'error',
      event: replicated ? 'cache.grant_invalidated' : 'cache.invalidation_not_replicated',
      app: app.name,
      user_id: userId,
      l1_evicted: evicted,
    });
    return replicated;
  }

  /** The audit-log handle of a token, without touching the cache. */
  async tokenId(app: CacheApp, token: string): Promise<string> {
    return tokenIdOf(await this.#keyer.hash(app.clientId, token));
  }

  stats(): TokenCacheStats {
    const { l1, kv, epochs } = this.#ctx;
    return {
      l1Size: l1.size,
      l1MaxEntries: l1.maxEntries,
      inflight: this.#flights.size,
      grantEpochs: epochs.size,
      ...this.#counters,
      kvErrors: kv.errors,
    };
  }

  /** One retry for invalidation writes: KV answers 429 to a second write to a key within a second. */
  async #withRetry(write: () => Promise<boolean>): Promise<boolean> {
    if (await write()) return true;
    await this.#ctx.clock.sleep(this.#kvRetryDelayMs);
    return write();
  }
}
