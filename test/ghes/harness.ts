/**
 * Test harness for the GHES client (src/ghes): a recording fake `fetch` that answers from a
 * script, a virtual clock (test/helpers/clock.ts) whose `sleep` advances time instead of waiting, a fixed `random`, and a
 * log sink. No emulator: each test states exactly what GHES answers and inspects exactly what the
 * client sent.
 */
import { expect } from 'vitest';
import type { AppConfig } from '../../src/config/types';
import { GatewayError, type ErrorCode } from '../../src/lib/errors';
import type { CircuitBreaker } from '../../src/ghes/breaker';
import type { GhesContext } from '../../src/ghes/request';
import type { GhesAuthorization } from '../../src/ghes/types';
import type { LogRecord } from '../../src/lib/log';
import { TestClock } from '../helpers/clock';

export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
export const BASE_URL = 'https://ghes.example.test/api/v3';
export const CLIENT_ID = 'Iv1.0123456789abcdef';
export const CLIENT_SECRET = 'cs_0123456789abcdef0123456789abcdef01234567';
export const TOKEN = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';

export const OAUTH_APP: AppConfig = {
  name: 'docs',
  clientId: CLIENT_ID,
  kind: 'oauth_app',
  clientSecret: CLIENT_SECRET,
};
export const GITHUB_APP: AppConfig = {
  name: 'ci',
  clientId: 'Iv1.fedcba9876543210',
  kind: 'github_app',
  clientSecret: 'cs_fedcba9876543210fedcba9876543210fedcba98',
};

