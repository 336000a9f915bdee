/**
 * Wire answers the way a GHES appliance sends them: JSON with `charset=utf-8`, the
 * `x-github-*` and `x-ratelimit-*` headers, GitHub's error bodies (`basic-error`,
 * `validation-error`), and for injected 502/503/504 the HTML page of the appliance's front-end
 * proxy (no GitHub headers, not JSON), because that is what a gateway meets in real outages.
 */
import type { FaultBody, FaultEffect } from './faults';
import { docsBase, featuresOf, SUPPORTED_API_VERSION, type GhesVersion } from './versions';

/** GitHub's documented default primary limit for authenticated REST requests. */
export const DEFAULT_RATE_LIMIT = 5000;

/** An hourly window like GitHub's `core` resource; counted, not enforced (faults enforce). */
export class RateWindow {
  private start = 0;
  private used = 0;
  constructor(public limit: number = DEFAULT_RATE_LIMIT) {}

  hit(now: number): RateSnapshot {
    if (now - this.start >= 3_600_000) {
      this.start = now;
      this.used = 0;
    }
    this.used += 1;
    return this.peek(now);
  }

  peek(now: number): RateSnapshot {
    if (now - this.start >= 3_600_000) {
      return {
        limit: this.limit,
        remaining: this.limit,
        used: 0,
        reset: Math.ceil((now + 3_600_000) / 1000),
      };
    }
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - this.used),
      used: this.used,
      reset: Math.ceil((this.start + 3_600_000) / 1000),
    };
  }

  reset(): void {
    this.start = 0;
    this.used = 0;
  }
}

