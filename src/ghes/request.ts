/**
 * The one request helper every GHES call goes through: base URL, Basic auth with the app's
 * client credentials, `Accept: application/vnd.github+json`, per-attempt timeout inside an
 * overall deadline, `redirect: 'manual'`, safe retries, the circuit breaker, and one mapping of
 * GHES outcomes to gateway error codes.
 *
 * Trust boundary: this is the only module that puts a client secret on the wire. Nothing it
 * logs or throws contains the secret, the Basic header, the token, or a URL with a token in it
 * (`logPath` is what legacy path-style calls log).
 */
import type { AppConfig } from '../env';
import { GatewayError, type ErrorCode, type GatewayErrorOptions } from '../errors';
import type { Clock } from '../lib/clock';
import type { Logger } from '../log';
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

export interface GhesContext {
  /** Ends with `/api/v3`, no trailing slash. */
  baseUrl: string;
  app: Pick<AppConfig, 'name' | 'clientId' | 'clientSecret'>;
  fetch: typeof fetch;
  /** Per attempt. */
  timeoutMs: number;
  /** For the whole call, retries and waits included. */
  deadlineMs: number;
  log: Logger;
  /** Deadline, attempt timeouts and retry waits all run on this clock. */
  clock: Clock;
  breaker?: CircuitBreaker;
  /** 0 ≤ r < 1, for backoff jitter. */
  random?: () => number;
  requestId?: string;
}

export interface GhesCall {
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

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
}

export async function ghesRequest<T>(ctx: GhesContext, call: GhesCall): Promise<GhesResult<T>> {
  const { clock } = ctx;
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
  const failure = (code: ErrorCode, options: GatewayErrorOptions = {}) =>
    new GatewayError(code, ambiguous ? { ...options, mayHaveApplied: true } : options);
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
      throw failure('upstream-unavailable', {
        detail: 'GHES is failing; the gateway is holding calls back for a moment',
        reason: `circuit breaker open for ${new URL(ctx.baseUrl).host}`,
        headers: { 'retry-after': String(retryAfterS) },
      });
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      ctx.breaker?.onNeutral();
      throw failure('upstream-timeout', {
        detail: 'GHES did not answer within the deadline',
        reason: `deadline of ${ctx.deadlineMs} ms spent after ${attempt - 1} attempts`,
      });
    }

    let res: Response;
    // The body is read inside the same try: a body that dies mid-way (timeout, dropped
    // connection) is as ambiguous as no answer at all, and must map the same way.
    let text: string;
    try {
      const init: RequestInit = {
        method: call.method,
        headers,
        redirect: 'manual',
        signal: clock.timeout(Math.min(ctx.timeoutMs, remaining)),
      };
      if (bodyText !== undefined) init.body = bodyText;
      res = await ctx.fetch(url, init);
      // A non-2xx maps by its status even when its body is lost; a 2xx needs its body.
      text = res.ok ? await res.text() : await res.text().catch(() => '');
    } catch (e) {
      ambiguous = true;
      ctx.breaker?.onFailure(clock.now());
      const timedOut = isTimeout(e);
      fail(timedOut ? 'timeout' : 'network error', {
        attempt,
        error: e instanceof Error ? e.name : 'unknown',
      });
      if (call.retry === 'never') {
        throw failure('upstream-outcome-unknown', {
          detail:
            'The request to GHES failed after it may have been received; its outcome is unknown',
          reason: timedOut
            ? 'timeout on a non-retryable call'
            : 'network error on a non-retryable call',
        });
      }
      // A timeout is not retried: a slow GHES would only get more load, and the deadline is
      // better spent answering the caller.
      const wait = !timedOut && attempt < MAX_ATTEMPTS ? backoff(attempt) : undefined;
      if (wait === undefined) {
        throw timedOut
          ? failure('upstream-timeout', {
              detail: 'GHES did not answer in time',
              reason: 'attempt timed out',
            })
          : failure('upstream-error', {
              detail: 'GHES could not be reached',
              reason: 'network error',
            });
      }
      await clock.sleep(wait);
      continue;
    }

    const status = res.status;
    if (status >= 200 && status < 300) {
      ctx.breaker?.onSuccess();
      let data: unknown = undefined;
      if (text.length > 0) {
        try {
          data = JSON.parse(text);
        } catch {
          ambiguous = true;
          throw failure('upstream-error', {
            detail: 'GHES answered with something that is not JSON',
            reason: `unparseable ${status} body`,
            upstreamStatus: status,
          });
        }
      }
      return { status, data: data as T, headers: res.headers, attempts: attempt };
    }

    if (status >= 300 && status < 400) {
      ctx.breaker?.onNeutral();
      fail('redirect', { status });
      throw failure('upstream-error', {
        detail: 'GHES answered with a redirect; check GHES_BASE_URL',
        reason: `GHES redirected (${status}); redirects are never followed`,
        upstreamStatus: status,
      });
    }
    if (status === 404) {
      ctx.breaker?.onNeutral();
      if (ambiguous && call.notFoundAfterAmbiguousIsSuccess) {
        return { status: 204, data: undefined as T, headers: res.headers, attempts: attempt };
      }
      throw failure('token-not-found', {
        detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
        upstreamStatus: 404,
      });
    }
    if (status === 422) {
      ctx.breaker?.onNeutral();
      throw upstreamValidationError(text, [...call.secrets, ctx.app.clientSecret], ambiguous);
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
      throw failure('upstream-rate-limited', {
        detail: `GHES rate-limited the gateway; retry after ${retryAfterS} s`,
        headers: passThrough(res.headers, retryAfterS),
        upstreamStatus: status,
      });
    }
    if (status === 401 || status === 403) {
      ctx.breaker?.onNeutral();
      fail('credentials rejected', { status });
      throw failure('upstream-credentials-rejected', {
        detail: 'GHES rejected the gateway credentials for this app',
        reason: `GHES answered ${status} to Basic auth for client ${ctx.app.clientId}: check the app's client secret`,
        upstreamStatus: status,
      });
    }
    if (status >= 500) {
      ambiguous = true;
      ctx.breaker?.onFailure(clock.now());
      fail('server error', { status, attempt });
      if (call.retry === 'never') {
        throw failure('upstream-outcome-unknown', {
          detail: 'GHES failed while handling the request; whether it took effect is unknown',
          reason: `GHES ${status} on a non-retryable call`,
          upstreamStatus: status,
        });
      }
      const wait = attempt < MAX_ATTEMPTS ? backoff(attempt) : undefined;
      if (wait !== undefined) {
        await clock.sleep(wait);
        continue;
      }
      throw failure('upstream-error', {
        detail: `GHES failed (${status})`,
        reason: `GHES ${status} after ${attempt} attempts`,
        upstreamStatus: status,
      });
    }
    ctx.breaker?.onNeutral();
    fail('unexpected status', { status });
    throw failure('upstream-error', {
      detail: `GHES answered with an unexpected status (${status})`,
      upstreamStatus: status,
    });
  }
}
