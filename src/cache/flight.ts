/**
 * What one flight does: the load shared (src/lib/single-flight.ts) by every check of a token that
 * misses L1 meanwhile. KV first, then GHES; what may be stored is stored; stale-if-error when GHES
 * fails. The decisions are policy.ts's; this file does the I/O between them.
 */
import type { PublicAuthorization } from '../ghes/types';
import type { Clock } from '../lib/clock';
import type { GatewayError } from '../lib/errors';
import type { Logger } from '../lib/log';
import type { Lru } from '../lib/lru';
import type { RunState } from '../lib/single-flight';
import {
  formatCacheStatus,
  inactiveCacheStatus,
  type CacheStatusParams,
  type ForwardReason,
} from './cache-status';
import { INACTIVE, type CacheEntry, type CheckResult } from './entry';
import type { GrantEpochs } from './grant-epochs';
import type { KvTier } from './kv-tier';
import {
  cacheStatusTtl,
  invalidatedByEpoch,
  kvExpirationTtlS,
  loadedDecision,
  makeNegativeEntry,
  makePositiveEntry,
  missDecision,
  remainingFreshnessS,
  retainUntilMs,
  servable,
  staleIfErrorAllowed,
  type FreshnessPolicy,
} from './policy';

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
  /** KV writes of token entries still running, so that a tombstone is written after them. */
  pendingWrites: Map<string, Promise<boolean>>;
}

export interface FlightRequest {
  app: CacheApp;
  key: string;
  tokenId: string;
  /** Only to check that no answer holds it (`store`). */
  token: string;
  load: () => Promise<LoadResult>;
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
}

/**
 * One load. `revoked.forgotten` turns true when `invalidateToken` ran meanwhile: the answer must then be neither
 * stored nor served as active.
 */
export async function fly(
  ctx: FlightContext,
  req: FlightRequest,
  revoked: RunState,
): Promise<FlightResult> {
  const { app, key, tokenId } = req;
  const l1Entry = ctx.l1.peek(key);
  const read = await ctx.kv.readEntry(key, app.clientId, tokenId, ctx.policy, ctx.clock.now());
  if (revoked.forgotten) return revokedMeanwhile(ctx, app, undefined, 'kv');

  const now = ctx.clock.now();
  const kvEntry = read.ok ? read.value : undefined;
  if (
    kvEntry !== undefined &&
    servable(kvEntry, now, ctx.negativeAllowed(app), ctx.epochs.known(kvEntry, now))
  ) {
    const trusted = await ctx.epochs.trustedByKv(app.clientId, kvEntry);
    if (revoked.forgotten) return revokedMeanwhile(ctx, app, undefined, 'kv');
    if (trusted) {
      ctx.l1.set(key, kvEntry);
      ctx.counters.kvHits++;
      return {
        result: kvEntry.result,
        freshUntilMs: kvEntry.freshUntilMs,
        statusTtlFromMs: kvEntry.freshUntilMs,
        params: { hit: true, detail: 'kv' },
        source: 'kv',
      };
    }
  }
  const { fwd, fallback } = missDecision(l1Entry, read, now);

  const startedAtMs = ctx.epochs.stamp();
  ctx.counters.loads++;
  let loaded: LoadResult;
  try {
    loaded = await req.load();
  } catch (err) {
    const stale = await staleIfError(ctx, req, fallback, err, revoked);
    if (stale !== undefined) return stale;
    throw err;
  }
  const fwdStatus = loaded.found ? 200 : 404;
  if (revoked.forgotten) return revokedMeanwhile(ctx, app, fwd, 'ghes', fwdStatus);

  const at = ctx.clock.now();
  const entry = loaded.found
    ? makePositiveEntry(loaded.authorization, app.clientId, startedAtMs, at, ctx.policy)
    : makeNegativeEntry(startedAtMs, at, ctx.policy);
  const decision = loadedDecision(entry, at, ctx.negativeAllowed(app), ctx.epochs.known(entry, at));
  if (decision === 'revoked') return revokedMeanwhile(ctx, app, fwd, 'ghes', 200);
  if (decision === 'pass') {
    return {
      result: entry.result,
      freshUntilMs: undefined,
      statusTtlFromMs: undefined,
      params: { fwd, fwdStatus },
      source: 'ghes',
    };
  }
  const stored = await store(ctx, req, entry, at);
  if (entry.kind === 'positive' && revoked.forgotten)
    return revokedMeanwhile(ctx, app, fwd, 'ghes', 200);
  return {
    result: entry.result,
    freshUntilMs: entry.freshUntilMs,
    statusTtlFromMs: entry.freshUntilMs,
    params: { fwd, fwdStatus, stored },
    source: 'ghes',
  };
}

