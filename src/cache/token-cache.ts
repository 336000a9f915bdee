/**
 * The two-tier token-check cache used by the check endpoint, introspection and forward auth
 * through one call, `check`. See docs/cache.md for the storage schema and the consistency
 * window.
 *
 * - L1: a bounded LRU in this isolate's memory, keyed by the token's keyed hash.
 * - L2: Workers KV, shared by every isolate, eventually consistent (~60 s).
 * - Misses for one key in one isolate share a single load (in-flight map).
 * - `invalidateToken` / `invalidateGrant` make revocations through the gateway visible at once in
 *   this isolate and, through KV, elsewhere.
 *
 * Trust boundary: the raw token is used only to compute the key (src/cache/keys.ts) and is never
 * stored, logged or kept beyond the call. Answers are stored without `token`/`hashed_token`.
 *
 * Time: every clock read and timer runs on the injected `clock` (src/lib/clock.ts).
 */
import type { PublicAuthorization } from '../ghes/types';
import { settleWithin, type Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { GatewayError } from '../lib/errors';
import {
  CACHE_NAME,
  INACTIVE_L1_HIT,
  formatCacheStatus,
  inactiveCacheStatus,
  type CacheStatusParams,
  type ForwardReason,
} from './cache-status';
import { INACTIVE, type CacheEntry, type CheckResult, type PositiveEntry } from './entry';
import { TokenKeyer, grantScope, tokenIdOf, tokenKey } from './keys';
import { KvTier } from './kv-tier';
import { Lru } from '../lib/lru';
import {
  cacheStatusTtl,
  epochRetentionS,
  invalidatedByEpoch,
  isFresh,
  kvExpirationTtlS,
  makeNegativeEntry,
  makePositiveEntry,
  makeRevokedEntry,
  remainingFreshnessS,
  retainUntilMs,
  staleIfErrorAllowed,
  type FreshnessPolicy,
} from './policy';

export type { CheckResult } from './entry';

/** The app a token belongs to, as the cache needs it. */
export interface CacheApp {
  name: string;
  clientId: string;
}

/**
 * What the loader (a GHES check) found. `found: false` must mean a definitive "no such token"
 * (GHES 404); anything else (5xx, timeout, 429, rejected credentials) is thrown as a
 * `GatewayError`, is never cached, and is rethrown to every caller waiting on that load.
 */
export type LoadResult = { found: true; authorization: PublicAuthorization } | { found: false };

export type CheckSource = 'l1' | 'kv' | 'ghes' | 'stale' | 'coalesced';

export interface CheckOutcome {
  result: CheckResult;
  /** RFC 9211 `Cache-Status` member for this answer. */
  cacheStatus: string;
  /**
   * Whole seconds this answer may still be reused: the remaining freshness of the entry it came
   * from or was stored as (the full freshness right after a miss), 0 when it must not be reused
   * (stale-if-error, not cacheable, revoked meanwhile). For `Cache-Control: private, max-age=N`.
   */
  freshForS: number;
  /** Audit-log handle: a prefix of the token's keyed hash. */
  tokenId: string;
  /** Who answered: L1, KV, GHES, a stale entry (GHES failing) or another request's load. */
  source: CheckSource;
}

export interface CheckOptions {
  /** Skip the in-memory tier (the "answer from KV" benchmark scenario). */
  bypassL1?: boolean;
  /**
   * The request's `ctx.waitUntil`. When given, KV writes do not delay the answer, and a load
   * that other requests are waiting on keeps running even if this request is cancelled.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export interface TokenCacheOptions {
  /** L2; undefined runs the cache on L1 alone. */
  kv: KVNamespace | undefined;
  /** Secret HMAC key for cache keys (CACHE_PEPPER), at least 32 characters. */
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
   * How long a request waits on another request's load before giving up on it and loading
   * itself. A backstop only: in workerd a promise whose creating request was cancelled can stay
   * pending forever. Set it above the GHES deadline. Default 10 000 ms.
   */
  coalesceTimeoutMs?: number;
  /** Pause before the single retry of a failed invalidation write (KV allows one write per second per key). Default 1 000 ms. */
  kvRetryDelayMs?: number;
}

export interface TokenCacheStats {
  l1Size: number;
  l1MaxEntries: number;
  inflight: number;
  grantEpochs: number;
  l1Hits: number;
  kvHits: number;
  loads: number;
  coalesced: number;
  staleServed: number;
  kvErrors: number;
}

interface Flight {
  promise: Promise<FlightResult>;
  /** Set by `invalidateToken` while the load runs: its answer must be neither stored nor served as active. */
  revoked: boolean;
}

interface FlightResult {
  result: CheckResult;
  /** Freshness end of the answer; undefined when the answer must not be reused. */
  freshUntilMs: number | undefined;
  /** What the RFC 9211 `ttl` is computed from; undefined omits `ttl`. */
  statusTtlFromMs: number | undefined;
  params: CacheStatusParams;
  source: 'kv' | 'ghes' | 'stale';
}

type GrantVerdict = 'ok' | 'invalidated' | 'error';

const TIMED_OUT = Symbol('timed out');

/** The smallest pepper src/env.ts accepts. */
const MIN_PEPPER_LENGTH = 32;

function misconfigured(reason: string): GatewayError {
  return new GatewayError('misconfigured', { reason: `token cache: ${reason}` });
}

function requireInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw misconfigured(`${name} must be an integer ≥ ${min}`);
}

