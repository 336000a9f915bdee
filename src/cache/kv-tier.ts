/**
 * The Workers KV tier (L2). Every KV failure is contained here: a get that throws is reported as
 * `error`, a put that throws (including KV's 429 for more than one write per second to a key)
 * returns false, and both are logged as `cache.kv_error`. Nothing here throws, so KV trouble
 * never fails a request; the caller falls through to GHES.
 *
 * Logs carry the operation and the token id (a prefix of the keyed hash), never a value or a
 * token. KV's own error text is kept (truncated): it names a status and at most the key, and
 * keys hold only keyed hashes.
 */
import type { Logger } from '../lib/log';
import type { FreshnessPolicy } from './policy';
import { entryFromValue, storedValueProblem } from './policy';
import { decodeValue, encodeValue, type CacheEntry } from './entry';
import { epochKey } from './keys';

export type KvRead =
  | { status: 'hit'; entry: CacheEntry }
  | { status: 'absent' }
  | { status: 'corrupt' }
  | { status: 'error' };

export type EpochRead = { status: 'ok'; epochMs: number | undefined } | { status: 'error' };

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

  async readEntry(
    key: string,
    clientId: string,
    tokenId: string,
    policy: FreshnessPolicy,
    nowMs: number,
  ): Promise<KvRead> {
    const kv = this.#kv;
    if (kv === undefined) return { status: 'absent' };
    let text: string | null;
    try {
      text = await kv.get(key, 'text');
    } catch (err) {
      this.#failed('get', err, tokenId);
      return { status: 'error' };
    }
    if (text === null) return { status: 'absent' };
    const decoded = decodeValue(text);
    const problem = decoded.ok ? storedValueProblem(decoded.value, nowMs) : decoded.reason;
    if (!decoded.ok || problem !== undefined) {
      this.#log({ level: 'warn', event: 'cache.kv_corrupt', token_id: tokenId, reason: problem });
      return { status: 'corrupt' };
    }
    return { status: 'hit', entry: entryFromValue(decoded.value, clientId, policy) };
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
    } catch (err) {
      this.#failed('put', err, tokenId);
      return false;
    }
  }

  async readEpoch(clientId: string, userId: number): Promise<EpochRead> {
    const kv = this.#kv;
    if (kv === undefined) return { status: 'ok', epochMs: undefined };
    let text: string | null;
    try {
      text = await kv.get(epochKey(clientId, userId), 'text');
    } catch (err) {
      this.#failed('get_epoch', err);
      return { status: 'error' };
    }
    if (text === null) return { status: 'ok', epochMs: undefined };
    if (!EPOCH_VALUE.test(text)) {
      // An unreadable epoch cannot prove an entry is still good: treat it as an error, which
      // makes the caller re-check GHES instead of trusting the entry.
      this.#log({ level: 'warn', event: 'cache.kv_corrupt', key_kind: 'epoch' });
      return { status: 'error' };
    }
    return { status: 'ok', epochMs: Number(text) };
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
    } catch (err) {
      this.#failed('put_epoch', err);
      return false;
    }
  }

  #failed(op: Op, err: unknown, tokenId?: string): void {
    this.#errors++;
    const message = err instanceof Error ? err.message : String(err);
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
