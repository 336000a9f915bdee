/**
 * One structured log line per request (docs/operations.md lists the fields). Routes fill in what
 * they know through `c.var.audit`; this middleware adds status and latency and writes the line
 * after the response is built.
 *
 * Trust boundary: only ids and outcomes go here. `token_id` is a short prefix of the keyed
 * cache hash (src/cache/keys.ts), never the token.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { GatewayError } from '../errors';
import type { Logger } from '../log';

export interface AuditFields {
  caller?: string;
  app?: string;
  operation?: string;
  outcome?: string;
  ghes_status?: number;
  cache_status?: string;
  token_id?: string;
  /** Mutations (reset, scoped, delete, grant delete) are audit events. */
  audit_event?: boolean;
}

export interface AuditVariables {
  audit: AuditFields;
  failure: GatewayError;
}

function callerOf(c: Context): string | undefined {
  const caller = c.get('caller') as { sub?: unknown } | undefined;
  return typeof caller?.sub === 'string' ? caller.sub : undefined;
}

export function auditLog(log: Logger, now: () => number): MiddlewareHandler {
  return async function auditLogMiddleware(c, next) {
    const started = now();
    const fields: AuditFields = {};
    c.set('audit', fields);
    await next();
    const failure = c.get('failure') as GatewayError | undefined;
    log({
      level: c.res.status >= 500 ? 'error' : 'info',
      event: fields.audit_event === true ? 'audit' : 'request',
      request_id: c.get('requestId'),
      method: c.req.method,
      // The route pattern, not the URL: a path never carries a token here, but a query might.
      route: c.req.routePath,
      status: c.res.status,
      ...fields,
      // Set by caller auth; present even when a request fails before its route names the caller.
      ...(fields.caller === undefined && callerOf(c) !== undefined && { caller: callerOf(c) }),
      ...(failure !== undefined && { error_code: failure.code }),
      ...(failure?.upstreamStatus !== undefined && { ghes_status: failure.upstreamStatus }),
      ...(failure?.reason !== undefined && { reason: failure.reason }),
      outcome: fields.outcome ?? (failure !== undefined ? failure.code : 'ok'),
      latency_ms: now() - started,
    });
  };
}
