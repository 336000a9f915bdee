/**
 * The one request helper every GHES call goes through: base URL, Basic auth with the app's
 * client credentials, `Accept: application/vnd.github+json`, per-attempt timeout inside an
 * overall deadline, `redirect: 'manual'`, safe retries, the circuit breaker, and one mapping of
 * GHES outcomes to gateway error codes.
 *
 * Trust boundary: GHES's answers are untrusted input. Bodies are read as a stream up to
 * `maxResponseBytes`, and a 2xx only counts once its body passes the call's `answer` schema;
 * anything else is `upstream-error` (`upstream-outcome-unknown` for a minting call), never data.
 *
 * Trust boundary: this is the only module that puts a client secret on the wire. Nothing it
 * logs or throws contains the secret, the Basic header, the token, or a URL with a token in it
 * (`logPath` is what legacy path-style calls log).
 */
import type { z } from 'zod';
import type { AppConfig } from '../config/types';
import { GatewayError } from '../lib/errors';
import { readAtMost, strictUtf8, type BoundedRead } from '../lib/bounded-read';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import type { CircuitBreaker } from './breaker';

export type GhesOperation =
  | 'check'
  | 'reset'
  | 'delete'
  | 'grant'
  | 'scoped'
  | 'legacy_check'
  | 'legacy_reset'
  | 'legacy_delete'
  | 'legacy_grant';

/**
 * Operations that change something in GHES. A failure after such a call may have reached GHES
 * carries `mayHaveApplied`, so that the cache treats the old token as gone.
 */
const MUTATES: Readonly<Record<GhesOperation, boolean>> = {
  check: false,
  reset: true,
  delete: true,
  grant: true,
  scoped: true,
  legacy_check: false,
  legacy_reset: true,
  legacy_delete: true,
  legacy_grant: true,
};

/** Default bound on a GHES answer: an authorization is a few KB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface GhesContext {
  /** Ends with `/api/v3`, no trailing slash. */
  baseUrl: string;
  app: Pick<AppConfig, 'name' | 'clientId' | 'clientSecret'>;
  fetch: typeof fetch;
  /** Per attempt. */
  timeoutMs: number;
  /** For the whole call, retries and waits included. */
  deadlineMs: number;
  /**
   * Bytes of an answer body read at most (default 1 MiB). A larger answer is not read: its
   * stream is cancelled, so a runaway GHES or proxy cannot fill the isolate's 128 MB.
   */
  maxResponseBytes?: number;
  log: Logger;
  /** Deadline, attempt timeouts and retry waits all run on this clock. */
  clock: Clock;
  breaker?: CircuitBreaker;
  /** 0 ≤ r < 1, for backoff jitter. */
  random?: () => number;
  requestId?: string;
}

export interface GhesCall<T> {
  operation: GhesOperation;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below `/applications/{client_id}`, e.g. `/token` or `/tokens/<encoded token>`. */
  path: string;
  /** `path` with any token replaced, the only form that may be logged. */
  logPath: string;
  body?: unknown;
  /**
   * `idempotent`: check, delete, grant delete — retried on network errors, 5xx and rate limits.
   * `never`: reset and scoped mint a credential; once the request may have reached GHES an
   * unclear failure is `upstream-outcome-unknown`, never a retry.
   */
  retry: 'idempotent' | 'never';
  /** Deletes: a 404 after an earlier attempt whose outcome is unknown means the first one worked. */
  notFoundAfterAmbiguousIsSuccess?: boolean;
  /** Strings to scrub from anything GHES says back (the token in a 422 message, say). */
  secrets: readonly string[];
  /**
   * What a 2xx must carry, checked before anything is cached or answered (each call module
   * names its own). The JSON body is parsed with it; an empty body is `undefined`.
   */
  answer: z.ZodType<T>;
}

export interface GhesResult<T> {
  status: number;
  data: T;
  headers: Headers;
  attempts: number;
}

const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;
const PASS_THROUGH_HEADERS = [
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-ratelimit-used',
  'x-ratelimit-resource',
];
const USER_AGENT = 'ghes-token-gateway';

