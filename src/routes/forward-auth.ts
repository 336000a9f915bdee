/**
 * Forward auth for API gateways: `/forward-auth` and every path under it, any method (Envoy's
 * ext_authz HTTP service puts the original method and path after its `path_prefix`; nginx
 * `auth_request` and Traefik `forwardAuth` call a fixed URL).
 *
 *   X-Gateway-Authorization: Bearer <caller JWT>   the API gateway, as a caller
 *   Authorization: Bearer <GitHub token>            the end user (or `token <GitHub token>`)
 *   ?app=<name>                                     which app checks it (default: the caller's)
 *   ?scope=repo&scope=read:org                      scopes the token must have (optional)
 *
 * Answers (what nginx `auth_request` makes of each: 2xx allows; 401 and 403 go to the client;
 * anything else becomes 500, which also denies):
 *   200  allowed, empty body, X-Auth-User / -User-Id / -Scopes / -Token-Expires, the app that
 *        vouched (X-Auth-App, X-Auth-Client-Id), and
 *        `Cache-Control: private, max-age=N` with N ≤ the cache entry's remaining freshness
 *   401  end-user token missing, malformed, unknown, expired or revoked (`realm="GitHub"`), or
 *        the gateway's own credential failed (`realm="ghes-token-gateway"`, `credential: "gateway"`)
 *   403  a required scope is missing (`insufficient-scope`), or the caller's policy forbids the
 *        app or forward auth (`forbidden`, `credential: "gateway"`; an unconfigured app is 404
 *        `unknown-app`, marked the same way)
 *   400  a malformed `app` or `scope` parameter: a gateway misconfiguration, denied
 *   503  GHES could not answer: fail closed
 *
 * Trust boundary: `Authorization` holds the end user's token. It is parsed, used for the cache
 * key and the GHES check, and never logged (the audit line records the route pattern, not the
 * URL, and no header), echoed or stored. Only `X-Gateway-Authorization` authenticates the caller.
 */
import type { MiddlewareHandler } from 'hono';
import { getQueryParams } from 'hono/utils/url';
import type { AppEnv, GatewayDeps } from '../context';
import { callerAuth, callerAuthOptions } from '../auth/caller-auth';
import { configuredGhesCheckBudget } from '../middleware/rate-limit';
import { couldBeAppToken } from '../ghes/token-format';
import { GatewayError, isGatewayError } from '../lib/errors';
import { failClosed } from '../introspection/fail-closed';
import {
  endUserChallenge,
  forwardDecision,
  insufficientScopeChallenge,
  parseEndUserCredentials,
  parseRequiredScopes,
} from '../introspection/forward-auth';
import { APP_NAME_PATTERN } from '../config/types';
import type { Api } from './api';
import { FORWARD_AUTH_PATH, forwardAuthDocs } from './forward-auth-docs';
import { callerApp, checkThroughCache } from './common';
import type { LeanRoute } from './lean';
import type { Caller } from '../auth/caller';
import type { CheckOutcome } from '../cache/token-cache';
import type { AppConfig } from '../config/types';
import type { AuditFields } from '../middleware/audit';
import { setResponseHeader } from '../middleware/response-headers';

export { FORWARD_AUTH_PATH };

/** 401 for the end user: the body says which credential failed, the challenge names GitHub's realm. */
function endUserDenied(reason: 'missing' | 'malformed' | 'inactive'): GatewayError {
  const detail = {
    missing: 'No GitHub token: send Authorization: Bearer <token>',
    malformed: 'The Authorization header is not "Bearer <GitHub token>" or "token <GitHub token>"',
    inactive: 'The GitHub token is not active (unknown, expired or revoked)',
  }[reason];
  return new GatewayError('invalid-token', {
    detail,
    reason: `end-user token ${reason}`,
    headers: { 'www-authenticate': endUserChallenge(reason) },
    extensions: { credential: 'end_user' },
  });
}

/**
 * The API gateway's credential (X-Gateway-Authorization) or policy failed. Same status as
 * callerAuth gives (401, or 403 for a caller without a policy), marked so the body and the audit
 * line tell it apart from an end user's bad token.
 */
function gatewayCredentialFailure(e: GatewayError): GatewayError {
  return new GatewayError(e.code, {
    detail: `X-Gateway-Authorization: ${e.detail ?? 'caller credentials rejected'}`,
    ...(e.reason !== undefined && { reason: `gateway credential: ${e.reason}` }),
    headers: e.headers,
    extensions: { ...e.extensions, credential: 'gateway' },
    cause: e,
  });
}

