/**
 * The Workers KV tier (L2). Every KV failure is contained here: a get that throws is reported as
 * `err('error')`, a put that throws (including KV's 429 for more than one write per second to a key)
 * returns false, and both are logged as `cache.kv_error`. Nothing here throws, so KV trouble
 * never fails a request; the caller falls through to GHES.
 *
 * Logs carry the operation and the token id (a prefix of the keyed hash), never a value or a
 * token. KV's own error text is kept (truncated): it names a status and at most the key, and
 * keys hold only keyed hashes.
 */
import type { Logger } from '../lib/log';
import { err, ok, type Result } from '../lib/result';
import type { FreshnessPolicy } from './policy';
import { entryFromValue, storedValueProblem } from './policy';
import { decodeValue, encodeValue, type CacheEntry } from './entry';
import { epochKey } from './keys';

/** Why a KV read gave nothing usable: KV failed, or the value is unreadable. */
export type KvFailure = 'error' | 'corrupt';

type Op = 'get' | 'put' | 'get_epoch' | 'put_epoch';

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

  /** The entry under `key`, undefined when there is none. */
  async readEntry(
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
      this.#failed('get', e, tokenId);
      return err('error');
    }
    if (text === null) return ok(undefined);
    const decoded = decodeValue(text);
    const problem = decoded.ok ? storedValueProblem(decoded.value, nowMs) : decoded.error;
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
