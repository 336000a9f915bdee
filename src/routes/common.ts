/**
 * What several routes share: resolving the app a request may use, and checking a token through
 * the cache (check endpoint, introspection and forward auth all answer from the same entries).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app';
import { authorize } from '../auth/policy';
import type { CheckOutcome } from '../cache/token-cache';
import type { AppConfig, Operation } from '../env';
import { GatewayError, isGatewayError } from '../errors';
import { toPublicAuthorization } from '../ghes/types';

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

/**
 * Checks a token through L1 → KV → GHES and records the cache outcome for the audit line.
 * `beforeGhes` runs only when the answer must come from GHES (src/middleware/rate-limit.ts
 * `ghesCheckBudget`); its throw ends the load without a GHES call and is not cached.
 */
export async function checkThroughCache(
  c: Context<AppEnv>,
  app: AppConfig,
  token: string,
  options: { beforeGhes?: () => Promise<void> } = {},
): Promise<CheckOutcome> {
  const { cache, credentialHealth } = c.get('deps');
  const ghes = c.get('ghes');
  const audit = c.get('audit');
  const outcome = await cache.check(
    { name: app.name, clientId: app.clientId },
    token,
    async () => {
      await options.beforeGhes?.();
      try {
        const authorization = await ghes.check(app, token);
        audit.ghes_status = 200;
        credentialHealth.onPositive(app.name);
        return { found: true, authorization: toPublicAuthorization(authorization) };
      } catch (e) {
        // Only GHES's definitive 404 is an answer about the token; everything else is a failure
        // the cache must not remember.
        if (isGatewayError(e) && e.code === 'token-not-found') {
          audit.ghes_status = 404;
          credentialHealth.onNotFound(app.name);
          return { found: false };
        }
        throw e;
      }
    },
    { waitUntil: waitUntilOf(c) },
  );
  audit.cache_status = outcome.cacheStatus;
  audit.token_id = outcome.tokenId;
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
