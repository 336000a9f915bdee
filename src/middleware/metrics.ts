/**
 * One Workers Analytics Engine data point per request, made from the request's audit record
 * (src/middleware/audit.ts) after it is complete: the data point restates facts the audit line
 * already has, so each fact keeps its one writer. docs/operations.md has the SQL that reads it.
 *
 * Trust boundary: only the fields named in METRICS_LAYOUT leave, each picked by name. Never the
 * `token_id` nor the `request_id`: either one joins a data point to the audit lines, and through
 * them to a token's keyed hash. Caller text is withheld when credential-shaped, as in the logs.
 *
 * Writing never fails a request: the first failure is logged once per isolate, then ignored.
 */
import { APP_NAME_PATTERN } from '../config/types';
import type { Logger, LogRecord } from '../lib/log';
import { echoable } from '../lib/secret-shaped';

/**
 * The data point's columns, by position: `blobs[0]` is the SQL API's `blob1`, `doubles[0]` its
 * `double1`, the index `index1`. Queries depend on these positions: append, never reorder.
 */
export const METRICS_LAYOUT = {
  blobs: ['route', 'method', 'operation', 'app', 'caller', 'outcome', 'cache_tier'],
  doubles: ['status', 'ghes_status', 'ghes_ms', 'duration_ms'],
  /** The sampling key (Analytics Engine samples per index value): a configured app's name. */
  index: 'app',
} as const;

type BlobName = (typeof METRICS_LAYOUT.blobs)[number];
type DoubleName = (typeof METRICS_LAYOUT.doubles)[number];

/** Where the answer came from: L1 (isolate memory), KV, a GHES call (miss), or no token check. */
export type CacheTier = 'L1' | 'KV' | 'miss' | 'none';

/** The tier, from the RFC 9211 Cache-Status value the token service recorded. */
export function cacheTier(cacheStatus: unknown): CacheTier {
  if (typeof cacheStatus !== 'string') return 'none';
  if (/; hit(?:;|$)/.test(cacheStatus)) {
    if (/; detail=l1(?:;|$)/.test(cacheStatus)) return 'L1';
    if (/; detail=kv(?:;|$)/.test(cacheStatus)) return 'KV';
  }
  return 'miss';
}

const text = (value: unknown): string => (typeof value === 'string' ? echoable(value, 200) : '');
const number = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;

const BLOBS: Readonly<Record<BlobName, (r: LogRecord) => string>> = {
  route: (r) => text(r['route']),
  method: (r) => text(r['method']),
  operation: (r) => text(r['operation']),
  app: (r) => text(r['app']),
  caller: (r) => text(r['caller']),
  outcome: (r) => text(r['outcome']),
  cache_tier: (r) => cacheTier(r['cache_status']),
};

/** 0 stands for "none": no GHES call, or not measured. */
const DOUBLES: Readonly<Record<DoubleName, (r: LogRecord) => number>> = {
  status: (r) => number(r['status']),
  ghes_status: (r) => number(r['ghes_status']),
  ghes_ms: (r) => number(r['ghes_ms']),
  duration_ms: (r) => number(r['latency_ms']),
};

/** The data point of one finished request's audit record. */
export function dataPointOf(record: LogRecord): AnalyticsEngineDataPoint {
  const app = record['app'];
  return {
    blobs: METRICS_LAYOUT.blobs.map((name) => BLOBS[name](record)),
    doubles: METRICS_LAYOUT.doubles.map((name) => DOUBLES[name](record)),
    // At most 96 bytes: only an app name (≤ 64 ASCII characters) is used.
    indexes: typeof app === 'string' && APP_NAME_PATTERN.test(app) ? [app] : [],
  };
}

/** Writes a record's data point to `dataset`; undefined when there is no dataset. */
export function metricsWriter(
  dataset: AnalyticsEngineDataset | undefined,
  log: Logger,
): ((record: LogRecord) => void) | undefined {
  if (dataset === undefined) return undefined;
  let reported = false;
  return (record) => {
    try {
      dataset.writeDataPoint(dataPointOf(record));
    } catch (e) {
      if (reported) return;
      reported = true;
      log({
        level: 'warn',
        event: 'metrics.write_failed',
        reason: e instanceof Error ? e.name : 'non-error thrown',
      });
    }
  };
}
