/**
 * One structured log line per request (docs/operations.md lists the fields). Each field has one
 * writer: the caller comes from caller auth, app and operation from the route's app lookup
 * (src/routes/common.ts), GHES and cache facts from the token service, the outcome from the
 * route; this middleware adds status and latency and writes the line after the answer is built.
 *
 * Exactly one line, whatever happens below it: Hono catches a throw at the layer that threw, but a
 * throw from outside any layer (its not-found step, a non-Error value) would unwind past
 * `await next()`. Such a throw is turned into the answer here, with the app's own error mapping
 * (`answerError`), and logged like any other failure.
 *
 * Trust boundary: only ids and outcomes go here. `token_id` is a short prefix of the keyed
 * cache hash (src/cache/keys.ts), never the token.
 *
 * With a `metrics` dataset, the finished record also becomes the request's one Analytics Engine
 * data point (src/middleware/metrics.ts picks its fields; never `token_id` or `request_id`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ConfigurationError, type GatewayError } from '../lib/errors';
import type { Logger, LogRecord } from '../lib/log';
import { cacheTier, metricsWriter } from './metrics';

/** A successful answer from L1 or KV, not an audit event: what LOG_SAMPLE_HITS may leave out. */
function isCacheHit(fields: AuditFields): boolean {
  if (fields.audit_event === true) return false;
  const tier = cacheTier(fields.cache_status);
  return tier === 'L1' || tier === 'KV';
}

export interface AuditFields {
  app?: string;
  operation?: string;
  outcome?: string;
  ghes_status?: number;
  /** Time spent waiting on GHES, ms; written by whatever calls GHES. */
  ghes_ms?: number;
  /** Time the answer waited on KV reads, ms (src/tokens/service.ts). */
  kv_ms?: number;
  cache_status?: string;
  token_id?: string;
  /** After a refresh: whether the user's grant epoch moved (`grant_epoch`) or could not (`failed`). */
  invalidation?: 'grant_epoch' | 'failed';
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

export interface AuditLogOptions {
  log: Logger;
  /** Epoch milliseconds. */
  now: () => number;
  /** The app's error answer (src/app.ts): maps anything thrown to a problem and sets `failure`. */
  answerError: (err: unknown, c: Context) => Response;
  /** Workers Analytics Engine: one data point per request; none when undefined. */
  metrics?: AnalyticsEngineDataset | undefined;
  /**
   * LOG_SAMPLE_HITS: the percent (1–100) of successful answers from the cache (L1 or KV) that
   * get their log line; the lines written carry `sample_percent` so counts can be scaled back.
   * Misses, mutations, denials and failures are always logged. Default 100.
   */
  sampleHitsPercent?: number;
  /** 0 ≤ r < 1, for sampling; Math.random by default. */
  random?: () => number;
}

/** What a request's line is made of, once its answer is built. */
export interface AuditedRequest {
  requestId: string | undefined;
  method: string;
  /** The route pattern, not the URL: a path never carries a token here, but a query might. */
  route: string;
  status: number;
  /** The authenticated caller's `sub`, when caller auth got that far. */
  caller: string | undefined;
  fields: AuditFields;
  failure: GatewayError | undefined;
  /** `now()` when the request arrived. */
  started: number;
}

/**
 * Checks the options once, then returns what writes a request's one line (and data point): used
 * by `auditLog` and by the hot paths' lean pipeline (src/routes/lean.ts), so both write the same.
 */
export function auditWriter(
  options: Omit<AuditLogOptions, 'answerError'>,
): (request: AuditedRequest) => void {
  const { log, now } = options;
  for (const name of ['log', 'now'] as const)
    if (typeof options[name] !== 'function')
      throw new ConfigurationError('auditLog', `"${name}" must be a function`);
  if (options.metrics !== undefined && typeof options.metrics.writeDataPoint !== 'function')
    throw new ConfigurationError('auditLog', '"metrics" must be an Analytics Engine dataset');
  const writeDataPoint = metricsWriter(options.metrics, log);
  const percent = options.sampleHitsPercent ?? 100;
  if (!Number.isInteger(percent) || percent < 1 || percent > 100)
    throw new ConfigurationError(
      'auditLog',
      '"sampleHitsPercent" must be an integer from 1 to 100',
    );
  const random = options.random ?? Math.random;
  return function writeAuditLine(request) {
    const { fields, failure, status } = request;
    // Built by assignment in one pass rather than by spreading several objects: this runs on
    // every request, and a record with a stable shape is also the cheapest to serialise.
    const record: LogRecord = {
      level: status >= 500 ? 'error' : 'info',
      event: fields.audit_event === true ? 'audit' : 'request',
      request_id: request.requestId,
      method: request.method,
      route: request.route,
      status,
    };
    // Set by caller auth, so present even when a request fails before its route runs.
    if (request.caller !== undefined) record['caller'] = request.caller;
    for (const key in fields) record[key] = fields[key as keyof AuditFields];
    if (failure !== undefined) {
      record['error_code'] = failure.code;
      if (failure.upstreamStatus !== undefined) record['ghes_status'] = failure.upstreamStatus;
      if (failure.reason !== undefined) record['reason'] = failure.reason;
    }
    record['outcome'] = fields.outcome ?? (failure !== undefined ? failure.code : 'ok');
    record['latency_ms'] = now() - request.started;
    writeDataPoint?.(record);
    if (percent < 100 && status === 200 && failure === undefined && isCacheHit(fields)) {
      if (random() * 100 >= percent) return;
      record['sample_percent'] = percent;
    }
    log(record);
  };
}

export function auditLog(options: AuditLogOptions): MiddlewareHandler {
  const write = auditWriter(options);
  const { now, answerError } = options;
  if (typeof answerError !== 'function')
    throw new ConfigurationError('auditLog', '"answerError" must be a function');
  return async function auditLogMiddleware(c, next) {
    const started = now();
    const fields: AuditFields = {};
    c.set('audit', fields);
    try {
      await next();
    } catch (err) {
      c.res = answerError(err, c);
    }
    write({
      requestId: c.get('requestId'),
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      caller: callerOf(c),
      fields,
      failure: c.get('failure') as GatewayError | undefined,
      started,
    });
  };
}
