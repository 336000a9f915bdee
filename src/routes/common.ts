/**
 * What several routes share: resolving the app a request may use, and the request's view of the
 * token service (src/tokens/service.ts), which checks tokens through the cache for the check
 * endpoint, introspection and forward auth alike.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app';
import { authorize } from '../auth/policy';
import type { CheckOutcome } from '../cache/token-cache';
import type { AppConfig, Operation } from '../config/types';
import { GatewayError } from '../lib/errors';
import type { TokenRequest } from '../tokens/service';

/**
 * Policy first, then existence: a caller learns nothing about apps it may not use (403 either
 * way); for apps it may use, an unconfigured one is 404.
 */
export function requireApp(c: Context<AppEnv>, name: string, operation: Operation): AppConfig {
  const caller = c.get('caller');
  const audit = c.get('audit');
  audit.caller = caller.sub;
  audit.app = name;
  audit.operation = operation;
  authorize(caller, name, operation);
  const app = c.get('deps').config.apps.get(name);
  if (app === undefined)
    throw new GatewayError('unknown-app', { detail: `No app named "${name}" is configured` });
  return app;
}

/** The request as the token service sees it: its GHES client, audit record and waitUntil. */
export function tokenRequest(c: Context<AppEnv>, beforeGhes?: () => Promise<void>): TokenRequest {
  const req: TokenRequest = {
    ghes: c.get('ghes'),
    audit: c.get('audit'),
    waitUntil: waitUntilOf(c),
  };
  if (beforeGhes !== undefined) req.beforeGhes = beforeGhes;
  return req;
}

/**
 * Checks a token through the token service and names the cache outcome in `Cache-Status`
 * (RFC 9211). `beforeGhes` runs only when the answer needs a GHES call (src/middleware/rate-limit.ts
 * `ghesCheckBudget`); its throw ends the load without a GHES call and is not cached.
 */
export async function checkThroughCache(
  c: Context<AppEnv>,
  app: AppConfig,
  token: string,
  options: { beforeGhes?: () => Promise<void> } = {},
): Promise<CheckOutcome> {
  const outcome = await c.get('tokens').check(tokenRequest(c, options.beforeGhes), app, token);
  c.header('cache-status', outcome.cacheStatus);
  return outcome;
}

/** KV writes and shared loads finish after the answer is sent (ExecutionContext.waitUntil). */
export function waitUntilOf(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    // No ExecutionContext (a bare app.request in a unit test): let the promise run on its own.
    return (p) => void p.catch(() => undefined);
  }
}