/** `Basic base64(client_id:client_secret)`, computed here independently of src/ghes/request.ts. */
export function expectedBasic(clientId: string, clientSecret: string): string {
  const bytes = new TextEncoder().encode(`${clientId}:${clientSecret}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** What the client handed to `fetch`, as the platform would have sent it. */
export interface RecordedCall {
  /** The URL after `new Request()` parsed it: what actually goes on the wire. */
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Straight from the RequestInit the client built. */
  redirect: RequestInit['redirect'];
  signal: AbortSignal | undefined;
  /** Fake-clock time of the call. */
  at: number;
}

/** One scripted answer. Called with the recorded call and the attempt's abort signal. */
/** One scripted GHES answer; `clock` is the harness's virtual clock (a hang lets it run). */
export type Step = (
  call: RecordedCall,
  signal: AbortSignal | undefined,
  clock: TestClock,
) => Promise<Response>;

export function reply(
  status: number,
  body?: string | null,
  headers: Record<string, string> = {},
): Step {
  return async () => new Response(body ?? null, { status, headers });
}

export function json(status: number, data: unknown, headers: Record<string, string> = {}): Step {
  return reply(status, JSON.stringify(data), {
    'content-type': 'application/json; charset=utf-8',
    ...headers,
  });
}

/** How workerd's fetch fails when the connection breaks. */
export function networkError(): Step {
  return async () => {
    throw new TypeError('Network connection lost.');
  };
}

/** Never answers; rejects with the signal's reason when the attempt's timeout fires, as fetch does. */
export function hang(): Step {
  return async (_call, signal, clock) => {
    if (signal === undefined)
      throw new Error('test: the client passed no AbortSignal, so this attempt would hang forever');
    // Time runs until the attempt's own timeout fires, which rejects with its reason.
    await clock.sleep(Number.POSITIVE_INFINITY, signal);
    throw new Error('test: a hang ended without its signal');
  };
}

/**
 * Headers arrive, the body never does: when the attempt's signal fires the body stream errors with
 * the signal's reason, which is what the Fetch standard ("abort the fetch() call") does to a
 * response whose body is still being read.
 */
export function hangBody(status: number): Step {
  return async (_call, signal, clock) => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (signal === undefined) {
          controller.error(new Error('test: no AbortSignal'));
          return;
        }
        signal.addEventListener('abort', () => controller.error(signal.reason), { once: true });
        void clock.sleep(Number.POSITIVE_INFINITY, signal).catch(() => undefined);
      },
    });
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  };
}

export const STREAM_CHUNK_BYTES = 4096;

/** How far the client read a `streamed` body. */
export interface StreamStats {
  /** Bytes handed to the reader. */
  pulled: number;
  cancelled: boolean;
}

/**
 * A body of `size` bytes made as the client pulls (4 KiB chunks, `prefix` first), so a test can
 * answer "400 MB" without allocating it and see whether the client cancelled the stream.
 */
export function streamed(
  status: number,
  size: number,
  options: { prefix?: string; contentLength?: boolean; contentType?: string } = {},
): { step: Step; stats: StreamStats } {
  const stats: StreamStats = { pulled: 0, cancelled: false };
  const prefix = new TextEncoder().encode(options.prefix ?? '');
  const step: Step = async () => {
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const n = Math.min(STREAM_CHUNK_BYTES, size - stats.pulled);
          const chunk = new Uint8Array(n).fill(0x20); // JSON whitespace
          if (stats.pulled < prefix.length)
            chunk.set(prefix.subarray(stats.pulled, stats.pulled + n));
          stats.pulled += n;
          controller.enqueue(chunk);
          if (stats.pulled >= size) controller.close();
        },
        cancel() {
          stats.cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/json; charset=utf-8',
    };
    if (options.contentLength) headers['content-length'] = String(size);
    return new Response(body, { status, headers });
  };
  return { step, stats };
}

/** A step whose answer the test releases by hand (to hold a call in flight). */
export function deferred(): { step: Step; release: (step: Step) => void; started: Promise<void> } {
  let onStart!: () => void;
  const started = new Promise<void>((r) => (onStart = r));
  let resolveStep!: (s: Step) => void;
  const chosen = new Promise<Step>((r) => (resolveStep = r));
  return {
    started,
    release: (s) => resolveStep(s),
    step: async (call, signal, clock) => {
      onStart();
      return (await chosen)(call, signal, clock);
    },
  };
}

export interface Harness {
  ctx: GhesContext;
  calls: RecordedCall[];
  logs: LogRecord[];
  /** Every `sleep(ms)` the client asked for, in order. */
  waits: number[];
  clock: TestClock;
  /** Queue more answers. */
  script: (...steps: Step[]) => void;
}

export interface HarnessOptions {
  app?: AppConfig;
  timeoutMs?: number;
  deadlineMs?: number;
  breaker?: CircuitBreaker;
  random?: number;
  clock?: TestClock;
}

export function harness(steps: Step[] = [], options: HarnessOptions = {}): Harness {
  const queue = [...steps];
  const calls: RecordedCall[] = [];
  const logs: LogRecord[] = [];
  const clock = options.clock ?? new TestClock(T0);
  const waits = clock.sleeps;

  const fakeFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    const signal = init?.signal ?? undefined;
    const call: RecordedCall = {
      url: request.url,
      method: request.method,
      headers,
      body: request.body === null ? undefined : await request.text(),
      redirect: init?.redirect,
      signal,
      at: clock.ms,
    };
    calls.push(call);
    const step = queue.shift();
    if (step === undefined)
      throw new Error(`test: unscripted fetch #${calls.length} ${call.method} ${call.url}`);
    return step(call, signal, clock);
  };

  const app = options.app ?? OAUTH_APP;
  const ctx: GhesContext = {
    baseUrl: BASE_URL,
    app: { name: app.name, clientId: app.clientId, clientSecret: app.clientSecret },
    fetch: fakeFetch as typeof fetch,
    timeoutMs: options.timeoutMs ?? 2000,
    deadlineMs: options.deadlineMs ?? 5000,
    log: (record) => logs.push(record),
    clock,
    random: () => options.random ?? 0.5,
    requestId: 'req-test-1',
  };
  if (options.breaker !== undefined) ctx.breaker = options.breaker;
  return { ctx, calls, logs, waits, clock, script: (...s) => queue.push(...s) };
}

