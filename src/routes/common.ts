/**
 * What the route groups share: resolving the app a request acts on (policy, then lookup) and the
 * request's view of the token service (src/tokens/service.ts).
 */
import type { Context } from 'hono';
import type { AppEnv, GatewayDeps } from '../context';
import { authorize, resolveApp } from '../auth/policy';
import type { CheckOutcome } from '../cache/token-cache';
import type { AppConfig, Operation } from '../config/types';
import type { Caller } from '../auth/caller';
import type { AuditFields } from '../middleware/audit';
import { GatewayError } from '../lib/errors';
import { echoable } from '../lib/secret-shaped';
import type { TokenRequest } from '../tokens/service';

/** Operations that change state at GHES: their log line is an `audit` event. */
const MUTATIONS: ReadonlySet<Operation> = new Set([
  'reset',
  'scoped',
  'delete',
  'grant_delete',
  'code_exchange',
  'refresh',
  'authorizations_write',
]);

/**
 * The app a request acts on — the one it names, else the caller's `default_app` — checked once:
 * policy first, then existence, so a caller learns nothing about apps it may not use (403 either
 * way); an unconfigured app it may use is 404. Records the operation and app on the request's
 * audit line (the one place that does).
 */
export function appFor(
  c: Context<AppEnv>,
  deps: Pick<GatewayDeps, 'config'>,
  requested: string | undefined,
  operation: Operation,
): AppConfig {
  return callerApp(c.get('audit'), c.get('caller'), deps, requested, operation);
}

/** `appFor` for a request without a Hono context (the hot paths' lean pipeline, ./lean.ts). */
export function callerApp(
  audit: AuditFields,
  caller: Caller,
  deps: Pick<GatewayDeps, 'config'>,
  requested: string | undefined,
  operation: Operation,
): AppConfig {
  audit.operation = operation;
  if (MUTATIONS.has(operation)) audit.audit_event = true;
  const name = resolveApp(caller, requested);
  // A path segment is caller text: a token sent as the app name must not reach the log.
  audit.app = echoable(name);
  authorize(caller, name, operation);
  const app = deps.config.apps.get(name);
  if (app === undefined)
    throw new GatewayError('unknown-app', {
      detail: `No app named "${echoable(name)}" is configured`,
    });
  return app;
}

/** The request as the token service sees it: its id, audit record, waitUntil and GHES hook. */
export function tokenRequest(c: Context<AppEnv>, beforeGhes?: () => Promise<void>): TokenRequest {
  const req: TokenRequest = {
    requestId: c.get('requestId'),
    audit: c.get('audit'),
    waitUntil: waitUntilOf(c),
  };
  if (beforeGhes !== undefined) req.beforeGhes = beforeGhes;
  return req;
}

/**
 * Checks a token through the token service. The caller names `outcome.cacheStatus` in its
 * answer's `Cache-Status` (RFC 9211), among the answer's other headers: a hot route builds its
 * answer with all its headers at once (docs/performance.md). `beforeGhes` runs only when the
 * answer needs a GHES call (the GHES check budget, src/middleware/rate-limit.ts); its throw ends
 * the load without a GHES call and is not cached.
 */
export async function checkThroughCache(
  c: Context<AppEnv>,
  deps: Pick<GatewayDeps, 'tokens'>,
  app: AppConfig,
  token: string,
  beforeGhes?: () => Promise<void>,
): Promise<CheckOutcome> {
  return deps.tokens.check(tokenRequest(c, beforeGhes), app, token);
}

/** KV writes and shared loads finish after the answer is sent (ExecutionContext.waitUntil). */
function waitUntilOf(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    // No ExecutionContext (a bare app.request in a unit test): let the promise run on its own.
    return (p) => void p.catch(() => undefined);
  }
}
