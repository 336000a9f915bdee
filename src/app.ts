/**
 * createApp(): the whole gateway as one `Hono<AppEnv>`, built once per isolate from a
 * parsed config and its dependencies (src/index.ts). Data flows one way:
 * request → request id → caller auth → input validation → policy → cache → GHES → answer or problem.
 */
import type { Context, Hono } from 'hono';
import { HonoBase } from 'hono/hono-base';
import { PatternRouter } from 'hono/router/pattern-router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, GatewayDeps } from './context';
import { GatewayError, errorName, isGatewayError, problemResponse } from './lib/errors';
import { isReusableRequestId } from './lib/request-id';
import { echoable } from './lib/secret-shaped';
import { auditLog, auditWriter, type AuditLogOptions } from './middleware/audit';
import { leanPipeline, type LeanResult, type LeanRoute } from './routes/lean';
import { setResponseHeader } from './middleware/response-headers';
import { Api } from './routes/api';
import { queryOf, refuseTokenInQuery } from './middleware/token-in-query';
import { registerAuthorizationRoutes } from './routes/authorizations';
import { registerDocsRoutes } from './routes/docs';
import { registerDocumentRoute } from './routes/document-route';
import { FORWARD_AUTH_PATH, registerForwardAuthRoutes } from './routes/forward-auth';
import { registerHealthRoutes } from './routes/health';
import { registerIntrospectionRoutes } from './routes/introspect';
import { registerOAuthRoutes } from './routes/oauth';
import { registerTokenRoutes } from './routes/tokens';
import { registerWebhookRoutes } from './routes/webhooks';
import { registerWellKnownRoutes } from './routes/well-known';

/**
 * The paths the hot route groups answer (introspection, forward auth, health): almost every
 * request an isolate sees, and the first one after it starts. Matched against Hono's own routing
 * path (`getPath`), so a path it would route elsewhere is never taken for one of these.
 */
export function isHotPath(path: string): boolean {
  return (
    path === '/introspect' ||
    path === '/healthz' ||
    path === FORWARD_AUTH_PATH ||
    path.startsWith(`${FORWARD_AUTH_PATH}/`)
  );
}

/**
 * The gateway's app. `routes: 'hot'` builds only the groups that answer `isHotPath` paths, which
 * no other group's route or middleware matches (test/app/hot-app.test.ts compares both apps'
 * chains on those paths): src/index.ts answers them from it, so a new isolate's first answer does
 * not wait for every other group to be built (docs/performance.md, cold start).
 */
export function createApp(deps: GatewayDeps, routes: 'all' | 'hot' = 'all'): Hono<AppEnv> {
  return buildApp(deps, routes).app;
}

/**
 * Where a hot path's request goes first: its route's lean answer (src/routes/lean.ts), or back
 * (the same request, or one rebuilt with the body read) for the app. `url` is the request's,
 * `path` Hono's routing path of it (an `isHotPath` one).
 */
export type LeanDispatch = (
  request: Request,
  url: string,
  path: string,
) => LeanResult | Promise<LeanResult>;

/** The hot app (`createApp(deps, 'hot')`) and the lean dispatch in front of it. */
export function createHotApp(deps: GatewayDeps): { app: Hono<AppEnv>; lean: LeanDispatch } {
  const { app, lean } = buildApp(deps, 'hot');
  const audit = auditOptions(deps);
  // Only the lines of answers it gave: the lean pipeline answers no error.
  const options = { now: audit.now, write: auditWriter(audit) };
  const introspect = lean.introspect && leanPipeline(lean.introspect, options);
  const forwardAuth = lean.forwardAuth && leanPipeline(lean.forwardAuth, options);
  return {
    app,
    lean(request, url, path) {
      const answer =
        path === '/introspect' ? introspect : path === '/healthz' ? undefined : forwardAuth;
      if (answer === undefined) return request;
      // The query as the app's token-in-query check reads it.
      return answer(request, url, queryOf(url));
    },
  };
}

/** The audit line's options, one set for the app's middleware and the lean pipeline. */
function auditOptions(deps: GatewayDeps): Omit<AuditLogOptions, 'answerError'> {
  return {
    log: deps.log,
    now: () => deps.clock.now(),
    // One Analytics Engine data point per request, from the audit record (issue 13 §5).
    metrics: deps.config.metrics,
    sampleHitsPercent: deps.config.logSampleHitsPercent,
  };
}