/** Runs `p`, expects a GatewayError with `code`, and returns it for further checks. */
export async function expectGatewayError(
  p: Promise<unknown>,
  code: ErrorCode,
): Promise<GatewayError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected the call to throw').toBeDefined();
  expect(caught).toBeInstanceOf(GatewayError);
  const err = caught as GatewayError;
  expect(err.code, `GatewayError ${err.code}: ${err.reason ?? err.detail ?? ''}`).toBe(code);
  return err;
}

/** Everything a GatewayError could leak through: caller-facing and operator-facing parts. */
export function errorText(err: GatewayError): string {
  return JSON.stringify({
    message: err.message,
    detail: err.detail,
    reason: err.reason,
    extensions: err.extensions,
    headers: err.headers,
  });
}

/** A GHES authorization for a token of `OAUTH_APP` (or of `app`), as GHES answers it. */
export function authorization(
  overrides: Partial<GhesAuthorization> = {},
  app: AppConfig = OAUTH_APP,
): GhesAuthorization {
  return {
    id: 1001,
    url: `${BASE_URL}/authorizations/1001`,
    scopes: ['repo', 'read:org'],
    token: TOKEN,
    token_last_eight: TOKEN.slice(-8),
    hashed_token: '25f94a2a5c7fbaf499c665bc73d67c1c87e496da8985131633ee0a95819db2e8',
    app: { client_id: app.clientId, name: 'Docs', url: 'https://docs.example.test' },
    note: null,
    note_url: null,
    updated_at: '2025-12-01T00:00:00Z',
    created_at: '2025-12-01T00:00:00Z',
    fingerprint: null,
    user: { login: 'octocat', id: 1, node_id: 'MDQ6VXNlcjE=', type: 'User', site_admin: false },
    expires_at: null,
    ...overrides,
  };
}

/** What check returns for `authorization(overrides)`: the same without the secret fields. */
export function publicAuthorization(
  overrides: Partial<GhesAuthorization> = {},
  app: AppConfig = OAUTH_APP,
): Omit<GhesAuthorization, 'token' | 'hashed_token'> {
  const { token: _token, hashed_token: _hashed, ...rest } = authorization(overrides, app);
  return rest;
}

export interface ExpectedRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below `<base>/applications/<client_id>`. */
  path: string;
  /** Parsed JSON body; omit for a call without a body. */
  body?: unknown;
  app?: Pick<AppConfig, 'clientId' | 'clientSecret'>;
}

/**
 * The wire contract every GHES call shares (GitHub REST "OAuth authorizations" / "Apps" docs):
 * Basic auth with the app's client credentials, the GitHub media type, JSON body only when there
 * is one, redirects never followed, and a signal that bounds the attempt.
 */
export function expectWireRequest(call: RecordedCall | undefined, expected: ExpectedRequest): void {
  expect(call, 'no request was sent').toBeDefined();
  const c = call as RecordedCall;
  const app = expected.app ?? OAUTH_APP;
  expect(c.url).toBe(`${BASE_URL}/applications/${app.clientId}${expected.path}`);
  expect(c.method).toBe(expected.method);
  expect(c.headers['authorization']).toBe(expectedBasic(app.clientId, app.clientSecret));
  expect(c.headers['accept']).toBe('application/vnd.github+json');
  expect(c.headers['user-agent']).toBeTruthy();
  if (expected.body === undefined) {
    expect(c.body).toBeUndefined();
    expect(c.headers['content-type']).toBeUndefined();
  } else {
    expect(c.headers['content-type']).toBe('application/json');
    expect(JSON.parse(c.body ?? 'null')).toEqual(expected.body);
  }
  expect(c.redirect).toBe('manual');
  expect(c.signal).toBeInstanceOf(AbortSignal);
}

/** Every string inside a value (keys included), so JSON escaping cannot hide a leaked secret. */
export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allStrings(v, out);
    }
  }
  return out;
}

/** The first forbidden string found in `value`, or undefined. */
export function leakIn(value: unknown, forbidden: readonly string[]): string | undefined {
  const strings = allStrings(value);
  return forbidden.find((f) => f.length > 0 && strings.some((s) => s.includes(f)));
}
