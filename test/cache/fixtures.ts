/** Shared fixtures for the token-cache tests: a fixed clock, answers, loaders, a log sink. */
import { env } from 'cloudflare:test';
import type { PublicAuthorization } from '../../src/ghes/types';
import type { LogRecord, Logger } from '../../src/lib/log';
import {
  TokenCache,
  type CacheApp,
  type LoadResult,
  type TokenCacheOptions,
} from '../../src/cache/token-cache';
import { TestClock } from '../helpers/clock';
import { StrictKv } from '../helpers/strict-kv';

export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0); // 2026-01-01T00:00:00Z
export const PEPPER = 'test-pepper-0123456789abcdef0123456789abcdef';
export const APP: CacheApp = { name: 'docs', clientId: 'Iv1.0123456789abcdef' };
export const OTHER_APP: CacheApp = { name: 'ci', clientId: 'Iv1.fedcba9876543210' };

/** The virtual clock (test/helpers/clock.ts), starting at T0 by default. */
export class Clock extends TestClock {
  constructor(start = T0) {
    super(start);
  }
}

export function authFor(
  opts: { id?: number; userId?: number | null; expiresAt?: string | null; clientId?: string } = {},
): PublicAuthorization {
  const userId = opts.userId === undefined ? 42 : opts.userId;
  const auth: PublicAuthorization = {
    id: opts.id ?? 1001,
    url: 'https://ghes.example.test/api/v3/authorizations/1001',
    scopes: ['repo', 'read:org'],
    token_last_eight: 'abcd1234',
    app: {
      client_id: opts.clientId ?? APP.clientId,
      name: 'Docs',
      url: 'https://docs.example.test',
    },
    note: null,
    note_url: null,
    updated_at: '2025-12-01T00:00:00Z',
    created_at: '2025-12-01T00:00:00Z',
    fingerprint: null,
    user: userId === null ? null : { login: `user${userId}`, id: userId },
  };
  if (opts.expiresAt !== undefined) auth.expires_at = opts.expiresAt;
  return auth;
}

/** A token shaped like a GHES OAuth token. */
export function token(n: number | string): string {
  return `gho_${String(n).padStart(36, 'x')}`;
}

export interface CountingLoader {
  (): Promise<LoadResult>;
  calls: number;
}

export function loader(result: LoadResult | (() => Promise<LoadResult>)): CountingLoader {
  const fn = (async () => {
    fn.calls++;
    return typeof result === 'function' ? result() : result;
  }) as CountingLoader;
  fn.calls = 0;
  return fn;
}

export function failing(err: unknown): CountingLoader {
  return loader(() => Promise.reject(err));
}

export function found(auth = authFor()): LoadResult {
  return { found: true, authorization: auth };
}
export const NOT_FOUND: LoadResult = { found: false };

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class LogSink {
  readonly records: LogRecord[] = [];
  readonly log: Logger = (r) => {
    this.records.push(r);
  };
  events(name: string): LogRecord[] {
    return this.records.filter((r) => r.event === name);
  }
}

export interface Harness {
  cache: TokenCache;
  kv: StrictKv;
  clock: Clock;
  logs: LogSink;
}

/** A cache on a strict KV over the test namespace, with a fixed clock. */
export function harness(
  overrides: Partial<TokenCacheOptions> = {},
  shared?: { kv?: StrictKv; clock?: Clock },
): Harness {
  const kv = shared?.kv ?? new StrictKv(env.TOKEN_CACHE);
  const clock = shared?.clock ?? new Clock();
  const logs = new LogSink();
  const cache = new TokenCache({
    kv: kv.kv,
    pepper: PEPPER,
    positiveTtlS: 60,
    negativeTtlS: 30,
    l1MaxEntries: 1000,
    staleIfErrorS: 0,
    log: logs.log,
    clock,
    kvRetryDelayMs: 0,
    ...overrides,
  });
  return { cache, kv, clock, logs };
}

/** A second isolate: its own memory, the same KV and clock. */
export function otherIsolate(h: Harness, overrides: Partial<TokenCacheOptions> = {}): Harness {
  return harness(overrides, { kv: h.kv, clock: h.clock });
}

/** RFC 9211 list member: a token then `; key[=value]` parameters. */
export const CACHE_STATUS_SYNTAX =
  /^ghes-token-gateway(?:; (?:hit|stored|collapsed|fwd=(?:uri-miss|miss|stale)|fwd-status=\d{3}|ttl=-?\d+|detail=[A-Za-z][A-Za-z0-9-]*))*$/;
