/**
 * What each GHES outcome means for the caller: one GatewayError per case. Pure; the request loop
 * (request.ts) decides when a case applies. `mayHaveApplied` is always the loop's verdict;
 * `minting` marks a call that mints a credential (reset, scoped) and so is never retried.
 *
 * Trust boundary: nothing here puts the token, the client secret or a token-bearing URL into an
 * error; what GHES says back is scrubbed of them first.
 */
import { GatewayError } from '../lib/errors';
import type { Unusable } from './answer';

const PASS_THROUGH_HEADERS = [
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-ratelimit-used',
  'x-ratelimit-resource',
];

/**
 * GitHub signals both primary (429, or 403 with `x-ratelimit-remaining: 0`) and secondary
 * (403 with `retry-after` or a "secondary rate limit" message) limits; see GitHub's REST docs
 * "Rate limits for the REST API".
 */
export function isRateLimited(res: Response, bodyText: string): boolean {
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

export function rateLimited(
  res: Response,
  retryAfterS: number,
  mayHaveApplied: boolean,
): GatewayError {
  const headers: Record<string, string> = {};
  for (const name of PASS_THROUGH_HEADERS) {
    const v = res.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  headers['retry-after'] = String(retryAfterS);
  return new GatewayError('upstream-rate-limited', {
    detail: `GHES rate-limited the gateway; retry after ${retryAfterS} s`,
    headers,
    upstreamStatus: res.status,
    mayHaveApplied,
  });
}

export function breakerOpen(
  host: string,
  retryAfterMs: number,
  mayHaveApplied: boolean,
): GatewayError {
  const retryAfterS = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GatewayError('upstream-unavailable', {
    detail: 'GHES is failing; the gateway is holding calls back for a moment',
    reason: `circuit breaker open for ${host}`,
    headers: { 'retry-after': String(retryAfterS) },
    mayHaveApplied,
  });
}

export function deadlineSpent(
  deadlineMs: number,
  attempts: number,
  mayHaveApplied: boolean,
): GatewayError {
  return new GatewayError('upstream-timeout', {
    detail: 'GHES did not answer within the deadline',
    reason: `deadline of ${deadlineMs} ms spent after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
    mayHaveApplied,
  });
}

/** No answer: the connection failed or the attempt timed out, after it may have reached GHES. */
export function lostAttempt(
  timedOut: boolean,
  minting: boolean,
  mayHaveApplied: boolean,
): GatewayError {
  if (minting) {
    return new GatewayError('upstream-outcome-unknown', {
      detail: 'The request to GHES failed after it may have been received; its outcome is unknown',
      reason: timedOut
        ? 'timeout on a non-retryable call'
        : 'network error on a non-retryable call',
      mayHaveApplied,
    });
  }
  return timedOut
    ? new GatewayError('upstream-timeout', {
        detail: 'GHES did not answer in time',
        reason: 'attempt timed out',
        mayHaveApplied,
      })
    : new GatewayError('upstream-error', {
        detail: 'GHES could not be reached',
        reason: 'network error',
        mayHaveApplied,
      });
}

/**
 * A 2xx whose body cannot be used. A mutation GHES answered 2xx was most likely carried out; a
 * minted token is then lost, so a reset or scoped call's outcome is unknown to the caller.
 */
export function unusableAnswer(
  status: number,
  why: Unusable,
  minting: boolean,
  mayHaveApplied: boolean,
): GatewayError {
  return new GatewayError(minting ? 'upstream-outcome-unknown' : 'upstream-error', {
    detail: minting ? `${why.detail}; whether it took effect is unknown` : why.detail,
    reason: `${status} answer: ${why.reason}`,
    upstreamStatus: status,
    mayHaveApplied,
  });
}

/** A 5xx on the last attempt, or on a call that is never retried. */
export function serverError(
  status: number,
  attempts: number,
  minting: boolean,
  mayHaveApplied: boolean,
): GatewayError {
  return minting
    ? new GatewayError('upstream-outcome-unknown', {
        detail: 'GHES failed while handling the request; whether it took effect is unknown',
        reason: `GHES ${status} on a non-retryable call`,
        upstreamStatus: status,
        mayHaveApplied,
      })
    : new GatewayError('upstream-error', {
        detail: `GHES failed (${status})`,
        reason: `GHES ${status} after ${attempts} attempts`,
        upstreamStatus: status,
        mayHaveApplied,
      });
}

/** A refusal that ends the call, and why, for the operators' log line when they need one. */
export interface Refusal {
  error: GatewayError;
  log?: string;
}

/**
 * Any other answer (3xx, 4xx that is not a rate limit): GHES's considered reply, never retried.
 * `secrets` are scrubbed from what a 422 echoes back.
 */
export function refusal(
  status: number,
  bodyText: string,
  clientId: string,
  secrets: readonly string[],
  mayHaveApplied: boolean,
): Refusal {
  if (status >= 300 && status < 400) {
    return {
      log: 'redirect',
      error: new GatewayError('upstream-error', {
        detail: 'GHES answered with a redirect; check GHES_BASE_URL',
        reason: `GHES redirected (${status}); redirects are never followed`,
        upstreamStatus: status,
        mayHaveApplied,
      }),
    };
  }
  if (status === 404) {
    return {
      error: new GatewayError('token-not-found', {
        detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
        upstreamStatus: 404,
        mayHaveApplied,
      }),
    };
  }
  if (status === 422) return { error: validationFailed(bodyText, secrets, mayHaveApplied) };
  if (status === 401 || status === 403) {
    return {
      log: 'credentials rejected',
      error: new GatewayError('upstream-credentials-rejected', {
        detail: 'GHES rejected the gateway credentials for this app',
        reason: `GHES answered ${status} to Basic auth for client ${clientId}: check the app's client secret`,
        upstreamStatus: status,
        mayHaveApplied,
      }),
    };
  }
  return {
    log: 'unexpected status',
    error: new GatewayError('upstream-error', {
      detail: `GHES answered with an unexpected status (${status})`,
      upstreamStatus: status,
      mayHaveApplied,
    }),
  };
}

/**
 * `text` with every occurrence of every secret redacted, raw or JSON-escaped (a message quoting a
 * secret with `"` or a backslash escapes it). Occurrences are found in the original text and redacted as
 * one union, so secrets that overlap (a password inside a quoted client secret) leave no part.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length === 0) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  const covered = new Uint8Array(text.length);
  let any = false;
  for (const form of forms) {
    for (let i = text.indexOf(form); i !== -1; i = text.indexOf(form, i + 1)) {
      covered.fill(1, i, i + form.length);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (covered[i] === 0) out += text[i];
    else if (i === 0 || covered[i - 1] === 0) out += '[redacted]';
  }
  return out;
}

/** Keeps GitHub's message and field errors (what a caller needs to fix its input), scrubbed. */
function validationFailed(
  bodyText: string,
  secrets: readonly string[],
  mayHaveApplied: boolean,
): GatewayError {
  let parsed: { message?: unknown; errors?: unknown } = {};
  try {
    parsed = JSON.parse(bodyText) as typeof parsed;
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