/**
 * The caller's policy or the gateway's configuration refused the app (403 `forbidden`, 404
 * `unknown-app`): marked `credential: "gateway"` like a refused caller JWT, so that neither the
 * body nor the audit line passes it off as the end user's fault.
 */
function gatewaySide<T>(audit: AuditFields, resolve: () => T): T {
  try {
    return resolve();
  } catch (e) {
    if (!isGatewayError(e) || (e.code !== 'forbidden' && e.code !== 'unknown-app')) throw e;
    audit.outcome = 'gateway_credential_rejected';
    throw new GatewayError(e.code, {
      ...(e.detail !== undefined && { detail: e.detail }),
      ...(e.reason !== undefined && { reason: `gateway policy: ${e.reason}` }),
      headers: e.headers,
      extensions: { ...e.extensions, credential: 'gateway' },
      cause: e,
    });
  }
}

function queryOnce(query: Record<string, string[]>, name: string): string | undefined {
  const values = query[name] ?? [];
  // A second value may have been appended by the end user (Envoy passes the original query on).
  if (values.length > 1)
    throw new GatewayError('invalid-request', {
      detail: `query.${name} must not be given more than once`,
    });
  return values[0];
}

/** What a forward-auth request asks: which app checks which token, for which scopes. */
interface ForwardAuthQuestion {
  app: AppConfig;
  required: readonly string[];
  token: string;
}

/**
 * The request's question, from its query and headers; throws the route's denials (a bad
 * parameter, the app refused, no usable end-user token). Used by the route and its lean answer.
 */
function askedBy(
  deps: GatewayDeps,
  audit: AuditFields,
  caller: Caller,
  query: Record<string, string[]>,
  requestHeaders: Headers,
): ForwardAuthQuestion {
  // The gateway's own parameters first: a bad one is a configuration error, denied as such.
  // Envoy appends the client's own query string to its path_prefix, so there the end user
  // controls `?app=` and `?scope=`. X-Forward-Auth-App / X-Forward-Auth-Scope are set by the
  // API gateway's own config (Envoy headers_to_add, Traefik/nginx proxy_set_header): the header
  // app wins and a different query app is refused; header scopes are always required, and the
  // query can only add more, never remove one.
  const queryApp = queryOnce(query, 'app');
  const headerApp = requestHeaders.get('x-forward-auth-app') ?? undefined;
  for (const [where, value] of [
    ['query.app', queryApp],
    ['header x-forward-auth-app', headerApp],
  ] as const) {
    if (value !== undefined && value !== '' && !APP_NAME_PATTERN.test(value))
      throw new GatewayError('invalid-request', { detail: `${where} is not an app name` });
  }
  if (
    headerApp !== undefined &&
    headerApp !== '' &&
    queryApp !== undefined &&
    queryApp !== '' &&
    queryApp !== headerApp
  )
    throw new GatewayError('invalid-request', {
      detail: 'query.app conflicts with the X-Forward-Auth-App header',
    });
  const requested = headerApp !== undefined && headerApp !== '' ? headerApp : queryApp;
  const app = gatewaySide(audit, () => callerApp(audit, caller, deps, requested, 'forward_auth'));
  const headerScopes = requestHeaders.get('x-forward-auth-scope') ?? undefined;
  const required = parseRequiredScopes([
    ...(headerScopes !== undefined ? [headerScopes] : []),
    ...(query['scope'] ?? []),
  ]);
  if (!required.ok) throw new GatewayError('invalid-request', { detail: required.error });

  const credentials = parseEndUserCredentials(requestHeaders.get('authorization') ?? undefined);
  if (!credentials.ok) {
    audit.outcome = `denied_${credentials.error}`;
    throw endUserDenied(credentials.error);
  }
  // A token the app cannot have issued is not active: no GHES call (src/ghes/token-format.ts).
  if (!couldBeAppToken(credentials.value, app.kind)) {
    audit.outcome = 'denied_inactive';
    throw endUserDenied('inactive');
  }
  return { app, required: required.value, token: credentials.value };
}

/**
 * The answer to a question, given its token's check; throws the route's denials (inactive, a
 * missing scope). `requestId`, when given, is sent too (the lean answer has no middleware to).
 */
