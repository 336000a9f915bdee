/**
 * Structured JSON logging: one object per line, read with `wrangler tail`.
 *
 * Trust boundary: callers of `log` must pass only redacted data. Raw GitHub tokens, client
 * secrets, the cache pepper and Basic-auth headers never go in a record; URLs that carry a token
 * (legacy GHES paths) are logged only as the call's `logPath` (src/ghes/token-placement.ts).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  level: LogLevel;
  /** A stable, dotted event name, e.g. `request`, `ghes.call`, `cache.kv_error`. */
  event: string;
  [field: string]: unknown;
}

export type Logger = (record: LogRecord) => void;

/**
 * Writes through console so that `wrangler tail` and Workers Logs pick it up, stamped by `clock`.
 * This runs once per request (the audit line), so the line is serialised once, without first
 * copying the record into a new object: the `ts` member is spliced in front of the record's JSON.
 */
export const consoleLogger =
  (clock: { now(): number }): Logger =>
  (record) => {
    const ts = new Date(clock.now()).toISOString();
    const line =
      'ts' in record
        ? JSON.stringify({ ts, ...record })
        : `{"ts":"${ts}",${JSON.stringify(record).slice(1)}`;
    if (record.level === 'error' || record.level === 'warn') console.error(line);
    else console.log(line);
  };
