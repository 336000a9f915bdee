/**
 * The one request helper every GHES call goes through: base URL, Basic auth with the app's
 * client credentials, `Accept: application/vnd.github+json`, per-attempt timeout inside an
 * overall deadline, `redirect: 'manual'`, safe retries and the circuit breaker. What each
 * outcome means is outcome.ts; reading an answer is answer.ts.
 *
 * Trust boundary: this is the only module that puts a client secret on the wire. Nothing it
 * logs or throws contains the secret, the Basic header, the token, or a URL with a token in it
 * (`logPath` is what legacy path-style calls log).
 */
import * as v from 'valibot';
import type { AppConfig } from '../config/types';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { ok, type Result } from '../lib/result';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  parseAnswer,
  readBody,
  type AnswerSchema,
  type Unusable,
} from './answer';
import type { CircuitBreaker } from './breaker';
import type { UserAuth, UserOperation } from './authorizations/user-call';
import { USER_MUTATES } from './authorizations/user-call';
import {
  breakerOpen,
  deadlineSpent,
  isRateLimited,
  lostAttempt,
  rateLimited,
  refusal,
  retryAfterSeconds,
  type Refusal,
  serverError,
  unusableAnswer,
} from './outcome';
import { wireRequest } from './wire';

export type GhesOperation =
  | 'check'
  | 'reset'
  | 'delete'
  | 'grant'
  | 'scoped'
  | 'legacy_check'
  | 'legacy_reset'
  | 'legacy_delete'
  | 'legacy_grant'
  | 'code_exchange'
  | 'refresh'
  | UserOperation;

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
  code_exchange: true,
  refresh: true,
  ...USER_MUTATES,
};

export interface GhesContext {
  /** Ends with `/api/v3`, no trailing slash. */
  baseUrl: string;
  /** The GHES web host (`/login/oauth/…`), no trailing slash; needed by `web` calls only. */
  webUrl?: string;
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
  /** Told how long each call took, retries and waits included (the audit line's `ghes_ms`). */
  onCall?: (ms: number) => void;
}

export interface GhesCall<T> {
  operation: GhesOperation;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /**
   * `api` (default): below `<baseUrl>/applications/{client_id}`, e.g. `/token`, Basic auth with
   * the client credentials; for a `user` call, below the API root (`/authorizations/1`).
   * `web`: the OAuth web flow below `webUrl` (`/login/oauth/access_token`): `form` is sent
   * form-encoded with the client id and secret added, `Accept: application/json` (wire.ts).
   */
  host?: 'api' | 'web';
  /** Below the host's root (see `host`), e.g. `/token` or `/tokens/<encoded token>`. */
  path: string;
  /** `web` calls: the form fields besides the client credentials. */
  form?: Readonly<Record<string, string>>;
  /** The call authenticates as a GHES user, not as the app (src/ghes/authorizations/). */
  user?: UserAuth;
  /** `path` with any token replaced, the only form that may be logged. */
  logPath: string;
  body?: unknown;
  /**
   * `idempotent`: check, delete, grant delete — retried on network errors, 5xx and rate limits.
   * `never`: reset and scoped mint a credential; once the request may have reached GHES an
   * unclear failure is `upstream-outcome-unknown`, never a retry.
   */
  retry: 'idempotent' | 'never';
  /** How this call's refusals (3xx, 4xx but rate limits) map, when not as the REST API's. */
  refusal?: typeof refusal;
  /** Deletes: a 404 after an earlier attempt whose outcome is unknown means the first one worked. */
  notFoundAfterAmbiguousIsSuccess?: boolean;
  /** Strings to scrub from anything GHES says back (the token in a 422 message, say). */
  secrets: readonly string[];
  /**
   * What a 2xx must carry, checked before anything is cached or answered (each call module
   * names its own). The JSON body is parsed with it; an empty body is `undefined`.
   */
  answer: AnswerSchema<T>;
}

export interface GhesResult<T> {
  status: number;
  data: T;
  headers: Headers;
  attempts: number;
}

const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;

export { basicAuth } from './wire';

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
}

export async function ghesRequest<T>(ctx: GhesContext, call: GhesCall<T>): Promise<GhesResult<T>> {
  const { onCall } = ctx;
  if (onCall === undefined) return attempts(ctx, call);
  const started = ctx.clock.now();
  try {
    return await attempts(ctx, call);
  } finally {
    onCall(ctx.clock.now() - started);
  }
}

