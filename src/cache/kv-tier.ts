/**
 * The Workers KV tier (L2). Every KV failure is contained here: a get that throws is an
 * `err('error')`, a put that throws (including KV's 429 for more than one write per second to a
 * key) returns false, and both are logged as `cache.kv_error`. Nothing here throws, so KV trouble
 * never fails a request; the caller falls through to GHES. A value read back is trusted only as
 * far as the current policy would trust one it wrote today (`entryFromValue`, at the end).
 *
 * Logs carry the operation and the token id (a prefix of the keyed hash), never a value or a
 * token. KV's own error text is kept (truncated): it names a status and at most the key, and
 * keys hold only keyed hashes.
 */
import type { Logger } from '../lib/log';
import { err, ok, type Result } from '../lib/result';
import {
  CROSS_ISOLATE_SLACK_S,
  capLifetimes,
  expiresAtMs,
  revokedLifetimeS,
  type FreshnessPolicy,
} from './policy';
import {
  INACTIVE,
  decodeValue,
  encodeValue,
  fromEpochS,
  positiveResult,
  type CacheEntry,
  type EntryKind,
  type StoredValue,
} from './entry';
import { epochKey, grantScope } from './keys';

/** Why a KV read gave nothing usable: KV failed, or the value is unreadable. */
export type KvFailure = 'error' | 'corrupt';

/** One bulk read of a token (`readToken`). */
export interface TokenRead {
  /** The answer stored under `v1:tok:` (positive or negative). */
  entry: Result<CacheEntry | undefined, KvFailure>;
  /** The revocation under `v1:revoked:` (or a legacy one under `v1:tok:`). */
  tombstone: Result<CacheEntry | undefined, KvFailure>;
  /** The grant epoch of `userId`, when it was asked for. */
  epoch?: EpochRead;
}

export interface EpochRead {
  userId: number;
  read: Result<number | undefined, KvFailure>;
}

type Op = 'get' | 'get_revoked' | 'put' | 'get_epoch' | 'put_epoch';

/** Epoch values are decimal epoch milliseconds. */
const EPOCH_VALUE = /^\d{1,16}$/;

export class KvTier {
  readonly #kv: KVNamespace | undefined;
  readonly #log: Logger;
  #errors = 0;

  constructor(kv: KVNamespace | undefined, log: Logger) {
    this.#kv = kv;
    this.#log = log;
  }

  get enabled(): boolean {
    return this.#kv !== undefined;
  }

  get errors(): number {
    return this.#errors;
  }

  /**
   * A token's entry and tombstone, and (when `epochUserId` is given) that user's grant epoch, in
   * ONE bulk get (Workers KV `get(keys[], 'text')`, up to 100 keys). A revocation written under
   * the entry key by an older gateway counts as a tombstone. A failed get fails all three.
   */
  async readToken(
    keys: { entry: string; revoked: string },
    clientId: string,
    tokenId: string,
    policy: FreshnessPolicy,
    nowMs: number,
    epochUserId?: number | null,
  ): Promise<TokenRead> {
    const kv = this.#kv;
    if (kv === undefined) return { entry: ok(undefined), tombstone: ok(undefined) };
    const epoch =
      epochUserId === undefined || epochUserId === null
        ? undefined
        : { userId: epochUserId, key: epochKey(clientId, epochUserId) };
    let values: Map<string, string | null>;
    try {
      const wanted = [keys.entry, keys.revoked, ...(epoch === undefined ? [] : [epoch.key])];
      values = await kv.get(wanted, 'text');
    } catch (e) {
      this.#failed('get', e, tokenId);
      const failed = err<KvFailure>('error');
      return {
        entry: failed,
        tombstone: failed,
        ...(epoch !== undefined && { epoch: { userId: epoch.userId, read: failed } }),
      };
    }
    const decode = (key: string, only?: EntryKind) =>
      this.#entry(values.get(key) ?? null, clientId, tokenId, policy, nowMs, only);
    let entry = decode(keys.entry);
    let tombstone = decode(keys.revoked, 'revoked');
    if (entry.ok && entry.value?.kind === 'revoked') {
      const legacy = entry.value;
      entry = ok(undefined);
      if (tombstone.ok && (tombstone.value?.storedAtMs ?? -1) < legacy.storedAtMs)
        tombstone = ok(legacy);
    }
    if (epoch === undefined) return { entry, tombstone };
    const read = this.#epoch(values.get(epoch.key) ?? null);
    return { entry, tombstone, epoch: { userId: epoch.userId, read } };
  }

  /** The token's tombstone alone (before storing a positive answer). */
  async readTombstone(
    key: string,
    clientId: string,
    tokenId: string,
    policy: FreshnessPolicy,
    nowMs: number,
  ): Promise<Result<CacheEntry | undefined, KvFailure>> {
    const kv = this.#kv;
    if (kv === undefined) return ok(undefined);
    let text: string | null;
    try {
      text = await kv.get(key, 'text');
    } catch (e) {
      this.#failed('get_revoked', e, tokenId);
      return err('error');
    }
    return this.#entry(text, clientId, tokenId, policy, nowMs, 'revoked');
  }

