/**
 * The load generator: autocannon's programmatic API on loopback, one HTTP/1.1 request in flight
 * per connection (no pipelining, as a proxy or an API gateway calls), a fixed number of
 * connections, bounded by time (throughput runs) or by count (runs that consume fresh tokens).
 *
 * Figures are computed here from every response rather than from autocannon's summaries:
 * autocannon notices the end of `duration` only at its next sample tick and keeps whole
 * milliseconds in its latency histogram. Here throughput counts the responses completed inside
 * the exact window, and percentiles come from the sub-millisecond response times of all of them.
 */
import autocannon, { type AutocannonRequest } from 'autocannon';
import { percentileSorted, Samples } from './stats';

export interface RequestShape {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadTarget {
  /** Origin, e.g. http://127.0.0.1:41234. */
  origin: string;
  request: RequestShape;
  /** When set, called for every request (e.g. a fresh token each time). */
  vary?: () => Partial<RequestShape>;
}

export type Bound = { durationS: number } | { amount: number; maxDurationS: number };

export interface RunResult {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Responses counted (inside the window for time-bounded runs). */
  responses: number;
  /** Responses whose status was not 2xx, by status. */
  non2xx: Record<string, number>;
  /** Connection errors and timeouts reported by autocannon. */
  errors: number;
  timeouts: number;
  elapsedS: number;
}

/** One bounded run. Never throws for HTTP errors: they are counted so the caller can reject them. */
export async function runLoad(
  target: LoadTarget,
  connections: number,
  bound: Bound,
): Promise<RunResult> {
  const samples = new Samples();
  const non2xx: Record<string, number> = {};
  const { vary } = target;
  const base: AutocannonRequest = {
    method: target.request.method,
    path: target.request.path,
    headers: target.request.headers,
    ...(target.request.body !== undefined && { body: target.request.body }),
  };
  const request: AutocannonRequest =
    vary === undefined
      ? base
      : {
          ...base,
          setupRequest: (req) => {
            const v = vary();
            return {
              ...req,
              ...(v.path !== undefined && { path: v.path }),
              ...(v.headers !== undefined && { headers: { ...req.headers, ...v.headers } }),
              ...(v.body !== undefined && { body: v.body }),
            };
          },
        };
  const timed = 'durationS' in bound;
  const durationS = timed ? bound.durationS : bound.maxDurationS;
  const t0 = performance.now();
  const windowEnd = timed ? t0 + bound.durationS * 1000 : Number.POSITIVE_INFINITY;
  let last = t0;
  const instance = autocannon({
    url: `${target.origin}${target.request.path}`,
    connections,
    pipelining: 1,
    duration: durationS,
    ...(!timed && { amount: bound.amount }),
    // Seconds; a request slower than this is a failure of the run, not a data point.
    timeout: 30,
    sampleInt: 100,
    requests: [request],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    const now = performance.now();
    if (now > windowEnd) return;
    last = now;
    samples.push(ms);
    if (status < 200 || status > 299) non2xx[status] = (non2xx[status] ?? 0) + 1;
  });
  let stopTimer: NodeJS.Timeout | undefined;
  if (!timed) {
    // autocannon ignores `duration` when `amount` is set; bound the run in time ourselves.
    stopTimer = setTimeout(() => instance.stop(), bound.maxDurationS * 1000);
  }
  const result = await instance;
  if (stopTimer !== undefined) clearTimeout(stopTimer);
  const elapsedS = ((timed ? windowEnd : last) - t0) / 1000;
  const sorted = samples.sorted();
  const empty = sorted.length === 0;
  return {
    rps: sorted.length / elapsedS,
    p50Ms: empty ? Number.NaN : percentileSorted(sorted, 50),
    p90Ms: empty ? Number.NaN : percentileSorted(sorted, 90),
    p99Ms: empty ? Number.NaN : percentileSorted(sorted, 99),
    responses: sorted.length,
    non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    elapsedS,
  };
}

/** Why a run cannot count, or undefined when every response was a 2xx and nothing failed. */
export function runProblem(r: RunResult): string | undefined {
  const bad = Object.entries(r.non2xx);
  if (r.responses === 0) return 'no response at all';
  if (bad.length > 0)
    return `non-2xx answers: ${bad.map(([s, n]) => `${n} × ${s}`).join(', ')} of ${r.responses}`;
  if (r.errors > 0 || r.timeouts > 0)
    return `${r.errors} connection errors, ${r.timeouts} timeouts`;
  return undefined;
}
