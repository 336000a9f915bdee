/**
 * The lean pipeline: the hot routes' commonest answer — an allowed forward auth, an introspection
 * — given without Hono when everything it needs is already in this isolate's memory (the caller's
 * JWT verified, the token's cache key and its fresh L1 entry). Every other request goes to the
 * app, unchanged (its body, if read here, handed on as the same text).
 *
 * Why: an L1 hit's cost is the runtime objects and calls it makes, not its JavaScript
 * (docs/performance.md, fourth pass): Hono's Context, its request wrapper, the middleware chain's
 * promises and the headers set one by one were most of it. Here an answer is one pass with no
 * promise (forward auth) or one (the form body), its headers built at once.
 *
 * Not a second implementation: each step is the function the app's route calls for it (caller
 * lookup, app policy, the route's own question and answer, the audit line), and
 * test/routes/lean.test.ts checks, over generated requests, that the lean pipeline and the app
 * give the same answer and the same log line. Anything unexpected — a throw included — hands the
 * request to the app, which gives the authoritative answer.
 */
import type { Caller } from '../auth/caller';
import { isReusableRequestId } from '../lib/request-id';
import { isMediaType } from '../lib/media-type';
import type { AuditedRequest, AuditFields } from '../middleware/audit';
import { plainlyClean } from '../middleware/token-in-query';
import { FORM_TYPE } from './api';

/** What a lean answer reads and fills in (each read once from the request: each is a runtime call). */
export interface LeanRequest {
  readonly url: string;
  readonly headers: Headers;
  readonly caller: Caller;
  readonly requestId: string;
  /** The request's audit fields, as the app's routes fill them in. */
  readonly audit: AuditFields;
  /** The urlencoded body's text, for a route that reads a form. */
  readonly form: string | undefined;
}

/** One hot route's lean answer. */
export interface LeanRoute {
  /** The route pattern the audit line names (what Hono's `routePath` gives for it). */
  readonly route: string;
  /** Only this method (else any). */
  readonly method?: string;
  /** Reads an `application/x-www-form-urlencoded` body of a declared length up to this. */
  readonly formMaxBytes?: number;
  /** The caller, when the route's caller auth would find it without verifying anything. */
  caller(headers: Headers): Caller | undefined;
  /**
   * A 200 answer, or undefined (or a throw) to hand the request to the app: the lean pipeline
   * gives only the allowed and active answers, and logs them as 200 without asking the Response.
   */
  answer(request: LeanRequest): Response | undefined;
}

export interface LeanOptions {
  now: () => number;
  /** Writes the request's one audit line (src/middleware/audit.ts `auditWriter`). */
  write: (request: AuditedRequest) => void;
}

/** A lean answer, or the request for the app: the same one, or one rebuilt with its body. */
export type LeanResult = Response | Request;

/**
 * The pipeline for one route. A query that is not plainly free of credentials goes to the app,
 * which refuses or admits it (src/middleware/token-in-query.ts).
 */
export function leanPipeline(
  route: LeanRoute,
  options: LeanOptions,
): (request: Request, url: string, query: string) => LeanResult | Promise<LeanResult> {
  const { now, write } = options;
  const { formMaxBytes } = route;

  function answer(
    started: number,
    url: string,
    method: string,
    headers: Headers,
    caller: Caller,
    form?: string,
  ): Response | undefined {
    const incoming = headers.get('x-request-id') ?? undefined;
    // As the app's request context does: an incoming id is reused only if plainly an id.
    const requestId = isReusableRequestId(incoming) ? incoming : crypto.randomUUID();
    const audit: AuditFields = {};
    let res: Response | undefined;
    try {
      res = route.answer({ url, headers, caller, requestId, audit, form });
    } catch {
      // The app answers it, and logs whatever went wrong.
      return undefined;
    }
    if (res !== undefined)
      write({
        requestId,
        method,
        route: route.route,
        status: 200,
        caller: caller.sub,
        fields: audit,
        failure: undefined,
        started,
      });
    return res;
  }

  return function lean(request, url, query) {
    const method = request.method;
    if (route.method !== undefined && method !== route.method) return request;
    if (query !== '' && !plainlyClean(query)) return request;
    const started = now();
    const headers = request.headers;
    const caller = route.caller(headers);
    if (caller === undefined) return request;
    if (formMaxBytes === undefined) return answer(started, url, method, headers, caller) ?? request;
    // Only a body of a declared length within the limit is read here; the app refuses or reads
    // any other (src/middleware/body-limit.ts), and it is never read twice.
    const declared = headers.get('content-length');
    const body = request.body;
    if (
      body === null ||
      declared === null ||
      !(Number(declared) <= formMaxBytes) ||
      headers.has('transfer-encoding') ||
      !isMediaType(headers.get('content-type') ?? undefined, FORM_TYPE)
    )
      return request;
    // As the app's form reader decodes it (src/routes/api.ts): a Response without a type.
    return new Response(body).text().then(
      (text) => {
        const res = answer(started, url, method, headers, caller, text);
        return res ?? new Request(request, { body: BOM + text });
      },
      // The body could not be read (the client went away): the app meets the same failure
      // reading it, and answers and logs it as it does any.
      (e: unknown) => new Request(request, { body: failing(e) }),
    );
  };
}

/**
 * A byte-order mark in front: UTF-8 decoding drops one, so the app decodes exactly `text` again.
 */
const BOM = '\uFEFF';

/** A body whose first read fails with `reason`. */
function failing(reason: unknown): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      controller.error(reason);
    },
  });
}
