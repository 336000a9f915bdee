/**
 * A Workers KV wrapper for tests that refuses what production KV refuses, so that TTL and key
 * bugs fail in tests instead of in production (after workers-oauth-provider's test KV):
 * - `expirationTtl` under 60 s, or not an integer;
 * - keys over 512 bytes, empty, `.` or `..`;
 * - values over 25 MiB;
 * - bulk gets of no key or more than 100 keys.
 *
 * It can also fail on purpose (throwing gets, throwing puts, KV's 429 for writes) and records
 * what was written. Each instance stores under its own random prefix in the real namespace it
 * wraps (usually `env.TOKEN_CACHE`), so tests and simulated isolates do not see each other's
 * data unless they share an instance.
 *
 * Only the methods the gateway uses are implemented; calling another one fails loudly.
 */
const MAX_KEY_BYTES = 512;
const MAX_VALUE_BYTES = 25 * 1024 * 1024;
const MIN_TTL_S = 60;
/** Workers KV's bulk get takes at most 100 keys. */
const MAX_BULK_KEYS = 100;

const encoder = new TextEncoder();

export interface RecordedPut {
  key: string;
  value: string;
  expirationTtl: number | undefined;
}

export class StrictKv {
  readonly #inner: KVNamespace;
  readonly #prefix: string;
  /** Every accepted put, in order. */
  readonly puts: RecordedPut[] = [];
  /** Every get, in order (keys without the prefix). */
  readonly gets: string[] = [];
  /** Make every get throw, like a KV outage. */
  failGets = false;
  /** Make gets of keys starting with this throw. */
  failGetsMatching: string | undefined;
  /** Make every put throw with a 500. */
  failPuts = false;
  /** Make the next N puts throw KV's 429 "Too Many Requests". */
  rateLimitNextPuts = 0;
  /** Hold the next put until this promise settles (to order concurrent writes in a test). */
  holdNextPut: Promise<void> | undefined;
  /** Called as each put begins, before any hold. */
  onPut: ((key: string) => void) | undefined;

  constructor(inner: KVNamespace) {
    this.#inner = inner;
    this.#prefix = `test-${crypto.randomUUID()}/`;
  }

  /** This wrapper typed as a KVNamespace, for code under test. */
  get kv(): KVNamespace {
    const get = (key: string | string[], type?: unknown) =>
      Array.isArray(key) ? this.get(key, type) : this.get(key, type);
    const put = (key: string, value: string, options?: KVNamespacePutOptions) =>
      this.put(key, value, options);
    const unsupported = (name: string) => () => {
      throw new Error(`StrictKv: ${name} is not implemented; add it if the gateway needs it`);
    };
    return {
      get,
      put,
      delete: (key: string) => this.delete(key),
      list: unsupported('list'),
      getWithMetadata: unsupported('getWithMetadata'),
    } as unknown as KVNamespace;
  }

  /** One key, or a bulk get of up to 100 keys (a Map; one failing key fails it all, as in KV). */
  async get(key: string, type?: unknown): Promise<string | null>;
  async get(key: string[], type?: unknown): Promise<Map<string, string | null>>;
  async get(
    key: string | string[],
    type?: unknown,
  ): Promise<string | null | Map<string, string | null>> {
    const keys = Array.isArray(key) ? key : [key];
    if (Array.isArray(key) && (key.length === 0 || key.length > MAX_BULK_KEYS)) {
      throw new Error(`KV GET failed: 400 a bulk get takes 1 to ${MAX_BULK_KEYS} keys`);
    }
    keys.forEach(checkKey);
    if (type !== undefined && type !== 'text') {
      throw new Error(`StrictKv: get type ${JSON.stringify(type)} is not implemented`);
    }
    this.gets.push(...keys);
    const failing = this.failGetsMatching;
    if (this.failGets || (failing !== undefined && keys.some((k) => k.startsWith(failing)))) {
      throw new Error('KV GET failed: 500 Internal Server Error');
    }
    if (!Array.isArray(key)) return this.#inner.get(this.#prefix + key, 'text');
    // Through the simulator's own bulk get, so that the tests exercise it.
    const values = await this.#inner.get(
      key.map((k) => this.#prefix + k),
      'text',
    );
    return new Map(key.map((k) => [k, values.get(this.#prefix + k) ?? null]));
  }

  async put(key: string, value: string, options?: KVNamespacePutOptions): Promise<void> {
    checkKey(key);
    if (typeof value !== 'string') throw new Error('StrictKv: only string values are implemented');
    if (encoder.encode(value).byteLength > MAX_VALUE_BYTES) {
      throw new Error('KV PUT failed: 413 Value length exceeds limit');
    }
    const ttl = options?.expirationTtl;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < MIN_TTL_S)) {
      throw new Error(
        `KV PUT failed: 400 Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least ${MIN_TTL_S}.`,
      );
    }
    if (options?.expiration !== undefined) {
      throw new Error(
        'StrictKv: absolute expiration is not implemented (the cache uses expirationTtl)',
      );
    }
    if (this.failPuts) throw new Error('KV PUT failed: 500 Internal Server Error');
    if (this.rateLimitNextPuts > 0) {
      this.rateLimitNextPuts--;
      throw new Error('KV PUT failed: 429 Too Many Requests');
    }
    this.onPut?.(key);
    const hold = this.holdNextPut;
    this.holdNextPut = undefined;
    if (hold !== undefined) await hold;
    this.puts.push({ key, value, expirationTtl: ttl });
    await this.#inner.put(
      this.#prefix + key,
      value,
      ttl === undefined ? {} : { expirationTtl: ttl },
    );
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.#inner.delete(this.#prefix + key);
  }

  /** Write a raw value, bypassing every check (to plant corrupt data). */
  async plant(key: string, value: string): Promise<void> {
    await this.#inner.put(this.#prefix + key, value, { expirationTtl: MIN_TTL_S });
  }

  /** Everything this instance holds in the real namespace, read back from it (not from `puts`). */
  async dump(): Promise<{ key: string; value: string }[]> {
    const out: { key: string; value: string }[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.#inner.list(
        cursor === undefined ? { prefix: this.#prefix } : { prefix: this.#prefix, cursor },
      );
      for (const { name } of page.keys) {
        const value = await this.#inner.get(name, 'text');
        if (value !== null) out.push({ key: name.slice(this.#prefix.length), value });
      }
      if (page.list_complete) break;
      cursor = page.cursor;
    }
    return out;
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '' || key === '.' || key === '..') {
    throw new Error('KV: 400 Invalid key name');
  }
  if (encoder.encode(key).byteLength > MAX_KEY_BYTES) {
    throw new Error(`KV: 414 Key length exceeds the ${MAX_KEY_BYTES}-byte limit`);
  }
}