async function attempts<T>(ctx: GhesContext, call: GhesCall<T>): Promise<GhesResult<T>> {
  const { clock } = ctx;
  const limit = ctx.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const random = ctx.random ?? Math.random;
  const deadline = clock.now() + ctx.deadlineMs;
  const { url, headers, bodyText } = wireRequest(ctx, call);
  const minting = call.retry === 'never';

  /**
   * Whether an attempt so far may have reached GHES and been carried out without us learning
   * so: a 5xx, a lost connection, a timeout or an unreadable 2xx. Every error thrown after that
   * carries `mayHaveApplied`, so that a later refusal (a 429 on the retry) is not mistaken for
   * a definitive "not done".
   */
  let ambiguous = false;
  /** Whether GHES may have carried out this mutation, by this attempt or an earlier one. */
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
    const mayRetry = !minting && attempt < MAX_ATTEMPTS;
    const admitted = ctx.breaker?.tryAcquire(clock.now());
    if (admitted !== undefined && !admitted.ok) {
      throw breakerOpen(new URL(url).host, admitted.error.retryAfterMs, mayHaveApplied(false));
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      ctx.breaker?.onNeutral();
      throw deadlineSpent(ctx.deadlineMs, attempt - 1, mayHaveApplied(false));
    }

    let res: Response;
    // The body is read inside the same try: a body that dies mid-way (timeout, dropped
    // connection) is as ambiguous as no answer at all, and must map the same way.
    let body: Result<string, Unusable>;
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
      body = res.ok ? await readBody(res, limit) : await readBody(res, limit).catch(() => ok(''));
    } catch (e) {
      ambiguous = true;
      ctx.breaker?.onFailure(clock.now());
      const timedOut = isTimeout(e);
      fail(timedOut ? 'timeout' : 'network error', {
        attempt,
        error: e instanceof Error ? e.name : 'unknown',
      });
      // A timeout is not retried: a slow GHES would only get more load, and the deadline is
      // better spent answering the caller.
      const wait = mayRetry && !timedOut ? backoff(attempt) : undefined;
      if (wait === undefined) throw lostAttempt(timedOut, minting, mayHaveApplied(true));
      await clock.sleep(wait);
      continue;
    }

    const status = res.status;
    if (res.ok) {
      const answer = body.ok ? parseAnswer(body.value, call.answer) : body;
      if (!answer.ok) {
        // Not a breaker failure: one odd answer (about one token) must not shut GHES off for all.
        ctx.breaker?.onNeutral();
        fail('unusable answer', { status, attempt, why: answer.error.reason });
        // Never retried: GHES's (or a proxy's) considered reply, not a transient failure.
        throw unusableAnswer(status, answer.error, minting, mayHaveApplied(true));
      }
      ctx.breaker?.onSuccess();
      return { status, data: answer.value, headers: res.headers, attempts: attempt };
    }
    const text = body.ok ? body.value : '';

    if (status >= 500) {
      ambiguous = true;
      ctx.breaker?.onFailure(clock.now());
      fail('server error', { status, attempt });
      const wait = mayRetry ? backoff(attempt) : undefined;
      if (wait === undefined) throw serverError(status, attempt, minting, mayHaveApplied(true));
      await clock.sleep(wait);
      continue;
    }
    // Anything else is a healthy GHES answering about this request.
    ctx.breaker?.onNeutral();
    if (isRateLimited(res, text)) {
      const retryAfterS = retryAfterSeconds(res.headers, clock.now());
      const wait = mayRetry ? backoff(attempt, retryAfterS * 1000) : undefined;
      fail('rate limited', { status, attempt, retry_after_s: retryAfterS });
      if (wait === undefined) throw rateLimited(res, retryAfterS, mayHaveApplied(false));
      await clock.sleep(wait);
      continue;
    }
    if (status === 404 && ambiguous && call.notFoundAfterAmbiguousIsSuccess) {
      // The success a delete would have answered: no content (its schema accepts `undefined`).
      const none = v.safeParse(call.answer, undefined);
      if (none.success)
        return { status: 204, data: none.output, headers: res.headers, attempts: attempt };
    }
    const secrets = [...call.secrets, ctx.app.clientSecret];
    const own = call.user?.refuse(res, text, secrets, mayHaveApplied(false));
    if (own !== undefined) throw own;
    const refuse = call.refusal ?? refusal;
    const refused: Refusal = refuse(status, text, ctx.app.clientId, secrets, mayHaveApplied(false));
    if (refused.log !== undefined) fail(refused.log, { status });
    throw refused.error;
  }
}
