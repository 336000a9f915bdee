/**
 * Fault injection for tests and benchmarks: latency, an error status (5xx, primary 429/403 and
 * secondary 403 rate limits, redirects), any status with a raw body of the test's choosing (a
 * 200 that is not GHES's answer) or a generated body of any size (streamed, never held), a hang,
 * a dropped connection, and "commit, then fail" (the change is made in GHES but the answer is
 * lost or unreadable, the case that makes a retried reset dangerous). Faults are kept in insertion order; each may be narrowed to one operation and
 * limited to `times` uses. The wire shape (snake_case) is the same for the admin API and the
 * TypeScript API.
 */

import { OPERATIONS, type OperationName } from './operations';

function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

export { OPERATIONS, type OperationName } from './operations';

export interface FaultSpec {
  /** Only requests for this operation; every API request (unknown routes too) when omitted. */
  operation?: OperationName;
  /** Uses before the fault is removed; unlimited when omitted. */
  times?: number;
  /** Added delay before the request is handled (or before the fault's effect). */
  latency_ms?: number;
  /**
   * Answer this status instead of handling the request (with `commit_then_fail`: after it). A
   * 2xx needs `body` or `body_bytes`: the emulator only answers 2xx it did not make up.
   */
  status?: number;
  /** The answer's body, sent exactly as given (any text: HTML, truncated JSON, `null` …). */
  body?: string;
  /**
   * A generated body of this many bytes (`{"filler":"xxx…`), streamed in 64 KiB chunks as the
   * reader pulls, so a 400 MB answer costs the emulator nothing. See `bodyStreams()`.
   */
  body_bytes?: number;
  /** `content-type` of `body` / `body_bytes`; default `application/json; charset=utf-8`. */
  content_type?: string;
  /** Seconds, sent as `retry-after`. */
  retry_after?: number;
  /** 403/429 in GitHub's secondary-rate-limit form. */
  secondary_rate_limit?: boolean;
  /** 403/429 in GitHub's primary-rate-limit form (`x-ratelimit-remaining: 0`); default for 429. */
  primary_rate_limit?: boolean;
  /** Redirect target for a 3xx status. */
  location?: string;
  /** Never answer; the request still ends when its AbortSignal fires. */
  hang?: boolean;
  /** Drop the connection without an answer (a network error for the caller). */
  drop?: boolean;
  /**
   * Perform the operation, then answer `status` (default 502; a 2xx with `body` or
   * `body_bytes`: GHES did it, but its answer is unreadable) or drop the connection.
   */
  commit_then_fail?: boolean;
}

/** What a fault answers with instead of GitHub's own body. */
export type FaultBody = { text: string } | { bytes: number };

export type FaultEffect =
  | {
      kind: 'status';
      status: number;
      retryAfter?: number;
      rateLimit?: 'primary' | 'secondary';
      location?: string;
      body?: FaultBody;
      contentType?: string;
    }
  | { kind: 'hang' }
  | { kind: 'drop' }
  | {
      kind: 'commit_then_fail';
      status: number;
      drop: boolean;
      retryAfter?: number;
      body?: FaultBody;
      contentType?: string;
    };

export interface FaultPlan {
  latencyMs: number;
  effect?: FaultEffect;
}

export interface ActiveFault extends FaultSpec {
  readonly id: number;
  /** Uses left; undefined for unlimited. */
  readonly remaining: number | undefined;
}

const KEYS = new Set<string>([
  'operation',
  'times',
  'latency_ms',
  'status',
  'retry_after',
  'secondary_rate_limit',
  'primary_rate_limit',
  'location',
  'hang',
  'drop',
  'commit_then_fail',
  'body',
  'body_bytes',
  'content_type',
]);