function answerTo(
  deps: GatewayDeps,
  audit: AuditFields,
  question: ForwardAuthQuestion,
  outcome: CheckOutcome,
  requestId?: string,
): Response {
  const { app, required } = question;
  const decision = forwardDecision(
    outcome.result.active ? outcome.result.authorization : undefined,
    required,
    outcome.freshForS,
    deps.clock.now(),
  );
  if (!decision.allow) {
    if (decision.reason === 'inactive') {
      audit.outcome = 'denied_inactive';
      throw endUserDenied('inactive');
    }
    audit.outcome = 'denied_scope';
    throw new GatewayError('insufficient-scope', {
      detail: `The GitHub token lacks the scope${decision.missing.length > 1 ? 's' : ''} ${decision.missing.join(', ')}`,
      headers: { 'www-authenticate': insufficientScopeChallenge(required) },
      extensions: { credential: 'end_user', missing_scopes: decision.missing },
    });
  }
  audit.outcome = 'allowed';
  // Every header of the answer in one record, given to the Response at once: set one by one
  // (`c.header`), each was a call into the runtime's Headers, and the answer has ten of them.
  const headers: Record<string, string> = {
    ...decision.headers,
    // Which app vouched: an upstream that serves one app checks these, so a token checked by
    // another app (a misrouted or client-chosen app) is not taken for one of its own.
    'x-auth-app': app.name,
    'x-auth-client-id': app.clientId,
    'cache-status': outcome.cacheStatus,
  };
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  return new Response(null, { status: 200, headers });
}

/** Registers the routes; returns their lean answer (./lean.ts) for the hot-path dispatch. */
export function registerForwardAuthRoutes(api: Api, deps: GatewayDeps): LeanRoute {
  const { config } = deps;
  const gatewayCaller = callerAuth(callerAuthOptions(deps, 'x-gateway-authorization'));
  // callerAuth is typed for any env that has `caller`; AppEnv has it, but Context is invariant.
  const authenticateGateway = gatewayCaller as unknown as MiddlewareHandler<AppEnv>;

  const gatewayAuth: MiddlewareHandler<AppEnv> = async function forwardAuthCaller(c, next) {
    let authenticated = false;
    try {
      await authenticateGateway(c, async () => {
        authenticated = true;
      });
    } catch (e) {
      if (!isGatewayError(e) || (e.code !== 'unauthorized' && e.code !== 'forbidden')) throw e;
      c.get('audit').outcome = 'gateway_credential_rejected';
      throw gatewayCredentialFailure(e);
    }
    if (authenticated) await next();
  };

  /** Only a 200 may be reused; nginx must never cache a denial or a failure. */
  const denialsUncached: MiddlewareHandler<AppEnv> = async function forwardAuthNoCacheOnDeny(
    c,
    next,
  ) {
    await next();
    if (c.res.status !== 200) {
      setResponseHeader(c, 'cache-control', 'no-store');
      setResponseHeader(c, 'x-accel-expires', '0');
    }
  };

  const path = `${FORWARD_AUTH_PATH}/*`;
  // Charged only when an answer needs GHES: end users with garbage or cached tokens must not
  // spend the API gateway's budget (src/middleware/rate-limit.ts).
  const checkBudget = configuredGhesCheckBudget(config.rateLimits, deps.log);
  api.use(path, denialsUncached, gatewayAuth);

  api.app.all(path, async (c) => {
    const audit = c.get('audit');
    // The query parsed once (each lookup by name would read the request's URL again).
    const question = askedBy(deps, audit, c.get('caller'), c.req.queries(), c.req.raw.headers);
    const outcome = await checkThroughCache(
      c,
      deps,
      question.app,
      question.token,
      checkBudget(c),
    ).catch(failClosed);
    return answerTo(deps, audit, question, outcome);
  });

  // Registered by hand above (any method, any path below): documented once per method and path.
  for (const spec of forwardAuthDocs()) api.describe(spec);

  return {
    route: path,
    caller: (headers) => gatewayCaller.rememberedCaller(headers),
    // The allowed L1 hit; anything else (a denial included) is the route's to answer.
    answer({ url, headers, caller, requestId, audit }) {
      // The parser `c.req.queries()` runs, so both read the same parameters.
      const query = getQueryParams(url) as Record<string, string[]>;
      const question = askedBy(deps, audit, caller, query, headers);
      const outcome = deps.tokens.peek(audit, question.app, question.token);
      if (outcome === undefined) return undefined;
      const res = answerTo(deps, audit, question, outcome, requestId);
      deps.tokens.answeredFromL1();
      return res;
    },
  };
}
