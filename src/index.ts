/**
 * Worker entry. The config is parsed and the app built once per isolate (per `env` object), not
 * per request; a misconfiguration answers every request with a 500 `misconfigured` problem that
 * names no value, and logs what is wrong.
 */
import { getPath } from 'hono/utils/url';
import { createApp, createHotApp, isHotPath, type LeanDispatch } from './app';
import { createAccessKeySet } from './auth/access';
import { createCallerKeySet } from './auth/keys';
import { DeliveryLog } from './cache/deliveries';
import { TokenCache } from './cache/token-cache';
import { parseConfig } from './config/parse';
import type { Bindings } from './config/types';
import type { GatewayDeps } from './context';
import { ConfigurationError, GatewayError, errorName, problemResponse } from './lib/errors';
import { CircuitBreaker } from './ghes/breaker';
import { createGhesClient } from './ghes/client';
import { createAuthorizationsClient } from './ghes/authorizations/client';
import { CredentialHealth } from './ghes/credential-health';
import { systemClock, type Clock } from './lib/clock';
import { consoleLogger, type Logger } from './lib/log';
import { err, ok, type Result } from './lib/result';
import { AuthorizationsService } from './tokens/authorizations';
import { TokenService } from './tokens/service';

type GatewayFetch = (
  req: Request,
  env: Bindings,
  ctx: ExecutionContext,
) => Response | Promise<Response>;

/** The gateway's fetch, or the configuration errors (they name settings, never values). */
type Built = Result<GatewayFetch, string[]>;

export interface BuildOptions {
  fetch?: typeof fetch;
  /** Every clock read and timer of the gateway; the real clock when left out. */
  clock?: Clock;
  log?: Logger;
}

/** Builds the gateway for one `env`. Exported for tests, which inject fetch, clock and logger. */
export function buildGateway(env: Bindings, options: BuildOptions = {}): Built {
  const deps = gatewayDeps(env, options);
  if (!deps.ok) return deps;
  const log = deps.value.log;
  try {
    const hot = createHotApp(deps.value);
    return ok(
      hotPathsFirst(
        { fetch: hot.app.fetch, lean: hot.lean },
        () => createApp(deps.value).fetch,
        log,
      ),
    );
  } catch (e) {
    return err(buildErrors(e));
  }
}

/**
 * What every route group is built from, for one `env`: the parsed config and the services over
 * it. Exported for tests that build the apps themselves (test/app/hot-app.test.ts).
 */
export function gatewayDeps(
  env: Bindings,
  options: BuildOptions = {},
): Result<GatewayDeps, string[]> {
  const parsed = parseConfig(env);
  if (!parsed.ok) return parsed;
  const config = parsed.value;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? consoleLogger(clock);
  const outbound =
    options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  try {
    const credentialHealth = new CredentialHealth({
      threshold: config.ghes.credentialSuspectAfter404s,
      log,
    });
    const cache = new TokenCache({
      kv: env.TOKEN_CACHE,
      pepper: config.cache.pepper,
      positiveTtlS: config.cache.positiveTtlS,
      negativeTtlS: config.cache.negativeTtlS,
      l1MaxEntries: config.cache.l1MaxEntries,
      staleIfErrorS: config.cache.staleIfErrorS,
      log,
      clock,
      // Waiters on a shared GHES check give up only after the check itself must have ended.
      coalesceTimeoutMs: config.ghes.deadlineMs + 1000,
      negativeCachingAllowed: (app) => credentialHealth.negativeCachingAllowed(app.name),
    });
    const breaker = new CircuitBreaker(config.ghes.breaker);
    const { ghes } = config;
    const contextFor = (requestId: string, onCall: (ms: number) => void) => ({
      baseUrl: ghes.baseUrl,
      webUrl: ghes.webUrl,
      fetch: outbound,
      timeoutMs: ghes.timeoutMs,
      deadlineMs: ghes.deadlineMs,
      maxResponseBytes: ghes.maxResponseBytes,
      log,
      clock,
      breaker,
      requestId,
      onCall,
    });
    const ghesFor = (requestId: string, onCall: (ms: number) => void) =>
      createGhesClient({
        version: ghes.version,
        style: config.ghes.apiStyle,
        context: contextFor(requestId, onCall),
      });
    return ok({
      config,
      clock,
      log,
      callerKeySet: createCallerKeySet(config.caller, { fetch: outbound, log, clock }),
      accessKeySet:
        config.caller.access !== undefined
          ? createAccessKeySet(config.caller.access, { fetch: outbound, log, clock })
          : undefined,
      tokens: new TokenService({ cache, credentialHealth, ghesFor }),
      authorizations: new AuthorizationsService({
        cache,
        ghesFor: (requestId, onCall) => createAuthorizationsClient(contextFor(requestId, onCall)),
      }),
      deliveries: new DeliveryLog({ kv: env.TOKEN_CACHE, clock, log }),
    });
  } catch (e) {
    return err(buildErrors(e));
  }
}