  /** A stored token value as an entry; `only`: the one kind allowed under that key. */
  #entry(
    text: string | null,
    clientId: string,
    tokenId: string,
    policy: FreshnessPolicy,
    nowMs: number,
    only?: EntryKind,
  ): Result<CacheEntry | undefined, KvFailure> {
    if (text === null) return ok(undefined);
    const decoded = decodeValue(text);
    let problem = decoded.ok ? storedValueProblem(decoded.value, nowMs) : decoded.error;
    if (decoded.ok && only !== undefined && decoded.value.kind !== only) problem = 'wrong kind';
    if (!decoded.ok || problem !== undefined) {
      this.#log({ level: 'warn', event: 'cache.kv_corrupt', token_id: tokenId, reason: problem });
      return err('corrupt');
    }
    return ok(entryFromValue(decoded.value, clientId, policy));
  }

  async writeEntry(
    key: string,
    entry: CacheEntry,
    expirationTtlS: number,
    tokenId: string,
  ): Promise<boolean> {
    const kv = this.#kv;
    if (kv === undefined) return false;
    try {
      await kv.put(key, encodeValue(entry), { expirationTtl: expirationTtlS });
      return true;
    } catch (e) {
      this.#failed('put', e, tokenId);
      return false;
    }
  }

  /** The grant epoch in epoch ms, undefined when none was recorded. */
  async readEpoch(
    clientId: string,
    userId: number,
  ): Promise<Result<number | undefined, KvFailure>> {
    const kv = this.#kv;
    if (kv === undefined) return ok(undefined);
    let text: string | null;
    try {
      text = await kv.get(epochKey(clientId, userId), 'text');
    } catch (e) {
      this.#failed('get_epoch', e);
      return err('error');
    }
    return this.#epoch(text);
  }

  #epoch(text: string | null): Result<number | undefined, KvFailure> {
    if (text === null) return ok(undefined);
    if (!EPOCH_VALUE.test(text)) {
      // An unreadable epoch cannot prove an entry is still good: the caller re-checks GHES.
      this.#log({ level: 'warn', event: 'cache.kv_corrupt', key_kind: 'epoch' });
      return err('corrupt');
    }
    return ok(Number(text));
  }

  async writeEpoch(
    clientId: string,
    userId: number,
    epochMs: number,
    expirationTtlS: number,
  ): Promise<boolean> {
    const kv = this.#kv;
    if (kv === undefined) return false;
    try {
      await kv.put(epochKey(clientId, userId), String(Math.trunc(epochMs)), {
        expirationTtl: expirationTtlS,
      });
      return true;
    } catch (e) {
      this.#failed('put_epoch', e);
      return false;
    }
  }

  #failed(op: Op, e: unknown, tokenId?: string): void {
    this.#errors++;
    const message = e instanceof Error ? e.message : String(e);
    this.#log({
      level: 'warn',
      event: 'cache.kv_error',
      op,
      ...(tokenId !== undefined && { token_id: tokenId }),
      // KV answers 429 to more than one write per second to the same key.
      rate_limited: /\b429\b/.test(message),
      error: message.slice(0, 200),
    });
  }
}

/**
 * The longest a value of this kind is fresh, counted from its `stored_at`, under the current
 * policy: what the gateway itself would write today.
 */
export function freshLimitS(kind: EntryKind, policy: FreshnessPolicy): number {
  if (kind === 'positive') return policy.positiveTtlS;
  if (kind === 'negative') return policy.negativeTtlS;
  return revokedLifetimeS(policy);
}

/**
 * Why a validated KV value must not be used at all, or undefined. A `stored_at` later than now
 * (beyond the clock difference allowed between machines) was not written by a gateway: it would
 * move the freshness cap below into the future and put a positive entry after every grant epoch.
 */
export function storedValueProblem(value: StoredValue, nowMs: number): string | undefined {
  if (fromEpochS(value.stored_at) > nowMs + CROSS_ISOLATE_SLACK_S * 1000)
    return 'stored_at in the future';
  return undefined;
}

/**
 * Rebuild the in-memory entry from a validated KV value under the current policy. `fresh_until`
 * is trusted only up to `stored_at` + the current lifetime of its kind: a value written under a
 * longer CACHE_POSITIVE_TTL_S / CACHE_NEGATIVE_TTL_S (or a corrupt or forged `fresh_until`) is
 * never served longer than the gateway would serve one it wrote today.
 */
export function entryFromValue(
  value: StoredValue,
  clientId: string,
  policy: FreshnessPolicy,
): CacheEntry {
  const storedAtMs = fromEpochS(value.stored_at);
  const freshUntilMs = Math.min(
    fromEpochS(value.fresh_until),
    storedAtMs + freshLimitS(value.kind, policy) * 1000,
  );
  if (value.kind !== 'positive') {
    return {
      kind: value.kind,
      result: INACTIVE,
      storedAtMs,
      freshUntilMs,
      staleUntilMs: freshUntilMs,
    };
  }
  return {
    kind: 'positive',
    userId: value.user_id,
    scope: value.user_id === null ? null : grantScope(clientId, value.user_id),
    result: positiveResult(value.auth),
    storedAtMs,
    // The expires_at cap is applied again on every read, not only on write: a value written by
    // a gateway configured with a longer TTL still never outlives its token.
    ...capLifetimes(freshUntilMs, policy.staleIfErrorS, expiresAtMs(value.auth), storedAtMs),
  };
}