/** A raw body is test input, not a load test: 1 MB of text is plenty (use body_bytes beyond). */
const MAX_RAW_BODY = 1_000_000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Validates one fault as received by the admin API; the error names what is wrong. */
export function parseFault(input: unknown): Parsed<FaultSpec> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'a fault is a JSON object' };
  }
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !KEYS.has(k));
  if (unknown.length > 0)
    return { ok: false, error: `unknown fault field(s): ${unknown.join(', ')}` };
  const spec: FaultSpec = {};
  if (raw['operation'] !== undefined) {
    const op = raw['operation'];
    if (!OPERATIONS.includes(op as OperationName)) {
      return { ok: false, error: `operation must be one of ${OPERATIONS.join(', ')}` };
    }
    spec.operation = op as OperationName;
  }
  for (const [key, min, max] of [
    ['times', 1, 1_000_000],
    ['latency_ms', 0, 600_000],
    ['status', 200, 599],
    ['retry_after', 0, 86_400],
    ['body_bytes', 1, 2 ** 40],
  ] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (!isInt(value, min, max))
      return { ok: false, error: `${key} must be an integer in ${min}..${max}` };
    spec[key] = value;
  }
  for (const key of [
    'secondary_rate_limit',
    'primary_rate_limit',
    'hang',
    'drop',
    'commit_then_fail',
  ] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return { ok: false, error: `${key} must be a boolean` };
    if (value) spec[key] = true;
  }
  if (raw['body'] !== undefined) {
    if (typeof raw['body'] !== 'string' || raw['body'].length > MAX_RAW_BODY)
      return { ok: false, error: `body must be a string of at most ${MAX_RAW_BODY} characters` };
    spec.body = raw['body'];
  }
  if (raw['content_type'] !== undefined) {
    const type = raw['content_type'];
    if (typeof type !== 'string' || !/^[\x20-\x7e]{1,200}$/.test(type))
      return { ok: false, error: 'content_type must be a header value (printable ASCII)' };
    spec.content_type = type;
  }
  if (raw['location'] !== undefined) {
    if (typeof raw['location'] !== 'string' || !isAbsoluteUrl(raw['location'])) {
      return { ok: false, error: 'location must be an absolute URL' };
    }
    spec.location = raw['location'];
  }
  const problem = consistencyProblem(spec);
  return problem ? { ok: false, error: problem } : { ok: true, value: spec };
}

function consistencyProblem(spec: FaultSpec): string | undefined {
  const { status, hang, drop, commit_then_fail: commit } = spec;
  if (status === undefined && !hang && !drop && !commit && spec.latency_ms === undefined) {
    return 'a fault needs latency_ms, status, hang, drop or commit_then_fail';
  }
  if (hang && (status !== undefined || drop || commit))
    return 'hang cannot be combined with status, drop or commit_then_fail';
  if (drop && status !== undefined) return 'drop and status exclude each other';
  if (spec.retry_after !== undefined && (drop || (status === undefined && !commit))) {
    return 'retry_after needs a status';
  }
  const hasBody = spec.body !== undefined || spec.body_bytes !== undefined;
  if (spec.body !== undefined && spec.body_bytes !== undefined)
    return 'body and body_bytes exclude each other';
  if (hasBody && (hang || drop)) return 'body cannot be combined with hang or drop';
  if (hasBody && status === undefined && !commit) return 'body needs a status';
  if (spec.content_type !== undefined && !hasBody) return 'content_type needs body or body_bytes';
  if (hasBody && (spec.secondary_rate_limit || spec.primary_rate_limit))
    return 'rate-limit faults bring their own body';
  const success = status !== undefined && status < 300;
  if (success && !hasBody) return 'a 2xx status needs body or body_bytes';
  const redirect = status !== undefined && status >= 300 && status < 400;
  if (redirect && commit) return 'commit_then_fail needs a 2xx, 4xx or 5xx status';
  if (redirect && hasBody) return 'a 3xx fault has no body';
  if (redirect !== (spec.location !== undefined))
    return 'location is required with, and only with, a 3xx status';
  if ((spec.secondary_rate_limit || spec.primary_rate_limit) && status !== 403 && status !== 429) {
    return 'rate-limit faults use status 403 or 429';
  }
  if (spec.secondary_rate_limit && spec.primary_rate_limit)
    return 'choose primary_rate_limit or secondary_rate_limit';
  return undefined;
}

