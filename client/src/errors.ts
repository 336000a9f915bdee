/**
 * What a failed call throws. An RFC 9457 problem from the gateway is a GatewayProblem carrying the
 * gateway's stable `code`; anything else (the network failed, a proxy answered HTML, a redirect,
 * a body that is not JSON) is a GatewayTransportError. Neither ever holds a token: a problem is
 * the gateway's own answer, which never echoes one.
 */
import type { paths } from './schema.gen.js';

/** The gateway's problem body (its Problem schema), taken from a path: paths are stable. */
export type ProblemBody =
  paths['/v1/apps/{app}/token/check']['post']['responses'][401]['content']['application/problem+json'];

/** The gateway's stable problem codes (the `code` enum of its Problem schema). */
export type ProblemCode = ProblemBody['code'];

/** RFC 9457 §3 media type; parameters (`; charset=utf-8`) are allowed. */
const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export class GatewayProblem extends Error {
  override readonly name = 'GatewayProblem';
  /**
   * The stable code. A gateway newer than this client may send one it does not list: it is kept
   * verbatim; regenerate the client (`npm run client:generate`) to type it.
   */
  readonly code: ProblemCode;
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly detail: string | undefined;
  /** The gateway's request id (body, else `X-Request-Id`): quote it when asking about a call. */
  readonly request_id: string | undefined;
  /** Which fields failed validation (`validation-failed`, `invalid-request`). */
  readonly errors: ProblemBody['errors'];
  /** Seconds from `Retry-After` (429, 503), when the gateway sent one. */
  readonly retryAfterS: number | undefined;
  /** The whole body, extensions included (`credential`, `missing_scopes`, `upstream_code` …). */
  readonly problem: ProblemBody & Record<string, unknown>;

  constructor(problem: ProblemBody & Record<string, unknown>, response: Response) {
    super(
      `${problem.status} ${problem.code}${problem.detail !== undefined ? `: ${problem.detail}` : ''}`,
    );
    this.problem = problem;
    this.code = problem.code;
    this.status = problem.status;
    this.title = problem.title;
    this.type = problem.type;
    this.detail = problem.detail;
    this.errors = problem.errors;
    this.request_id = problem.request_id ?? response.headers.get('x-request-id') ?? undefined;
    this.retryAfterS = retryAfter(response.headers.get('retry-after'));
  }
}

export type TransportFailure =
  /** fetch itself threw: DNS, connection, TLS, an aborted signal. */
  | 'network'
  /** An answer that is not the gateway's: a non-problem error, a redirect, a body not JSON. */
  | 'unexpected-response';

export class GatewayTransportError extends Error {
  override readonly name = 'GatewayTransportError';
  readonly failure: TransportFailure;
  /** The HTTP status, when there was an answer. */
  readonly status: number | undefined;
  readonly request_id: string | undefined;

  constructor(
    failure: TransportFailure,
    message: string,
    options: { response?: Response; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.failure = failure;
    this.status = options.response?.status;
    this.request_id = options.response?.headers.get('x-request-id') ?? undefined;
  }
}

/** A GatewayProblem when `body` (already parsed) is the gateway's problem answer. */
export function problemFrom(body: unknown, response: Response): GatewayProblem | undefined {
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim();
  if (mediaType?.toLowerCase() !== PROBLEM_MEDIA_TYPE) return undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const p = body as Record<string, unknown>;
  if (typeof p['code'] !== 'string' || typeof p['status'] !== 'number') return undefined;
  if (typeof p['title'] !== 'string' || typeof p['type'] !== 'string') return undefined;
  return new GatewayProblem(p as ProblemBody & Record<string, unknown>, response);
}

/** What an answer that is not 2xx throws: its problem, or a transport error naming the status. */
export function failureFrom(
  body: unknown,
  response: Response,
): GatewayProblem | GatewayTransportError {
  return (
    problemFrom(body, response) ??
    new GatewayTransportError(
      'unexpected-response',
      `the gateway answered ${response.status} without a problem body`,
      { response },
    )
  );
}

/** RFC 9110 §10.2.3: delay-seconds (an HTTP-date is left out: the gateway sends seconds). */
function retryAfter(value: string | null): number | undefined {
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}
