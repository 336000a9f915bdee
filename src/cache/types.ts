/**
 * The types shared by a TokenCache and its flights (flight.ts, store.ts): what the caller passes
 * in and gets back, and the tiers a flight works on.
 */
import type { PublicAuthorization } from '../ghes/types';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import type { Lru } from '../lib/lru';
import type { CacheStatusParams } from './cache-status';
import type { CacheEntry, CheckResult } from './entry';
import type { GrantEpochs } from './grant-epochs';
import type { KvTier } from './kv-tier';
import type { FreshnessPolicy } from './policy';

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

/** A flight's answer, before it is worded for one caller (`toOutcome`). */
export interface FlightResult {
  result: CheckResult;
  /** Freshness end of the answer; undefined when the answer must not be reused. */
  freshUntilMs: number | undefined;
  /** What the RFC 9211 `ttl` is computed from; undefined omits `ttl`. */
  statusTtlFromMs: number | undefined;
  params: CacheStatusParams;
  source: 'kv' | 'ghes' | 'stale';
}

/** The tiers and rules of one TokenCache, as its flights use them. */
export interface FlightContext {
  l1: Lru<CacheEntry>;
  kv: KvTier;
  epochs: GrantEpochs;
  policy: FreshnessPolicy;
  log: Logger;
  clock: Clock;
  negativeAllowed: (app: CacheApp) => boolean;
  counters: { kvHits: number; loads: number; staleServed: number };
}

export interface FlightRequest {
  app: CacheApp;
  /** `v1:tok:…`: the answer's key in L1 and KV. */
  key: string;
  /** `v1:revoked:…`: the tombstone's key in KV. */
  revokedKey: string;
  tokenId: string;
  /** Only to check that no answer holds it (`store`). */
  token: string;
  load: () => Promise<LoadResult>;
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  /** Told how long each KV read on the answer's path took (ms), for the audit line. */
  onKvRead: ((ms: number) => void) | undefined;
}

/** Options of one `TokenCache.check`. */
export interface CheckOptions {
  /**
   * The request's `ctx.waitUntil`. When given, KV writes do not delay the answer, and a load
   * that other requests are waiting on keeps running even if this request is cancelled.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Told how long each KV read the answer waited for took (ms): the bulk read of a miss and, when
   * needed, its grant-epoch read. Writes run after the answer and are not counted.
   */
  onKvRead?: (ms: number) => void;
}

/** `TokenCache.stats()`: sizes and counters of this isolate's cache. */
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