export interface RateSnapshot {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

export interface Reply {
  readonly version: GhesVersion;
  readonly now: number;
  readonly rate: RateSnapshot;
  readonly requestId: string;
  /** `documentation_url` for errors of the operation being answered. */
  readonly docsUrl: string;
}

/** `x-github-request-id`: five colon-separated hex groups, like GitHub's. */
export function newRequestId(): string {
  const words = crypto.getRandomValues(new Uint32Array(5));
  return Array.from(words, (w, i) => (w >>> (i < 2 ? 16 : 8)).toString(16).toUpperCase()).join(':');
}

export function ghesHeaders(reply: Reply, json: boolean): Headers {
  const h = new Headers();
  if (json) h.set('content-type', 'application/json; charset=utf-8');
  h.set('server', 'GitHub.com');
  h.set('x-github-enterprise-version', `${reply.version.name}.0`);
  h.set('x-github-media-type', 'github.v3; format=json');
  if (featuresOf(reply.version).apiVersions)
    h.set('x-github-api-version-selected', SUPPORTED_API_VERSION);
  h.set('x-ratelimit-limit', String(reply.rate.limit));
  h.set('x-ratelimit-remaining', String(reply.rate.remaining));
  h.set('x-ratelimit-reset', String(reply.rate.reset));
  h.set('x-ratelimit-used', String(reply.rate.used));
  h.set('x-ratelimit-resource', 'core');
  h.set('x-github-request-id', reply.requestId);
  h.set('x-content-type-options', 'nosniff');
  return h;
}

export function json(
  reply: Reply,
  status: number,
  body: unknown,
  extra?: Record<string, string>,
): Response {
  const headers = ghesHeaders(reply, true);
  for (const [k, v] of Object.entries(extra ?? {})) headers.set(k, v);
  return new Response(JSON.stringify(body), { status, headers });
}

export function noContent(reply: Reply): Response {
  return new Response(null, { status: 204, headers: ghesHeaders(reply, false) });
}

/** GHES answers 404 for unknown routes, unknown clients and invalid tokens alike. */
export function notFound(reply: Reply): Response {
  return json(reply, 404, { message: 'Not Found', documentation_url: reply.docsUrl });
}

export function badCredentials(reply: Reply): Response {
  return json(reply, 401, {
    message: 'Bad credentials',
    documentation_url: docsBase(reply.version),
  });
}

export function requiresAuthentication(reply: Reply): Response {
  return json(reply, 401, { message: 'Requires authentication', documentation_url: reply.docsUrl });
}

export function problemsParsingJson(reply: Reply): Response {
  return json(reply, 400, { message: 'Problems parsing JSON', documentation_url: reply.docsUrl });
}

/** Schema-level rejection, in GitHub's "Invalid request.\n\n…" form. */
export function invalidRequest(reply: Reply, detail: string): Response {
  return json(reply, 422, {
    message: `Invalid request.\n\n${detail}`,
    documentation_url: reply.docsUrl,
  });
}

export interface FieldError {
  resource: string;
  field: string;
  code: string;
  message?: string;
}

/** Semantic rejection, in GitHub's "Validation Failed" form with an `errors` list. */
export function validationFailed(reply: Reply, errors: FieldError[]): Response {
  return json(reply, 422, {
    message: 'Validation Failed',
    errors,
    documentation_url: reply.docsUrl,
  });
}

export function unsupportedApiVersion(reply: Reply, requested: string): Response {
  return json(reply, 400, {
    message: `API version ${requested} is not supported.`,
    documentation_url: `${docsBase(reply.version)}/overview/api-versions`,
  });
}

const REASONS: Readonly<Record<number, string>> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function reason(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Error');
}

const RATE_DOCS = 'using-the-rest-api/rate-limits-for-the-rest-api';

/** How far a generated (`body_bytes`) answer was read: what a bounded reader must leave unread. */
export interface BodyStream {
  /** Bytes the fault would send in all. */
  readonly size: number;
  /** Bytes handed to the reader so far. */
  sent: number;
  /** The reader cancelled the stream (rather than reading it to the end). */
  cancelled: boolean;
}

const CHUNK_BYTES = 64 * 1024;
const FILLER_PREFIX = new TextEncoder().encode('{"filler":"');

/** `size` bytes made as the reader pulls, one chunk at a time: memory stays at one chunk. */
function generatedBody(size: number, track: BodyStream[]): ReadableStream<Uint8Array> {
  const stats: BodyStream = { size, sent: 0, cancelled: false };
  track.push(stats);
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const n = Math.min(CHUNK_BYTES, size - stats.sent);
        const chunk = new Uint8Array(n).fill(0x78); // "x"
        if (stats.sent === 0) chunk.set(FILLER_PREFIX.subarray(0, n));
        stats.sent += n;
        controller.enqueue(chunk);
        if (stats.sent >= size) controller.close();
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
}

function rawBodyResponse(
  status: number,
  body: FaultBody,
  contentType: string | undefined,
  extra: Record<string, string>,
  track: BodyStream[],
): Response {
  const headers = { 'content-type': contentType ?? 'application/json; charset=utf-8', ...extra };
  const payload = 'text' in body ? body.text : generatedBody(body.bytes, track);
  return new Response(payload, { status, headers });
}

/** The answer of a `status` (or `commit_then_fail` with a status) fault. */
export function faultResponse(
  reply: Reply,
  effect: Extract<FaultEffect, { kind: 'status' }>,
  track: BodyStream[] = [],
): Response {
  const { status, retryAfter } = effect;
  const extra: Record<string, string> =
    retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {};
  if (effect.body !== undefined)
    return rawBodyResponse(status, effect.body, effect.contentType, extra, track);
  if (effect.location !== undefined) {
    const headers = ghesHeaders(reply, false);
    headers.set('location', effect.location);
    return new Response(null, { status, headers });
  }
  if (effect.rateLimit === 'primary') {
    // Primary limit: GitHub zeroes x-ratelimit-remaining and points x-ratelimit-reset at the
    // end of the wait; clients are told to wait until then.
    const reset = Math.ceil(reply.now / 1000) + (retryAfter ?? 60);
    return json(
      { ...reply, rate: { ...reply.rate, remaining: 0, used: reply.rate.limit, reset } },
      status,
      {
        message: 'API rate limit exceeded.',
        documentation_url: `${docsBase(reply.version)}/${RATE_DOCS}#about-primary-rate-limits`,
      },
      extra,
    );
  }
  if (effect.rateLimit === 'secondary') {
    return json(
      reply,
      status,
      {
        message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${reply.requestId}.`,
        documentation_url: `${docsBase(reply.version)}/${RATE_DOCS}#about-secondary-rate-limits`,
      },
      extra,
    );
  }
  if (status === 502 || status === 503 || status === 504) {
    // Answered by the appliance's front-end proxy, not by the Rails app behind it.
    const text = `${status} ${reason(status)}`;
    return new Response(
      `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
      { status, headers: { 'content-type': 'text/html', ...extra } },
    );
  }
  const message = status === 500 ? 'Server Error' : reason(status);
  return json(reply, status, { message, documentation_url: reply.docsUrl }, extra);
}