function bodyOf(spec: FaultSpec): { body?: FaultBody; contentType?: string } {
  const body: FaultBody | undefined =
    spec.body !== undefined
      ? { text: spec.body }
      : spec.body_bytes !== undefined
        ? { bytes: spec.body_bytes }
        : undefined;
  return {
    ...(body !== undefined && { body }),
    ...(spec.content_type !== undefined && { contentType: spec.content_type }),
  };
}

function effectOf(spec: FaultSpec): FaultEffect | undefined {
  const retry = spec.retry_after !== undefined ? { retryAfter: spec.retry_after } : {};
  if (spec.hang) return { kind: 'hang' };
  if (spec.commit_then_fail) {
    return {
      kind: 'commit_then_fail',
      status: spec.status ?? 502,
      drop: spec.drop === true,
      ...retry,
      ...bodyOf(spec),
    };
  }
  if (spec.drop) return { kind: 'drop' };
  if (spec.status === undefined) return undefined;
  const rateLimit = spec.secondary_rate_limit
    ? 'secondary'
    : spec.primary_rate_limit || spec.status === 429
      ? 'primary'
      : undefined;
  return {
    kind: 'status',
    status: spec.status,
    ...retry,
    ...(rateLimit && { rateLimit }),
    ...(spec.location !== undefined && { location: spec.location }),
    ...bodyOf(spec),
  };
}

interface Entry {
  readonly id: number;
  readonly spec: FaultSpec;
  readonly effect: FaultEffect | undefined;
  remaining: number | undefined;
}

export class FaultBook {
  private entries: Entry[] = [];
  private nextId = 1;

  /**
   * Appends a fault. An unlimited pure-latency fault *sets* the latency of its scope: it replaces
   * an earlier unlimited pure-latency fault for the same operation (or for all), so
   * `{"latency_ms": 0}` undoes `{"latency_ms": 50}` instead of stacking on it.
   */
  add(spec: FaultSpec): ActiveFault {
    const parsed = parseFault(spec);
    if (!parsed.ok) throw new TypeError(`invalid fault: ${parsed.error}`);
    const entry: Entry = {
      id: this.nextId++,
      spec: parsed.value,
      effect: effectOf(parsed.value),
      remaining: parsed.value.times,
    };
    if (isLatencySetting(entry)) {
      this.entries = this.entries.filter(
        (e) => !(isLatencySetting(e) && e.spec.operation === entry.spec.operation),
      );
    }
    this.entries.push(entry);
    return view(entry);
  }

  clear(): void {
    this.entries = [];
  }

  list(): ActiveFault[] {
    return this.entries.map(view);
  }

  /**
   * Consumes the faults that apply to one request: every matching pure-latency fault adds its
   * delay, and the first matching fault with an effect decides the outcome.
   */
  take(operation: OperationName | undefined): FaultPlan {
    const plan: FaultPlan = { latencyMs: 0 };
    for (const entry of [...this.entries]) {
      if (entry.spec.operation !== undefined && entry.spec.operation !== operation) continue;
      if (entry.effect && plan.effect) continue;
      plan.latencyMs += entry.spec.latency_ms ?? 0;
      if (entry.effect) plan.effect = entry.effect;
      if (entry.remaining !== undefined) {
        entry.remaining -= 1;
        if (entry.remaining === 0) this.entries = this.entries.filter((e) => e !== entry);
      }
    }
    return plan;
  }
}

function isLatencySetting(entry: Entry): boolean {
  return entry.effect === undefined && entry.spec.times === undefined;
}

function view(entry: Entry): ActiveFault {
  return { id: entry.id, ...entry.spec, remaining: entry.remaining };
}
