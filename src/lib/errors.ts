/**
 * One error type with a stable code. Everything that can go wrong on the wire is one of these
 * codes; `onError` (src/app.ts) turns it into an RFC 9457 problem through `problemFor`.
 *
 * `detail` is written for the caller and must never contain a token, secret or upstream body.
 * `reason` is for operators: it is logged, never returned.
 */

export const ERROR_CODES = [
  'unauthorized',
  'invalid-token',
  'forbidden',
  'insufficient-scope',
  'not-found',
  'unknown-app',
  'method-not-allowed',
  'invalid-request',
  'token-in-query',
  'validation-failed',
  'payload-too-large',
  'unsupported-media-type',
  'not-acceptable',
  'unsupported-operation',
  'token-not-found',
  'authorizations-disabled',
  'authorization-not-found',
  'user-credentials-rejected',
  'user-otp-required',
  'user-forbidden',
  'upstream-validation-failed',
  'upstream-credentials-rejected',
  'upstream-rate-limited',
  'upstream-timeout',
  'upstream-error',
  'upstream-unavailable',
  'upstream-outcome-unknown',
  'code-invalid',
  'redirect-uri-mismatch',
  'refresh-token-invalid',
  'grant-type-unsupported',
  'caller-keys-unavailable',
  'rate-limited',
  'webhook-signature-invalid',
  'webhook-not-replicated',
  'misconfigured',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface GatewayErrorOptions {
  /** Safe, caller-facing explanation. Defaults to the code's title. */
  detail?: string;
  /** Operator-facing reason; logged, never sent. Must not contain secrets either. */
  reason?: string;
  /** Extra response headers (Retry-After, x-ratelimit-*, WWW-Authenticate …). */
  headers?: Record<string, string>;
  /** Extra RFC 9457 extension members (e.g. `errors` for field-level validation). */
  extensions?: Record<string, unknown>;
  /** HTTP status GHES answered with, for the audit log. */
  upstreamStatus?: number;
  /**
   * GHES may have carried the request out although the call failed: an attempt's outcome is
   * unknown (a 5xx, a lost connection, a timeout, an unreadable 2xx), possibly followed by a
   * later refusal (a 429 on the retry). Set by src/ghes/request.ts; read by src/tokens/.
   */
  mayHaveApplied?: boolean;
  cause?: unknown;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly reason: string | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;
  readonly upstreamStatus: number | undefined;
  readonly mayHaveApplied: boolean;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    super(options.reason ?? options.detail ?? code, { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
    this.reason = options.reason;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
    this.upstreamStatus = options.upstreamStatus;
    this.mayHaveApplied = options.mayHaveApplied ?? false;
  }
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}

interface ProblemShape {
  status: number;
  title: string;
}

/**
 * The code → status/title table. An exhaustive switch so that adding a code without deciding
 * its wire form fails type-checking.
 */
export function problemShape(code: ErrorCode): ProblemShape {
  switch (code) {
    case 'unauthorized':
      return { status: 401, title: 'Caller authentication required' };
    case 'invalid-token':
      return { status: 401, title: 'GitHub token not active' };
    case 'forbidden':
      return { status: 403, title: 'Caller not allowed' };
    case 'insufficient-scope':
      return { status: 403, title: 'Token lacks a required scope' };
    case 'not-found':
      return { status: 404, title: 'No such route' };
    case 'unknown-app':
      return { status: 404, title: 'Unknown app' };
    case 'method-not-allowed':
      return { status: 405, title: 'Method not allowed' };
    case 'invalid-request':
      return { status: 400, title: 'Malformed request' };
    case 'token-in-query':
      return { status: 400, title: 'Credential in the query string' };
    case 'validation-failed':
      return { status: 422, title: 'Request failed validation' };
    case 'payload-too-large':
      return { status: 413, title: 'Request body too large' };
    case 'unsupported-media-type':
      return { status: 415, title: 'Unsupported media type' };
    case 'not-acceptable':
      return { status: 406, title: 'Not acceptable' };
    case 'unsupported-operation':
      return { status: 422, title: 'Operation not supported for this app or GHES version' };
    case 'token-not-found':
      return { status: 404, title: 'Token not found' };
    case 'authorizations-disabled':
      return { status: 404, title: 'The Authorizations API is not enabled for this app' };
    case 'authorization-not-found':
      return { status: 404, title: 'Authorization or grant not found' };
    case 'user-credentials-rejected':
      return { status: 401, title: 'GHES rejected the user credentials' };
    case 'user-otp-required':
      return { status: 401, title: 'GHES requires a two-factor code (X-GitHub-OTP)' };
    case 'user-forbidden':
      return { status: 403, title: 'GHES refused the user' };
    case 'upstream-validation-failed':
      return { status: 422, title: 'GHES rejected the request' };
    case 'upstream-credentials-rejected':
      return { status: 502, title: 'GHES rejected the gateway credentials' };
    case 'upstream-rate-limited':
      return { status: 429, title: 'GHES rate limit reached' };
    case 'upstream-timeout':
      return { status: 504, title: 'GHES did not answer in time' };
    case 'upstream-error':
      return { status: 502, title: 'GHES failed' };
    case 'upstream-unavailable':
      return { status: 503, title: 'GHES unavailable' };
    case 'upstream-outcome-unknown':
      return { status: 502, title: 'Outcome at GHES unknown' };
    case 'code-invalid':
      return { status: 400, title: 'Authorization code invalid, expired or already used' };
    case 'redirect-uri-mismatch':
      return { status: 400, title: "redirect_uri does not match the app's callback URL" };
    case 'refresh-token-invalid':
      return { status: 400, title: 'Refresh token invalid, expired or already used' };
    case 'grant-type-unsupported':
      return { status: 422, title: 'GHES does not offer this grant type for this app' };
    case 'caller-keys-unavailable':
      return { status: 503, title: 'Caller key set unavailable' };
    case 'rate-limited':
      return { status: 429, title: 'Too many requests' };
    case 'webhook-signature-invalid':
      return { status: 401, title: 'Webhook signature missing or invalid' };
    case 'webhook-not-replicated':
      return { status: 503, title: 'Revocation applied here only; redeliver the webhook' };
    case 'misconfigured':
      return { status: 500, title: 'Gateway misconfigured' };
    case 'internal':
      return { status: 500, title: 'Internal error' };
  }
}

export const PROBLEM_TYPE_PREFIX = 'urn:ghes-token-gateway:problem:';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  code: ErrorCode;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  [extension: string]: unknown;
}

/** RFC 9457 §3 body for an error. `requestId` lets operators find the matching log line. */
export function toProblem(err: GatewayError, requestId?: string): Problem {
  const { status, title } = problemShape(err.code);
  const problem: Problem = {
    ...err.extensions,
    type: PROBLEM_TYPE_PREFIX + err.code,
    code: err.code,
    title,
    status,
  };
  if (err.detail !== undefined) problem.detail = err.detail;
  if (requestId !== undefined) problem.request_id = requestId;
  return problem;
}

export function problemResponse(err: GatewayError, requestId?: string): Response {
  const problem = toProblem(err, requestId);
  const headers = new Headers(err.headers);
  headers.set('content-type', PROBLEM_CONTENT_TYPE);
  // Problems are about one request and may follow a credential-bearing attempt: never stored
  // (RFC 6749 §5.1 asks the same of token-endpoint errors).
  headers.set('cache-control', 'no-store');
  headers.set('pragma', 'no-cache');
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}

/**
 * The one way a factory reports a configuration it cannot be built with (a bad option, a bad
 * key set). Thrown while the gateway is built, never while a request runs: src/index.ts turns it
 * into the `misconfigured` answer and logs `message`, which names the setting, never its value.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';

  /** `where` names the setting or factory, e.g. `CALLER_JWKS.keys.0` or `bodyLimit`. */
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
  }
}

/**
 * What a log line may say of an unexpected error: its `code` when it has a string one (jose's
 * errors, whose class names do not survive the bundle: it keeps no function names, wrangler.toml
 * `keep_names`), else its name. Never its message, which might quote input.
 */
export function errorName(e: unknown): string {
  if (!(e instanceof Error)) return 'non-error';
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^ERR_[A-Z0-9_]{1,64}$/.test(code) ? code : e.name;
}