async function staleIfError(
  ctx: FlightContext,
  req: FlightRequest,
  fallback: CacheEntry | undefined,
  err: unknown,
  revoked: RunState,
): Promise<FlightResult | undefined> {
  const now = ctx.clock.now();
  if (revoked.forgotten || !staleIfErrorAllowed(fallback, now, ctx.policy, err)) return undefined;
  const entry = fallback;
  if (invalidatedByEpoch(entry.storedAtMs, ctx.epochs.known(entry, now))) return undefined;
  const trusted = await ctx.epochs.trustedByKv(req.app.clientId, entry);
  if (!trusted || revoked.forgotten) return undefined;
  ctx.counters.staleServed++;
  const upstream = err as GatewayError;
  ctx.log({
    level: 'warn',
    event: 'cache.stale_served',
    app: req.app.name,
    token_id: req.tokenId,
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

/** Store in L1 and KV. Returns whether any tier took it. */
async function store(
  ctx: FlightContext,
  req: FlightRequest,
  entry: CacheEntry,
  now: number,
): Promise<boolean> {
  const { key, token, tokenId } = req;
  // Last line of defence for the rule that no token reaches storage: a loader that put the
  // raw token anywhere in the answer (a bug) gets nothing cached.
  if (
    entry.kind === 'positive' &&
    token.length >= 16 &&
    JSON.stringify(entry.result.authorization).includes(token)
  ) {
    ctx.log({ level: 'error', event: 'cache.secret_in_value', token_id: tokenId });
    return false;
  }
  let stored = false;
  if (ctx.l1.enabled) {
    ctx.l1.set(key, entry);
    stored = true;
  }
  if (!ctx.kv.enabled) return stored;
  const ttl = kvExpirationTtlS(now, retainUntilMs(entry));
  const write = ctx.kv.writeEntry(key, entry, ttl, tokenId).finally(() => {
    if (ctx.pendingWrites.get(key) === write) ctx.pendingWrites.delete(key);
  });
  ctx.pendingWrites.set(key, write);
  if (req.waitUntil !== undefined) {
    req.waitUntil(write);
    return true;
  }
  return (await write) || stored;
}

/** A flight's answer as one caller gets it; `collapsed` when another request's flight made it. */
export function toOutcome(
  r: FlightResult,
  now: number,
  tokenId: string,
  collapsed: boolean,
): CheckOutcome {
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
    tokenId,
    source: collapsed ? 'coalesced' : r.source,
  };
}

/**
 * `stored`: what a GHES 404 for an unknown token would say here, so that the Cache-Status of this
 * answer cannot tell the two apart (a tombstone was in fact stored by the invalidation).
 */
function revokedMeanwhile(
  ctx: FlightContext,
  app: CacheApp,
  fwd: ForwardReason | undefined,
  source: 'kv' | 'ghes',
  fwdStatus?: number,
): FlightResult {
  const stored = ctx.negativeAllowed(app) && (ctx.l1.enabled || ctx.kv.enabled);
  const params: CacheStatusParams = { detail: 'revoked', stored };
  if (fwd !== undefined) params.fwd = fwd;
  if (fwdStatus !== undefined) params.fwdStatus = fwdStatus;
  return { result: INACTIVE, freshUntilMs: undefined, statusTtlFromMs: undefined, params, source };
}
