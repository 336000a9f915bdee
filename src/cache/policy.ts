/**
 * Freshness and lifetime rules of the token cache, and its tier decisions (which entry may
 * answer, why a check goes on to GHES, what to do with GHES's answer). Pure: every function takes
 * `nowMs` (epoch milliseconds) and does no I/O, so the rules are tested with a fixed clock.
 *
 * Workers KV refuses an `expirationTtl` under 60 s, so KV's own expiry is only a garbage
 * collector: a value may sit in KV longer than it may be used, and its `fresh_until` decides.
 */
import type { PublicAuthorization } from '../ghes/types';
import { isGatewayError, type ErrorCode } from '../lib/errors';
import type { Result } from '../lib/result';
import type { ForwardReason } from './cache-status';
import { grantScope } from './keys';
import {
  INACTIVE,
  positiveResult,
  withoutSecrets,
  type CacheEntry,
  type NegativeEntry,
  type PositiveEntry,
} from './entry';

export interface FreshnessPolicy {
  /** How long a GHES 200 answer is served without asking again. */
  positiveTtlS: number;
  /** How long a definitive GHES 404 answer is served without asking again. */
  negativeTtlS: number;
  /** How long past freshness a positive answer may be served while GHES fails. 0 = off. */
  staleIfErrorS: number;
}

/** Workers KV's minimum `expirationTtl`. */
export const KV_MIN_TTL_S = 60;

/**
 * Margin added to lifetimes that must outlast entries written elsewhere: covers KV's ~60 s
 * propagation, a GHES call that is slow to come back (GHES_DEADLINE_MS is at most 120 s) and
 * clock differences between Cloudflare machines.
 */
export const CROSS_ISOLATE_SLACK_S = 180;

const MS = 1000;

/**
 * `expires_at` in epoch ms; `null` when the token does not expire; `NaN` when GHES sent
 * something unparseable (treated as "do not cache": we cannot prove the cap holds).
 */
export function expiresAtMs(auth: PublicAuthorization): number | null {
  const at = auth.expires_at;
  if (at === undefined || at === null) return null;
  return Date.parse(at);
}

/**
 * A positive answer is fresh for `positiveTtlS` from when it arrived and never past the token's
 * own `expires_at`. Stale-if-error, when on, extends only `staleUntilMs`, and never past
 * `expires_at` either.
 */
export function positiveLifetimes(
  nowMs: number,
  policy: FreshnessPolicy,
  expiresMs: number | null,
): { freshUntilMs: number; staleUntilMs: number } {
  return capLifetimes(nowMs + policy.positiveTtlS * MS, policy.staleIfErrorS, expiresMs, nowMs);
}

/** Apply the `expires_at` cap to a fresh-until time and derive the stale-if-error end. */
export function capLifetimes(
  freshUntilMs: number,
  staleIfErrorS: number,
  expiresMs: number | null,
  floorMs: number,
): { freshUntilMs: number; staleUntilMs: number } {
  // Unparseable expiry: usable for no time at all.
  if (Number.isNaN(expiresMs)) return { freshUntilMs: floorMs, staleUntilMs: floorMs };
  const cap = expiresMs ?? Number.POSITIVE_INFINITY;
  const fresh = Math.min(freshUntilMs, cap);
  return { freshUntilMs: fresh, staleUntilMs: Math.min(fresh + staleIfErrorS * MS, cap) };
}

/**
 * How long a revocation tombstone answers "inactive" without asking GHES. It must outlive every
 * positive copy that other isolates may still hold in memory (fresh time plus stale-if-error
 * window) plus KV propagation; otherwise an isolate whose stale copy survived the tombstone
 * could serve it on a GHES error.
 */
export function revokedLifetimeS(policy: FreshnessPolicy): number {
  return (
    Math.max(policy.negativeTtlS, policy.positiveTtlS + policy.staleIfErrorS) +
    CROSS_ISOLATE_SLACK_S
  );
}

/**
 * How long a grant epoch is kept: as long as any positive entry stored before it could still be
 * used, fresh or stale, anywhere.
 */
export function epochRetentionS(policy: FreshnessPolicy): number {
  return Math.max(KV_MIN_TTL_S, policy.positiveTtlS + policy.staleIfErrorS + CROSS_ISOLATE_SLACK_S);
}

/** `expirationTtl` for a KV put: until `retainUntilMs`, rounded up, never under KV's 60 s. */
export function kvExpirationTtlS(nowMs: number, retainUntilMs: number): number {
  return Math.max(KV_MIN_TTL_S, Math.ceil((retainUntilMs - nowMs) / MS));
}

/**
 * Whole seconds of freshness left, rounded down so that a downstream `max-age` built from it
 * never outlives the entry. 0 once stale.
 */
export function remainingFreshnessS(freshUntilMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((freshUntilMs - nowMs) / MS));
}

/** RFC 9211 `ttl`: remaining freshness in whole seconds, negative once stale. */
export function cacheStatusTtl(freshUntilMs: number, nowMs: number): number {
  return Math.floor((freshUntilMs - nowMs) / MS);
}

export function isFresh(entry: CacheEntry, nowMs: number): boolean {
  return nowMs < entry.freshUntilMs;
}

/** A positive entry asked for no later than the grant's revocation is not trusted. */
export function invalidatedByEpoch(storedAtMs: number, epochMs: number | undefined): boolean {
  return epochMs !== undefined && storedAtMs <= epochMs;
}