function buildApp(
  deps: GatewayDeps,
  routes: 'all' | 'hot',
): { app: Hono<AppEnv>; lean: { introspect?: LeanRoute; forwardAuth?: LeanRoute } } {
  // Hono's own class, with one router chosen per app rather than `hono`'s SmartRouter (which
  // would pick RegExpRouter for the whole table; SmartRouter and TrieRouter stay out of the
  // bundle). The whole app: RegExpRouter, one compiled matcher for ~40 routes (a route it could
  // not take fails every test at build). The hot app: PatternRouter, nothing to compile on a new
  // isolate's first request, and its handful of routes are matched only when the lean pipeline
  // hands a request on: the first answer 1.3 ms sooner, no hit slower (docs/performance.md).
  const app: Hono<AppEnv> = new HonoBase<AppEnv>({
    router: routes === 'hot' ? new PatternRouter() : new RegExpRouter(),
  });
  const api = new Api(app);

  app.use('*', async function requestContext(c, next) {
    // An incoming id is reused only if it is plainly an id with nothing token-shaped anywhere in
    // it (src/lib/request-id.ts): it is echoed and logged.
    const incoming = c.req.header('x-request-id');
    const requestId = isReusableRequestId(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', requestId);
    await next();
    setResponseHeader(c, 'x-request-id', requestId);
  });
  app.use('*', auditLog({ ...auditOptions(deps), answerError }));
  // A credential in the query string is refused on every route (issue 13 §6); after
  // auditLog, so that the refusal has its one request line (which logs no URL).
  app.use('*', refuseTokenInQuery());

  registerHealthRoutes(api);
  const lean: { introspect?: LeanRoute; forwardAuth?: LeanRoute } = {};
  if (routes === 'hot') {
    lean.introspect = registerIntrospectionRoutes(api, deps);
    lean.forwardAuth = registerForwardAuthRoutes(api, deps);
  } else {
    registerTokenRoutes(api, deps);
    // After the token routes: their /v1/* caller auth, body limit and no-store cover these.
    registerOAuthRoutes(api, deps);
    registerAuthorizationRoutes(api, deps);
    registerIntrospectionRoutes(api, deps);
    registerForwardAuthRoutes(api, deps);
    registerWellKnownRoutes(api, deps);
    // Public, like the document it renders.
    registerDocsRoutes(api);
    // Signed by GHES, not by a caller: outside /v1 and its caller auth.
    registerWebhookRoutes(api, deps);
    // Last: it documents every route above, and itself.
    registerDocumentRoute(api, deps.config.publicUrl);
  }

  // RFC 9110 §15.5.6: a path that exists under other methods is a 405 naming them in `Allow`.
  // Answered, not thrown: Hono calls the not-found handler outside every middleware's error
  // handling, so a throw here would unwind past the audit line and the request would go unlogged.
  const allowedMethods = methodsByPath(app.routes);
  app.notFound((c) => {
    const allow = allowedMethods(new URL(c.req.url).pathname);
    return answerError(
      allow.length > 0
        ? new GatewayError('method-not-allowed', {
            detail: `${echoable(c.req.method, 20)} is not allowed here; use ${allow.join(' or ')}`,
            headers: { allow: allow.join(', ') },
          })
        : new GatewayError('not-found', { detail: 'No route matches this method and path' }),
      c,
    );
  });

  /** Every failure becomes one problem answer; `failure` tells the audit line what went wrong. */
  function answerError(err: unknown, c: Context<AppEnv>): Response {
    const requestId = c.get('requestId');
    const gatewayError = toGatewayError(err);
    c.set('failure', gatewayError);
    if (gatewayError.code === 'internal' || gatewayError.code === 'misconfigured') {
      deps.log({
        level: 'error',
        event: 'request.error',
        request_id: requestId,
        code: gatewayError.code,
        // Only the error's class and our own reason: an arbitrary message might quote input.
        reason: gatewayError.reason ?? errorName(err),
      });
    }
    const res = problemResponse(gatewayError, requestId);
    if (requestId !== undefined) res.headers.set('x-request-id', requestId);
    return res;
  }
  app.onError(answerError);

  return { app, lean };
}

/**
 * The methods each route path answers, from Hono's route table (middleware, registered for every
 * method, is left out). Built lazily on the first unmatched request and kept.
 */
function methodsByPath(
  routes: readonly { path: string; method: string }[],
): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (path) => {
    table ??= routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(
          `^${r.path
            .split('/')
            .map((seg) =>
              seg.startsWith(':')
                ? '[^/]+'
                : seg === '*'
                  ? '.*'
                  : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
            )
            .join('/')}$`,
        ),
      }));
    const methods = new Set<string>();
    for (const route of table) if (route.pattern.test(path)) methods.add(route.method);
    return [...methods].sort();
  };
}

/** Anything thrown becomes a GatewayError; unknown errors are `internal` and say nothing more. */
function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  if (err instanceof HTTPException) {
    // Hono's validators throw 400 for malformed JSON or form bodies.
    if (err.status === 400)
      return new GatewayError('invalid-request', {
        detail: 'The request body is not well-formed',
        cause: err,
      });
    if (err.status === 413) return new GatewayError('payload-too-large', { cause: err });
  }
  return new GatewayError('internal', {
    detail: 'The gateway failed unexpectedly; the request id identifies it in the logs',
    reason: err instanceof Error ? `${errorName(err)}: unexpected error` : 'non-error thrown',
    cause: err,
  });
}