/**
 * Factories check their options when built (e.g. a symmetric key in CALLER_JWKS) and say so with
 * a ConfigurationError; any other throw is a bug, named by its class only.
 */
function buildErrors(e: unknown): string[] {
  if (e instanceof ConfigurationError) return [e.message];
  return [`the gateway could not be built (${errorName(e)})`];
}

/**
 * The gateway's fetch: the hot paths (introspection, forward auth, health) from `hot`, an app of
 * their route groups alone; every other path from the whole app, built by `buildRest` when the
 * first such request comes. A new isolate's first answer is nearly always a hot one, and building
 * the other groups (route inserts, their middleware, the router's compile) was a third of it
 * (docs/performance.md, cold start). The whole app has the hot routes too: its 405 table and its
 * document name every route. Should building it fail (a factory's own option check), those
 * requests are answered as a misconfigured gateway's, and the hot paths go on. Exported for tests.
 */
export function hotPathsFirst(
  hot: { fetch: GatewayFetch; lean?: LeanDispatch },
  buildRest: () => GatewayFetch,
  log: Logger,
): GatewayFetch {
  let rest: Built | undefined;
  const { fetch: app, lean } = hot;
  return function gateway(request, env, ctx) {
    // The URL read once (each read is a call into the runtime); Hono's getPath reads only `url`.
    const url = request.url;
    const path = getPath({ url } as Request);
    if (isHotPath(path)) {
      if (lean === undefined) return app(request, env, ctx);
      // The lean answer, else the app, with the request the lean pipeline hands back.
      const leaned = lean(request, url, path);
      if (leaned instanceof Response) return leaned;
      if (leaned instanceof Request) return app(leaned, env, ctx);
      return leaned.then((r) => (r instanceof Response ? r : app(r, env, ctx)));
    }
    if (rest === undefined) {
      try {
        rest = ok(buildRest());
      } catch (e) {
        rest = err(buildErrors(e));
        log({ level: 'error', event: 'config.invalid', errors: rest.error });
      }
    }
    return rest.ok ? rest.value(request, env, ctx) : misconfigured(request, rest.error, log);
  };
}

/**
 * Every request to a gateway that could not be built: a 500 problem that names no value, and
 * the request's one log line, which carries the configuration errors (they name variables,
 * never their values).
 */
function misconfigured(request: Request, errors: string[], log: Logger): Response {
  const requestId = crypto.randomUUID();
  log({
    level: 'error',
    event: 'request',
    request_id: requestId,
    method: request.method,
    status: 500,
    error_code: 'misconfigured',
    outcome: 'misconfigured',
    errors,
  });
  const res = problemResponse(
    new GatewayError('misconfigured', {
      detail: 'The gateway configuration is invalid; operators can find the reason in the logs',
    }),
    requestId,
  );
  res.headers.set('x-request-id', requestId);
  return res;
}

/**
 * The Worker: builds the gateway once per `env` object (per isolate). Tests pass their clock,
 * fetch and logger; the deployed Worker runs on the real ones.
 */
export function createWorker(
  options: BuildOptions = {},
): Required<Pick<ExportedHandler<Bindings>, 'fetch'>> {
  const built = new WeakMap<object, Built>();
  const log = options.log ?? consoleLogger(options.clock ?? systemClock);
  return {
    fetch(request, env, ctx) {
      let gateway = built.get(env);
      if (gateway === undefined) {
        gateway = buildGateway(env, { ...options, log });
        built.set(env, gateway);
        if (!gateway.ok) log({ level: 'error', event: 'config.invalid', errors: gateway.error });
      }
      if (!gateway.ok) return misconfigured(request, gateway.error, log);
      return gateway.value(request, env, ctx);
    },
  };
}

export default createWorker();