export class TokenCache {
  readonly #keyer: TokenKeyer;
  readonly #kv: KvTier;
  readonly #l1: Lru<CacheEntry>;
  /** Grant revocations known to this isolate: `client_id:user_id` → epoch ms. */
  readonly #epochs: Lru<number>;
  readonly #inflight = new Map<string, Flight>();
  /** KV writes of token entries still running, so a tombstone is written after them. */
  readonly #pendingWrites = new Map<string, Promise<boolean>>();
  readonly #policy: FreshnessPolicy;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #negativeAllowed: (app: CacheApp) => boolean;
  readonly #coalesceTimeoutMs: number;
  readonly #kvRetryDelayMs: number;
  readonly #epochRetentionMs: number;
  /**
   * `stored_at` stamps are at least this. Raised past every grant epoch set here, so that a load
   * started in the same millisecond as, but after, a grant revocation is not mistaken for one
   * started before it (workerd's clock does not move between I/O).
   */
  #stampFloorMs = 0;
  readonly #counters = { l1Hits: 0, kvHits: 0, loads: 0, coalesced: 0, staleServed: 0 };

  constructor(opts: TokenCacheOptions) {
    if (typeof opts.pepper !== 'string' || opts.pepper.length < MIN_PEPPER_LENGTH)
      throw misconfigured(`pepper must be at least ${MIN_PEPPER_LENGTH} characters`);
    requireInt('positiveTtlS', opts.positiveTtlS, 1);
    requireInt('negativeTtlS', opts.negativeTtlS, 1);
    requireInt('l1MaxEntries', opts.l1MaxEntries, 0);
    requireInt('staleIfErrorS', opts.staleIfErrorS, 0);
    const coalesceTimeoutMs = opts.coalesceTimeoutMs ?? 10_000;
    const kvRetryDelayMs = opts.kvRetryDelayMs ?? 1_000;
    requireInt('coalesceTimeoutMs', coalesceTimeoutMs, 1);
    requireInt('kvRetryDelayMs', kvRetryDelayMs, 0);

    this.#keyer = new TokenKeyer(opts.pepper);
    this.#kv = new KvTier(opts.kv, opts.log);
    this.#l1 = new Lru(opts.l1MaxEntries);
    // Kept even when L1 is off: a grant revoked here must take effect here at once.
    this.#epochs = new Lru(Math.max(1024, opts.l1MaxEntries));
    this.#policy = {
      positiveTtlS: opts.positiveTtlS,
      negativeTtlS: opts.negativeTtlS,
      staleIfErrorS: opts.staleIfErrorS,
    };
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#negativeAllowed = opts.negativeCachingAllowed ?? (() => true);
    this.#coalesceTimeoutMs = coalesceTimeoutMs;
    this.#kvRetryDelayMs = kvRetryDelayMs;
    this.#epochRetentionMs = epochRetentionS(this.#policy) * 1000;
  }

  /**
   * Answer a token check from L1, KV or `load`, storing what may be stored. The L1 hit path is
   * one HMAC, one map lookup and a freshness check.
   */
  async check(
    app: CacheApp,
    token: string,
    load: () => Promise<LoadResult>,
    opts: CheckOptions = {},
  ): Promise<CheckOutcome> {
    const hash = await this.#keyer.hash(app.clientId, token);
    const key = tokenKey(hash);
    if (opts.bypassL1 !== true) {
      const entry = this.#l1.get(key);
      if (entry !== undefined) {
        const now = this.#clock.now();
        if (now < entry.freshUntilMs && this.#usableBeyondTime(app, entry, now)) {
          this.#counters.l1Hits++;
          const ttl = remainingFreshnessS(entry.freshUntilMs, now);
          return {
            result: entry.result,
            cacheStatus: entry.result.active
              ? `${CACHE_NAME}; hit; ttl=${ttl}; detail=l1`
              : INACTIVE_L1_HIT,
            freshForS: ttl,
            tokenId: tokenIdOf(hash),
            source: 'l1',
          };
        }
      }
    }
    return this.#miss(app, key, hash, token, load, opts);
  }

  /**
   * The token was revoked through the gateway (deleted, or replaced by a reset): answer
   * "inactive" from now on without asking GHES. Drops the L1 entry, writes a `revoked`
   * tombstone to L1 and KV, and stops a load already running for it from storing or serving a
   * positive answer. Call it after GHES confirmed the revocation. Never throws on KV trouble.
   */
  async invalidateToken(app: CacheApp, token: string): Promise<void> {
    const hash = await this.#keyer.hash(app.clientId, token);
    const key = tokenKey(hash);
    const tokenId = tokenIdOf(hash);
    const flight = this.#inflight.get(key);
    if (flight !== undefined) {
      flight.revoked = true;
      this.#inflight.delete(key);
    }
    const now = this.#clock.now();
    const tombstone = makeRevokedEntry(now, this.#policy);
    this.#l1.delete(key);
    this.#l1.set(key, tombstone);
    let replicated = !this.#kv.enabled;
    if (this.#kv.enabled) {
      // A positive answer still being written must not land after the tombstone. Bounded: the
      // write may belong to a request that workerd has since cancelled.
      const pending = this.#pendingWrites.get(key);
      if (pending !== undefined)
        await settleWithin(this.#clock, pending, this.#coalesceTimeoutMs, TIMED_OUT);
      const ttl = kvExpirationTtlS(now, retainUntilMs(tombstone));
      replicated = await this.#withRetry(() => this.#kv.writeEntry(key, tombstone, ttl, tokenId));
    }
    this.#log({
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
  async invalidateGrant(app: CacheApp, userId: number): Promise<void> {
    if (!Number.isSafeInteger(userId) || userId < 0)
      throw new RangeError('userId must be a non-negative integer');
    const epochMs = Math.max(this.#clock.now(), this.#stampFloorMs);
    this.#stampFloorMs = epochMs + 1;
    const scope = grantScope(app.clientId, userId);
    this.#rememberEpoch(scope, epochMs);
    const evicted = this.#l1.deleteWhere((e) => e.kind === 'positive' && e.scope === scope);
    let replicated = !this.#kv.enabled;
    if (this.#kv.enabled) {
      const ttl = epochRetentionS(this.#policy);
      replicated = await this.#withRetry(() =>
        this.#kv.writeEpoch(app.clientId, userId, epochMs, ttl),
      );
    }
    this.#log({
      level: replicated ? 'info' : 'error',
      event: replicated ? 'cache.grant_invalidated' : 'cache.invalidation_not_replicated',
      app: app.name,
      user_id: userId,
      l1_evicted: evicted,
    });
  }

  /** The audit-log handle of a token, without touching the cache. */
  async tokenId(app: CacheApp, token: string): Promise<string> {
    return tokenIdOf(await this.#keyer.hash(app.clientId, token));
  }

  stats(): TokenCacheStats {
    return {
      l1Size: this.#l1.size,
      l1MaxEntries: this.#l1.maxEntries,
      inflight: this.#inflight.size,
      grantEpochs: this.#epochs.size,
      ...this.#counters,
      kvErrors: this.#kv.errors,
    };
  }

  /** Whether a definitive 404 for this app would be stored here (`stored` in Cache-Status). */
  #storesNegatives(app: CacheApp, useL1: boolean): boolean {
    return this.#negativeAllowed(app) && ((useL1 && this.#l1.enabled) || this.#kv.enabled);
  }

  /** Beyond freshness: not invalidated by a grant revocation known here; negatives allowed. */
  #usableBeyondTime(app: CacheApp, entry: CacheEntry, now: number): boolean {
    if (entry.kind === 'positive') {
      if (entry.scope === null || this.#epochs.size === 0) return true;
      return !invalidatedByEpoch(entry.storedAtMs, this.#epochFor(entry.scope, now));
    }
    return entry.kind === 'revoked' || this.#negativeAllowed(app);
  }

  #epochFor(scope: string, now: number): number | undefined {
    const epochMs = this.#epochs.peek(scope);
    if (epochMs === undefined) return undefined;
    if (now > epochMs + this.#epochRetentionMs) {
      this.#epochs.delete(scope);
      return undefined;
    }
    return epochMs;
  }

  #rememberEpoch(scope: string, epochMs: number): void {
    const known = this.#epochs.peek(scope);
    this.#epochs.set(scope, known === undefined ? epochMs : Math.max(known, epochMs));
  }

  #stamp(): number {
    return Math.max(this.#clock.now(), this.#stampFloorMs);
  }

  async #miss(
    app: CacheApp,
    key: string,
    hash: string,
    token: string,
    load: () => Promise<LoadResult>,
    opts: CheckOptions,
  ): Promise<CheckOutcome> {
    const running = this.#inflight.get(key);
    if (running !== undefined) {
      this.#counters.coalesced++;
      const settled = await settleWithin(
        this.#clock,
        running.promise,
        this.#coalesceTimeoutMs,
        TIMED_OUT,
      );
      if (settled !== TIMED_OUT) return this.#outcome(settled, hash, true);
      this.#log({ level: 'warn', event: 'cache.coalesce_timeout', token_id: tokenIdOf(hash) });
      if (this.#inflight.get(key) === running) this.#inflight.delete(key);
      return this.#miss(app, key, hash, token, load, opts);
    }
    const flight = { revoked: false } as Flight;
    flight.promise = this.#lead(app, key, hash, token, load, opts, flight).finally(() => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    });
    this.#inflight.set(key, flight);
    opts.waitUntil?.(flight.promise.catch(() => undefined));
    return this.#outcome(await flight.promise, hash, false);
  }

  #outcome(r: FlightResult, hash: string, collapsed: boolean): CheckOutcome {
    const now = this.#clock.now();
    // Inactive answers look alike whatever made them inactive (cache-status.ts).
    const params: CacheStatusParams = r.result.active
      ? { ...r.params }
      : inactiveCacheStatus(r.params);
    if (r.statusTtlFromMs !== undefined && r.result.active)
      params.ttl = cacheStatusTtl(r.statusTtlFromMs, now);
    // RFC 9211 §2.6: `collapsed` describes a forward request; a shared KV read is not one.
    if (collapsed && params.fwd !== undefined) params.collapsed = true;
    return {
      result: r.result,
      cacheStatus: formatCacheStatus(params),
      freshForS: r.freshUntilMs === undefined ? 0 : remainingFreshnessS(r.freshUntilMs, now),
      tokenId: tokenIdOf(hash),
      source: collapsed ? 'coalesced' : r.source,
    };
  }

  /** One load for everyone who misses this key meanwhile: KV first, then GHES. */
  async #lead(
    app: CacheApp,
    key: string,
    hash: string,
    token: string,
    load: () => Promise<LoadResult>,
    opts: CheckOptions,
    flight: Flight,
  ): Promise<FlightResult> {
    const tokenId = tokenIdOf(hash);
    const useL1 = opts.bypassL1 !== true;
    const l1Entry = useL1 ? this.#l1.peek(key) : undefined;

    const read = await this.#kv.readEntry(
      key,
      app.clientId,
      tokenId,
      this.#policy,
      this.#clock.now(),
    );
    if (flight.revoked) return revokedMeanwhile(undefined, 'kv', this.#storesNegatives(app, useL1));

    // RFC 9211 `fwd`: "stale" when the only entries found had run out of time, "miss" when one
    // was unusable for another reason, "uri-miss" when there was none.
    let unusable = read.status === 'corrupt' || read.status === 'error';
    let expired = false;
    if (l1Entry !== undefined) {
      if (isFresh(l1Entry, this.#clock.now())) unusable = true;
      else expired = true;
    }
    const kvEntry = read.status === 'hit' ? read.entry : undefined;
    if (kvEntry !== undefined) {
      const now = this.#clock.now();
      if (!isFresh(kvEntry, now)) expired = true;
      else if (kvEntry.kind === 'negative' && !this.#negativeAllowed(app)) unusable = true;
      else {
        const verdict = await this.#grantVerdict(app, kvEntry, now);
        if (flight.revoked)
          return revokedMeanwhile(undefined, 'kv', this.#storesNegatives(app, useL1));
        if (verdict === 'ok') {
          if (useL1) this.#l1.set(key, kvEntry);
          this.#counters.kvHits++;
          return {
            result: kvEntry.result,
            freshUntilMs: kvEntry.freshUntilMs,
            statusTtlFromMs: kvEntry.freshUntilMs,
            params: { hit: true, detail: 'kv' },
            source: 'kv',
          };
        }
        unusable = true;
      }
    }
    const fwd: ForwardReason = unusable ? 'miss' : expired ? 'stale' : 'uri-miss';
    // The newest thing known about this token decides whether stale-if-error may use it: a
    // stale positive in L1 must not win over a newer negative or tombstone in KV.
    const candidate =
      l1Entry !== undefined && kvEntry !== undefined
        ? l1Entry.storedAtMs >= kvEntry.storedAtMs
          ? l1Entry
          : kvEntry
        : (l1Entry ?? kvEntry);

    const startedAtMs = this.#stamp();
    this.#counters.loads++;
    let loaded: LoadResult;
    try {
      loaded = await load();
    } catch (err) {
      const stale = await this.#staleIfError(app, candidate, err, flight, tokenId);
      if (stale !== undefined) return stale;
      throw err;
    }
    if (flight.revoked)
      return revokedMeanwhile(
        fwd,
        'ghes',
        this.#storesNegatives(app, useL1),
        loaded.found ? 200 : 404,
      );
    const now = this.#clock.now();

    if (!loaded.found) {
      if (!this.#negativeAllowed(app)) {
        return {
          result: INACTIVE,
          freshUntilMs: undefined,
          statusTtlFromMs: undefined,
          params: { fwd, fwdStatus: 404 },
          source: 'ghes',
        };
      }
      const entry = makeNegativeEntry(startedAtMs, now, this.#policy);
      const stored = await this.#store(key, entry, now, useL1, tokenId, token, opts);
      return {
        result: INACTIVE,
        freshUntilMs: entry.freshUntilMs,
        statusTtlFromMs: entry.freshUntilMs,
        params: { fwd, fwdStatus: 404, stored },
        source: 'ghes',
      };
    }

    const entry = makePositiveEntry(
      loaded.authorization,
      app.clientId,
      startedAtMs,
      now,
      this.#policy,
    );
    if (entry.scope !== null && invalidatedByEpoch(startedAtMs, this.#epochFor(entry.scope, now))) {
      // The grant was revoked here while GHES was answering: the answer is already out of date.
      return revokedMeanwhile(fwd, 'ghes', this.#storesNegatives(app, useL1), 200);
    }
    if (!isFresh(entry, now)) {
      // GHES said yes, but `expires_at` is already past (or unreadable): pass it on, keep nothing.
      return {
        result: entry.result,
        freshUntilMs: undefined,
        statusTtlFromMs: undefined,
        params: { fwd, fwdStatus: 200 },
        source: 'ghes',
      };
    }
    const stored = await this.#store(key, entry, now, useL1, tokenId, token, opts);
    if (flight.revoked)
      return revokedMeanwhile(fwd, 'ghes', this.#storesNegatives(app, useL1), 200);
    return {
      result: entry.result,
      freshUntilMs: entry.freshUntilMs,
      statusTtlFromMs: entry.freshUntilMs,
      params: { fwd, fwdStatus: 200, stored },
      source: 'ghes',
    };
  }

  /**
   * Is a positive entry still good with respect to grant revocations? Checks the epoch known in
   * this isolate, then the one in KV (one extra KV read, only on KV hits and stale-if-error). If
   * the KV epoch cannot be read the entry is not trusted.
   */
  async #grantVerdict(app: CacheApp, entry: CacheEntry, now: number): Promise<GrantVerdict> {
    if (entry.kind !== 'positive' || entry.scope === null || entry.userId === null) return 'ok';
    if (invalidatedByEpoch(entry.storedAtMs, this.#epochFor(entry.scope, now)))
      return 'invalidated';
    if (!this.#kv.enabled) return 'ok';
    const read = await this.#kv.readEpoch(app.clientId, entry.userId);
    if (read.status === 'error') return 'error';
    if (read.epochMs === undefined) return 'ok';
    this.#rememberEpoch(entry.scope, read.epochMs);
    return invalidatedByEpoch(entry.storedAtMs, read.epochMs) ? 'invalidated' : 'ok';
  }

  async #staleIfError(
    app: CacheApp,
    candidate: CacheEntry | undefined,
    err: unknown,
    flight: Flight,
    tokenId: string,
  ): Promise<FlightResult | undefined> {
    const now = this.#clock.now();
    if (flight.revoked || !staleIfErrorAllowed(candidate, now, this.#policy, err)) return undefined;
    const entry: PositiveEntry = candidate;
    const verdict = await this.#grantVerdict(app, entry, now);
    if (verdict !== 'ok' || flight.revoked) return undefined;
    this.#counters.staleServed++;
    const upstream = err as GatewayError;
    this.#log({
      level: 'warn',
      event: 'cache.stale_served',
      app: app.name,
      token_id: tokenId,
      code: upstream.code,
      stale_for_s: Math.max(0, Math.ceil((now - entry.freshUntilMs) / 1000)),
    });
    const params: CacheStatusParams = { fwd: 'stale', detail: 'stale-if-error' };
    if (upstream.upstreamStatus !== undefined) params.fwdStatus = upstream.upstreamStatus;
    return {
      result: entry.result,
      freshUntilMs: undefined,
      statusTtlFromMs: entry.freshUntilMs,
      params,
      source: 'stale',
    };
  }

  /** Store in L1 (unless bypassed) and KV. Returns whether any tier took it. */
  async #store(
    key: string,
    entry: CacheEntry,
    now: number,
    useL1: boolean,
    tokenId: string,
    token: string,
    opts: CheckOptions,
  ): Promise<boolean> {
    // Last line of defence for the rule that no token reaches storage: a loader that put the
    // raw token anywhere in the answer (a bug) gets nothing cached.
    if (
      entry.kind === 'positive' &&
      token.length >= 16 &&
      JSON.stringify(entry.result.authorization).includes(token)
    ) {
      this.#log({ level: 'error', event: 'cache.secret_in_value', token_id: tokenId });
      return false;
    }
    let stored = false;
    if (useL1 && this.#l1.enabled) {
      this.#l1.set(key, entry);
      stored = true;
    }
    if (!this.#kv.enabled) return stored;
    const ttl = kvExpirationTtlS(now, retainUntilMs(entry));
    const write = this.#kv.writeEntry(key, entry, ttl, tokenId).finally(() => {
      if (this.#pendingWrites.get(key) === write) this.#pendingWrites.delete(key);
    });
    this.#pendingWrites.set(key, write);
    if (opts.waitUntil !== undefined) {
      opts.waitUntil(write);
      return true;
    }
    return (await write) || stored;
  }

  /** One retry for invalidation writes: KV answers 429 to a second write to a key within a second. */
  async #withRetry(write: () => Promise<boolean>): Promise<boolean> {
    if (await write()) return true;
    await this.#clock.sleep(this.#kvRetryDelayMs);
    return write();
  }
}

/**
 * `stored`: what a GHES 404 for an unknown token would say here, so that the Cache-Status of this
 * answer cannot tell the two apart (a tombstone was in fact stored by the invalidation).
 */
function revokedMeanwhile(
  fwd: ForwardReason | undefined,
  source: 'kv' | 'ghes',
  stored: boolean,
  fwdStatus?: number,
): FlightResult {
  const params: CacheStatusParams = { detail: 'revoked', stored };
  if (fwd !== undefined) params.fwd = fwd;
  if (fwdStatus !== undefined) params.fwdStatus = fwdStatus;
  return { result: INACTIVE, freshUntilMs: undefined, statusTtlFromMs: undefined, params, source };
}