export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${clientId}:${clientSecret}`)}`;
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * GitHub signals both primary (429, or 403 with `x-ratelimit-remaining: 0`) and secondary
 * (403 with `retry-after` or a "secondary rate limit" message) limits; see GitHub's REST docs
 * "Rate limits for the REST API".
 */
function isRateLimited(res: Response, bodyText: string): boolean {
  if (res.status === 429) return true;
  if (res.status !== 403) return false;
  return (
    res.headers.get('x-ratelimit-remaining') === '0' ||
    res.headers.has('retry-after') ||
    /secondary rate limit/i.test(bodyText)
  );
}

/** Seconds to wait, from `retry-after`, else `x-ratelimit-reset`, else GitHub's advice: 60 s. */
export function retryAfterSeconds(headers: Headers, nowMs: number): number {
  const ra = headers.get('retry-after');
  if (ra !== null && /^\d+$/.test(ra.trim())) return Number(ra.trim());
  const reset = headers.get('x-ratelimit-reset');
  if (headers.get('x-ratelimit-remaining') === '0' && reset !== null && /^\d+$/.test(reset)) {
    return Math.max(1, Number(reset) - Math.floor(nowMs / 1000));
  }
  return 60;
}

function passThrough(headers: Headers, retryAfterS: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASS_THROUGH_HEADERS) {
    const v = headers.get(name);
    if (v !== null) out[name] = v;
  }
  out['retry-after'] = String(retryAfterS);
  return out;
}

interface ValidationError {
  message?: unknown;
  errors?: unknown;
}

/** Keeps GitHub's message and field errors (what a caller needs to fix its input), scrubbed. */
function upstreamValidationError(
  bodyText: string,
  secrets: readonly string[],
  mayHaveApplied: boolean,
): GatewayError {
  let parsed: ValidationError = {};
  try {
    parsed = JSON.parse(bodyText) as ValidationError;
  } catch {
    // GHES always answers JSON; a proxy's HTML page simply yields no message.
  }
  const message = typeof parsed.message === 'string' ? scrub(parsed.message, secrets) : undefined;
  const errors = Array.isArray(parsed.errors)
    ? parsed.errors.flatMap((e: unknown) => {
        // GitHub sometimes sends plain strings in `errors`.
        if (typeof e === 'string') return [{ message: scrub(e, secrets) }];
        if (typeof e !== 'object' || e === null) return [];
        const r = e as Record<string, unknown>;
        const item: Record<string, string> = {};
        for (const k of ['resource', 'field', 'code', 'message'] as const) {
          if (typeof r[k] === 'string') item[k] = scrub(r[k], secrets);
        }
        return [item];
      })
    : [];
  return new GatewayError('upstream-validation-failed', {
    detail: message ?? 'GHES rejected the request as invalid',
    extensions: { upstream_errors: errors },
    upstreamStatus: 422,
    mayHaveApplied,
  });
}

type BodyRead = { kind: 'text'; text: string } | { kind: 'too-large' } | { kind: 'not-utf8' };

/**
 * Reads a body as a stream, at most `limit` bytes. Over the bound (announced by
 * `content-length`, or counted while reading) the stream is cancelled and nothing more is read.
 * Read errors (a dropped connection, the attempt's timeout) are thrown as they come.
 */
async function readBounded(res: Response, limit: number): Promise<BodyRead> {
  const body = res.body;
  if (body === null) return { kind: 'text', text: '' };
  const declared = res.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > limit) {
    // Not awaited: a hostile source's cancel must not hold the call.
    body.cancel().catch(() => undefined);
    return { kind: 'too-large' };
  }
  const reader = body.getReader();
  let read: BoundedRead;
  try {
    read = await readAtMost(reader, limit);
  } catch (e) {
    reader.cancel().catch(() => undefined);
    throw e;
  }
  if (read.over) {
    // Not awaited: a hostile source's cancel must not hold the call.
    reader.cancel().catch(() => undefined);
    return { kind: 'too-large' };
  }
  try {
    // GitHub's REST API answers UTF-8 JSON (RFC 8259 §8.1); anything else is not its answer.
    return { kind: 'text', text: strictUtf8(read.bytes) };
  } catch {
    return { kind: 'not-utf8' };
  }
}