/**
 * May this entry answer? Fresh; if positive, asked for after `epochMs` (the grant revocation known
 * here); if negative, only where the app allows negatives (tombstones always answer).
 */
export function servable(
  entry: CacheEntry,
  nowMs: number,
  negativeAllowed: boolean,
  epochMs: number | undefined,
): boolean {
  if (!isFresh(entry, nowMs)) return false;
  if (entry.kind === 'positive') return !invalidatedByEpoch(entry.storedAtMs, epochMs);
  return entry.kind === 'revoked' || negativeAllowed;
}

/**
 * Has a revocation overtaken this entry? A fresh tombstone answers for its token whatever else is
 * stored; an expired one still undoes a positive answer asked for no later than it (the load
 * began before the revocation, so GHES's 200 may predate it).
 */
export function revokedBy(
  entry: CacheEntry,
  tombstone: CacheEntry | undefined,
  nowMs: number,
): boolean {
  if (tombstone === undefined || tombstone.kind !== 'revoked') return false;
  if (isFresh(tombstone, nowMs)) return true;
  return entry.kind === 'positive' && entry.storedAtMs <= tombstone.storedAtMs;
}

export interface MissDecision {
  /** RFC 9211 `fwd`: `stale` if all entries found had expired, `miss` if one was unusable. */
  fwd: ForwardReason;
  /** For stale-if-error: the newest entry, so a stale L1 positive never beats a newer KV tombstone. */
  fallback: CacheEntry | undefined;
}

/** Neither tier answered (a fresh entry found was unusable, or KV failed): go on to GHES. */
export function missDecision(
  l1: CacheEntry | undefined,
  kv: Result<CacheEntry | undefined, unknown>,
  nowMs: number,
): MissDecision {
  const fromKv = kv.ok ? kv.value : undefined;
  let unusable = !kv.ok;
  let expired = false;
  for (const entry of [l1, fromKv]) {
    if (entry === undefined) continue;
    if (isFresh(entry, nowMs)) unusable = true;
    else expired = true;
  }
  const fwd: ForwardReason = unusable ? 'miss' : expired ? 'stale' : 'uri-miss';
  if (l1 === undefined || fromKv === undefined) return { fwd, fallback: l1 ?? fromKv };
  return { fwd, fallback: l1.storedAtMs >= fromKv.storedAtMs ? l1 : fromKv };
}

/**
 * GHES's answer as an entry: store it; pass it on unkept (a negative the app may not cache, an
 * `expires_at` already past); or answer as revoked (a grant revocation here overtook the load).
 */
export function loadedDecision(
  entry: CacheEntry,
  nowMs: number,
  negativeAllowed: boolean,
  epochMs: number | undefined,
): 'store' | 'pass' | 'revoked' {
  if (entry.kind !== 'positive') return negativeAllowed ? 'store' : 'pass';
  if (invalidatedByEpoch(entry.storedAtMs, epochMs)) return 'revoked';
  return isFresh(entry, nowMs) ? 'store' : 'pass';
}

/**
 * Upstream failures that stale-if-error may paper over (RFC 5861 §4 limits it to errors; we
 * narrow it further to GHES being down or slow). Never 429 (GHES told us to back off, not that it
 * is broken), never rejected credentials (our configuration is wrong, and serving old answers
 * would hide it), never a definitive answer.
 */
export const STALE_IF_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'upstream-error',
  'upstream-timeout',
  'upstream-unavailable',
]);

export function isStaleableError(err: unknown): boolean {
  return isGatewayError(err) && STALE_IF_ERROR_CODES.has(err.code);
}

/** May this entry be served, stale, because GHES just failed with `err`? */
export function staleIfErrorAllowed(
  entry: CacheEntry | undefined,
  nowMs: number,
  policy: FreshnessPolicy,
  err: unknown,
): entry is PositiveEntry {
  return (
    policy.staleIfErrorS > 0 &&
    entry !== undefined &&
    entry.kind === 'positive' &&
    nowMs < entry.staleUntilMs &&
    isStaleableError(err)
  );
}

export function makePositiveEntry(
  auth: PublicAuthorization,
  clientId: string,
  storedAtMs: number,
  nowMs: number,
  policy: FreshnessPolicy,
): PositiveEntry {
  const safe = withoutSecrets(auth);
  const userId = typeof safe.user?.id === 'number' ? safe.user.id : null;
  return {
    kind: 'positive',
    userId,
    scope: userId === null ? null : grantScope(clientId, userId),
    result: positiveResult(safe),
    storedAtMs,
    ...positiveLifetimes(nowMs, policy, expiresAtMs(safe)),
  };
}

export function makeNegativeEntry(
  storedAtMs: number,
  nowMs: number,
  policy: FreshnessPolicy,
): NegativeEntry {
  const freshUntilMs = nowMs + policy.negativeTtlS * MS;
  return {
    kind: 'negative',
    result: INACTIVE,
    storedAtMs,
    freshUntilMs,
    staleUntilMs: freshUntilMs,
  };
}

export function makeRevokedEntry(nowMs: number, policy: FreshnessPolicy): NegativeEntry {
  const freshUntilMs = nowMs + revokedLifetimeS(policy) * MS;
  return {
    kind: 'revoked',
    result: INACTIVE,
    storedAtMs: nowMs,
    freshUntilMs,
    staleUntilMs: freshUntilMs,
  };
}

/** Until when KV should keep the entry: the end of its usable life, fresh or stale. */
export function retainUntilMs(entry: CacheEntry): number {
  return Math.max(entry.freshUntilMs, entry.staleUntilMs);
}
