/**
 * What one flight does: the load shared (src/lib/single-flight.ts) by every check of a token that
 * misses L1 meanwhile. KV first (the entry, its tombstone and, when the user is known, the grant
 * epoch, in one bulk get), then GHES; what may be stored is stored (store.ts); stale-if-error when
 * GHES fails. The decisions are policy.ts's; this file does the I/O between them.
 */
import type { GatewayError } from '../lib/errors';
import { err, type Result } from '../lib/result';
import type { RunState } from '../lib/single-flight';
import {
  CACHE_NAME,
  INACTIVE_L1_HIT,
  formatCacheStatus,
  inactiveCacheStatus,
  type CacheStatusParams,
  type ForwardReason,
} from './cache-status';
import { INACTIVE, type CacheEntry } from './entry';
import type { TokenRead } from './kv-tier';
import {
  cacheStatusTtl,
  invalidatedByEpoch,
  isFresh,
  loadedDecision,
  makeNegativeEntry,
  makePositiveEntry,
  missDecision,
  remainingFreshnessS,
  revokedBy,
  servable,
  staleIfErrorAllowed,
} from './policy';
import { store } from './store';
import type {
  CacheApp,
  CheckOutcome,
  FlightContext,
  FlightRequest,
  FlightResult,
  LoadResult,
} from './types';

/**
 * One load. `revoked.forgotten` turns true when `invalidateToken` ran meanwhile: the answer must
 * then be neither stored nor served as active.
 */
export async function fly(
  ctx: FlightContext,
  req: FlightRequest,
  revoked: RunState,
): Promise<FlightResult> {
  const { app, key, tokenId } = req;
  const l1Entry = ctx.l1.peek(key);
  const keys = { entry: key, revoked: req.revokedKey };
  const userId = l1Entry?.kind === 'positive' ? l1Entry.userId : undefined;
  const readFrom = ctx.clock.now();
  const read = await ctx.kv.readToken(keys, app.clientId, tokenId, ctx.policy, readFrom, userId);
  const now = ctx.clock.now();
  if (ctx.kv.enabled) req.onKvRead?.(now - readFrom);
  if (revoked.forgotten) return revokedMeanwhile(ctx, app, undefined, 'kv');

  const tombstone = read.tombstone.ok ? read.tombstone.value : undefined;
  // A revocation seen anywhere answers for the token, whatever is stored beside it.
  if (tombstone !== undefined && isFresh(tombstone, now)) return kvHit(ctx, key, tombstone);
  const entryRead = kvEntryRead(read, now);
  const kvEntry = entryRead.ok ? entryRead.value : undefined;
  if (
    kvEntry !== undefined &&
    servable(kvEntry, now, ctx.negativeAllowed(app), ctx.epochs.known(kvEntry, now))
  ) {
    const epochFrom = ctx.clock.now();
    const trusted = await ctx.epochs.trustedByKv(app.clientId, kvEntry, read.epoch);
    if (ctx.kv.enabled) req.onKvRead?.(ctx.clock.now() - epochFrom);
    if (revoked.forgotten) return revokedMeanwhile(ctx, app, undefined, 'kv');
    if (trusted) return kvHit(ctx, key, kvEntry);
  }
  const miss = missDecision(l1Entry, entryRead, now);
  const { fwd } = miss;
  // Stale-if-error only where the tombstone was read and has not overtaken the fallback.
  const fallback =
    read.tombstone.ok && miss.fallback !== undefined && !revokedBy(miss.fallback, tombstone, now)
      ? miss.fallback
      : undefined;

  const startedAtMs = ctx.epochs.stamp();
  ctx.counters.loads++;
  let loaded: LoadResult;
  try {
    loaded = await req.load();
  } catch (e) {
    const stale = await staleIfError(ctx, req, fallback, e, revoked);
    if (stale !== undefined) return stale;
    throw e;
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
  if (entry.kind === 'positive' && (revoked.forgotten || stored === 'revoked'))
    return revokedMeanwhile(ctx, app, fwd, 'ghes', 200);
  return {
    result: entry.result,
    freshUntilMs: entry.freshUntilMs,
    statusTtlFromMs: entry.freshUntilMs,
    params: { fwd, fwdStatus, stored: stored === 'stored' },
    source: 'ghes',
  };
}

/**
 * The KV entry as the miss decision sees it: unusable (an error) when the tombstone could not be
 * read, or when an expired tombstone still undoes it; an expired tombstone alone counts as a stale
 * entry, as it did when tombstones were stored under the entry's key.
 */
function kvEntryRead(read: TokenRead, now: number): Result<CacheEntry | undefined, string> {
  const { entry, tombstone } = read;
  if (!tombstone.ok || !entry.ok) return tombstone.ok ? entry : tombstone;
  if (entry.value === undefined) return tombstone.value === undefined ? entry : tombstone;
  return revokedBy(entry.value, tombstone.value, now) ? err('revoked') : entry;
}

function kvHit(ctx: FlightContext, key: string, entry: CacheEntry): FlightResult {
  ctx.l1.set(key, entry);
  ctx.counters.kvHits++;
  return {
    result: entry.result,
    freshUntilMs: entry.freshUntilMs,
    statusTtlFromMs: entry.freshUntilMs,
    params: { hit: true, detail: 'kv' },
    source: 'kv',
  };
}

async function staleIfError(
  ctx: FlightContext,
  req: FlightRequest,
  fallback: CacheEntry | undefined,
  e: unknown,
  revoked: RunState,
): Promise<FlightResult | undefined> {
  const now = ctx.clock.now();
  if (revoked.forgotten || !staleIfErrorAllowed(fallback, now, ctx.policy, e)) return undefined;
  const entry = fallback;
  if (invalidatedByEpoch(entry.storedAtMs, ctx.epochs.known(entry, now))) return undefined;
  const trusted = await ctx.epochs.trustedByKv(req.app.clientId, entry);
  if (!trusted || revoked.forgotten) return undefined;
  ctx.counters.staleServed++;
  const upstream = e as GatewayError;
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

/** The answer of an entry served from this isolate's L1: no GHES call, no KV read. */
export function l1Outcome(entry: CacheEntry, now: number, tokenId: string): CheckOutcome {
  const ttl = remainingFreshnessS(entry.freshUntilMs, now);
  return {
    result: entry.result,
    cacheStatus: entry.result.active
      ? `${CACHE_NAME}; hit; ttl=${ttl}; detail=l1`
      : INACTIVE_L1_HIT,
    freshForS: ttl,
    tokenId,
    source: 'l1',
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