/**
 * Where an answer failed its schema, as field paths and zod issue codes: never the value, and
 * never a key GHES made up (a record key could be anything, a token included).
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    let path = '';
    for (const segment of issue.path) {
      if (typeof segment === 'number') path += `[${segment}]`;
      else if (typeof segment === 'string' && /^[a-z_]{1,40}$/.test(segment))
        path += path === '' ? segment : `.${segment}`;
      else path += path === '' ? '<key>' : '.<key>';
    }
    return `${path === '' ? '(root)' : path} (${issue.code})`;
  });
  const more = issues.length > shown.length ? ` and ${issues.length - shown.length} more` : '';
  return `${shown.join(', ')}${more}`;
}

type Answer<T> = { ok: true; data: T } | { ok: false; reason: string; detail: string };

/** Parses and validates a 2xx body against the call's schema. */
function readAnswer<T>(read: BodyRead, limit: number, schema: z.ZodType<T>): Answer<T> {
  if (read.kind === 'too-large') {
    return {
      ok: false,
      reason: `body over ${limit} bytes, not read`,
      detail: `GHES answered with more than ${limit} bytes`,
    };
  }
  if (read.kind === 'not-utf8') {
    return {
      ok: false,
      reason: 'body not UTF-8',
      detail: 'GHES answered with something that is not JSON',
    };
  }
  let data: unknown = undefined;
  if (read.text.length > 0) {
    try {
      data = JSON.parse(read.text);
    } catch {
      return {
        ok: false,
        reason: 'body not JSON',
        detail: 'GHES answered with something that is not JSON',
      };
    }
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    reason: `body invalid at ${describeIssues(parsed.error.issues)}`,
    detail: 'GHES answered with a body the gateway cannot use',
  };
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
}

export async function ghesRequest<T>(ctx: GhesContext, call: GhesCall<T>): Promise<GhesResult<T>> {
  const { clock } = ctx;
  const limit = ctx.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const random = ctx.random ?? Math.random;
  const start = clock.now();
  const deadline = start + ctx.deadlineMs;
  const url = `${ctx.baseUrl}/applications/${encodeURIComponent(ctx.app.clientId)}${call.path}`;
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    authorization: basicAuth(ctx.app.clientId, ctx.app.clientSecret),
    'user-agent': USER_AGENT,
    'x-github-api-version': '2022-11-28',
  };
  const bodyText = call.body === undefined ? undefined : JSON.stringify(call.body);
  if (bodyText !== undefined) headers['content-type'] = 'application/json';

  /**
   * Whether an attempt so far may have reached GHES and been carried out without us learning
   * so: a 5xx, a lost connection, a timeout or an unreadable 2xx. Every error thrown after that
   * carries `mayHaveApplied`, so that a later refusal (a 429 on the retry) is not mistaken for
   * a definitive "not done".
   */
  let ambiguous = false;
  /**
   * Whether GHES may have carried out this mutation: this attempt may have reached it and its
   * answer is unusable (`thisAttempt`), or an earlier attempt's outcome is unknown.
   */
  const mayHaveApplied = (thisAttempt: boolean): boolean =>
    MUTATES[call.operation] && (thisAttempt || ambiguous);
  const where = { operation: call.operation, app: ctx.app.name, path: call.logPath };
  const fail = (reason: string, extra: Record<string, unknown> = {}) =>
    ctx.log({
      level: 'warn',
      event: 'ghes.call_failed',
      request_id: ctx.requestId,
      ...where,
      reason,
      ...extra,
    });

  /** A backoff that fits inside the deadline, or undefined when no time is left for another try. */
  const backoff = (attempt: number, minMs = 0): number | undefined => {
    const jittered = Math.max(minMs, BACKOFF_BASE_MS * 2 ** (attempt - 1) * (0.5 + random()));
    // Leave at least a short attempt's worth of time after waiting.
    return clock.now() + jittered + 50 < deadline ? jittered : undefined;
  };

  for (let attempt = 1; ; attempt++) {
    const breakerVerdict = ctx.breaker?.tryAcquire(clock.now());
    if (breakerVerdict !== undefined && !breakerVerdict.ok) {
      const retryAfterS = Math.max(1, Math.ceil(breakerVerdict.retryAfterMs / 1000));
      throw new GatewayError('upstream-unavailable', {
        detail: 'GHES is failing; the gateway is holding calls back for a moment',
        reason: `circuit breaker open for ${new URL(ctx.baseUrl).host}`,
        headers: { 'retry-after': String(retryAfterS) },
        mayHaveApplied: mayHaveApplied(false),
      });
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      ctx.breaker?.onNeutral();
      throw new GatewayError('upstream-timeout', {
        detail: 'GHES did not answer within the deadline',
        reason: `deadline of ${ctx.deadlineMs} ms spent after ${attempt - 1} attempts`,
        mayHaveApplied: mayHaveApplied(false),
      });
    }

    let res: Response;
    // The body is read inside the same try: a body that dies mid-way (timeout, dropped
    // connection) is as ambiguous as no answer at all, and must map the same way.
    let read: BodyRead;
    try {
      const init: RequestInit = {
        method: call.method,
        headers,
        redirect: 'manual',
        signal: clock.timeout(Math.min(ctx.timeoutMs, remaining)),
      };
      if (bodyText !== undefined) init.body = bodyText;
      res = await ctx.fetch(url, init);
      // A non-2xx maps by its status even when its body is lost or too large; a 2xx needs its body.
      read = res.ok
        ? await readBounded(res, limit)
        : await readBounded(res, limit).catch((): BodyRead => ({ kind: 'text', text: '' }));
    } catch (e) {
      ambiguous = true;
      ctx.breaker?.onFailure(clock.now());
      const timedOut = isTimeout(e);
      fail(timedOut ? 'timeout' : 'network error', {
        attempt,
        error: e instanceof Error ? e.name : 'unknown',
      });
      if (call.retry === 'never') {
        throw new GatewayError('upstream-outcome-unknown', {
          detail:
            'The request to GHES failed after it may have been received; its outcome is unknown',
          reason: timedOut
            ? 'timeout on a non-retryable call'
            : 'network error on a non-retryable call',
          mayHaveApplied: mayHaveApplied(true),
        });
      }
      // A timeout is not retried: a slow GHES would only get more load, and the deadline is
      // better spent answering the caller.
      const wait = !timedOut && attempt < MAX_ATTEMPTS ? backoff(attempt) : undefined;
      if (wait === undefined) {
        throw timedOut
          ? new GatewayError('upstream-timeout', {
              detail: 'GHES did not answer in time',
              reason: 'attempt timed out',
              mayHaveApplied: mayHaveApplied(true),
            })
          : new GatewayError('upstream-error', {
              detail: 'GHES could not be reached',
              reason: 'network error',
              mayHaveApplied: mayHaveApplied(true),
            });
      }
      await clock.sleep(wait);
      continue;
    }

    const status = res.status;
    if (status >= 200 && status < 300) {
      const answer = readAnswer(read, limit, call.answer);
      if (!answer.ok) {
        // Not a breaker failure: one odd answer (about one token) must not shut GHES off for all.
        ctx.breaker?.onNeutral();
        fail('unusable answer', { status, attempt, why: answer.reason });
        // A mutation GHES answered 2xx was most likely carried out; a minted token is lost, so a
        // reset or scoped call's outcome is unknown to the caller. Never retried: the answer is
        // GHES's (or a proxy's) considered reply, not a transient failure.
        const minted = call.retry === 'never';
        throw new GatewayError(minted ? 'upstream-outcome-unknown' : 'upstream-error', {
          detail: minted ? `${answer.detail}; whether it took effect is unknown` : answer.detail,
          reason: `${status} answer: ${answer.reason}`,
          upstreamStatus: status,
          mayHaveApplied: mayHaveApplied(true),
        });
      }
      ctx.breaker?.onSuccess();
      return { status, data: answer.data, headers: res.headers, attempts: attempt };
    }
    const text = read.kind === 'text' ? read.text : '';

    if (status >= 300 && status < 400) {
      ctx.breaker?.onNeutral();
      fail('redirect', { status });
      throw new GatewayError('upstream-error', {
        detail: 'GHES answered with a redirect; check GHES_BASE_URL',
        reason: `GHES redirected (${status}); redirects are never followed`,
        upstreamStatus: status,
        mayHaveApplied: mayHaveApplied(false),
      });
    }
    if (status === 404) {
      ctx.breaker?.onNeutral();
      if (ambiguous && call.notFoundAfterAmbiguousIsSuccess) {
        // The success a delete would have answered: no content (its schema accepts `undefined`).
        const none = call.answer.safeParse(undefined);
        if (none.success)
          return { status: 204, data: none.data, headers: res.headers, attempts: attempt };
      }
      throw new GatewayError('token-not-found', {
        detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
        upstreamStatus: 404,
        mayHaveApplied: mayHaveApplied(false),
      });
    }
    if (status === 422) {
      ctx.breaker?.onNeutral();
      throw upstreamValidationError(
        text,
        [...call.secrets, ctx.app.clientSecret],
        mayHaveApplied(false),
      );
    }
    if (isRateLimited(res, text)) {
      ctx.breaker?.onNeutral();
      const retryAfterS = retryAfterSeconds(res.headers, clock.now());
      const wait =
        call.retry === 'idempotent' && attempt < MAX_ATTEMPTS
          ? backoff(attempt, retryAfterS * 1000)
          : undefined;
      fail('rate limited', { status, attempt, retry_after_s: retryAfterS });
      if (wait !== undefined) {
        await clock.sleep(wait);
        continue;
      }
      throw new GatewayError('upstream-rate-limited', {
        detail: `GHES rate-limited the gateway; retry after ${retryAfterS} s`,
        headers: passThrough(res.headers, retryAfterS),
        upstreamStatus: status,
        mayHaveApplied: mayHaveApplied(false),
      });
    }
    if (status === 401 || status === 403) {
      ctx.breaker?.onNeutral();
      fail('credentials rejected', { status });
      throw new GatewayError('upstream-credentials-rejected', {
        detail: 'GHES rejected the gateway credentials for this app',
        reason: `GHES answered ${status} to Basic auth for client ${ctx.app.clientId}: check the app's client secret`,
        upstreamStatus: status,
        mayHaveApplied: mayHaveApplied(false),
      });
    }
    if (status >= 500) {
      ambiguous = true;
      ctx.breaker?.onFailure(clock.now());
      fail('server error', { status, attempt });
      if (call.retry === 'never') {
        throw new GatewayError('upstream-outcome-unknown', {
          detail: 'GHES failed while handling the request; whether it took effect is unknown',
          reason: `GHES ${status} on a non-retryable call`,
          upstreamStatus: status,
          mayHaveApplied: mayHaveApplied(true),
        });
      }
      const wait = attempt < MAX_ATTEMPTS ? backoff(attempt) : undefined;
      if (wait !== undefined) {
        await clock.sleep(wait);
        continue;
      }
      throw new GatewayError('upstream-error', {
        detail: `GHES failed (${status})`,
        reason: `GHES ${status} after ${attempt} attempts`,
        upstreamStatus: status,
        mayHaveApplied: mayHaveApplied(true),
      });
    }
    ctx.breaker?.onNeutral();
    fail('unexpected status', { status });
    throw new GatewayError('upstream-error', {
      detail: `GHES answered with an unexpected status (${status})`,
      upstreamStatus: status,
      mayHaveApplied: mayHaveApplied(false),
    });
  }
}
