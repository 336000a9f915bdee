/**
 * The results of one run (bench/results/latest.json) and the targets of issue 5, evaluated on
 * figures of that same run. A figure that was not measured is `null`, never an estimate, and
 * every target depending on it is `not_measured`.
 */
import type { Machine } from './machine';
import type { LoadId, Upstream } from './scenarios';
import type { RunResult } from './load';

export interface LoadSummary {
  id: LoadId;
  /** Medians over the measured runs. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  runs: Array<
    Pick<RunResult, 'rps' | 'p50Ms' | 'p90Ms' | 'p99Ms' | 'responses'> & {
      upstreamCalls: number | null;
      /** CPU (percent of all CPUs) used by processes outside the bench during the run. */
      otherCpuPercent: number | null;
    }
  >;
  upstream: Upstream;
}

export interface NotRun {
  scenario: string;
  reason: string;
}

/** Medians over the answers that called GHES, on the gateway's clock (ms). */
export interface MissBreakdown {
  answers: number;
  latency_p50_ms: number;
  kv_p50_ms: number;
  ghes_p50_ms: number;
  /** latency − KV − GHES per answer: the budget binding's call and CPU between clock reads. */
  other_p50_ms: number;
}

export interface Figures {
  baseline_rps: number | null;
  baseline_p99_ms: number | null;
  introspect_hit_rps: number | null;
  introspect_hit_p99_ms: number | null;
  introspect_kv_hit_rps: number | null;
  introspect_kv_hit_p99_ms: number | null;
  introspect_miss_rps: number | null;
  introspect_miss_p50_ms: number | null;
  emulator_direct_p50_ms: number | null;
  introspect_miss_added_p50_ms: number | null;
  /** Where a miss's time goes, from the gateway's audit lines (bench/steps/miss-breakdown.ts). */
  miss_breakdown: MissBreakdown | null;
  forward_auth_hit_rps: number | null;
  forward_auth_hit_p99_ms: number | null;
  /**
   * `introspect_hit` and `forward_auth_hit` again, to a second gateway with LOG_SAMPLE_HITS = 1
   * (one successful cache hit in a hundred logged): what the request log line costs over HTTP.
   */
  introspect_hit_sampled_rps: number | null;
  forward_auth_hit_sampled_rps: number | null;
  burst_upstream_calls: number | null;
  peer_rps: number | null;
  peer_p99_ms: number | null;
  /** The required work alone over HTTP (bench/required/worker.ts): the `required_*` scenarios. */
  required_introspect_rps: number | null;
  required_forward_auth_rps: number | null;
  bundle_raw_bytes: number | null;
  bundle_gzip_bytes: number | null;
  peer_bundle_gzip_bytes: number | null;
  /**
   * Module startup of one gateway isolate in workerd beyond a hello world's (compile + top-level
   * evaluation; a hello world's own is a few hundredths of a millisecond).
   */
  startup_ms: number | null;
  /** The same work in a fresh V8 context in Node, split (the profile of startup_ms). */
  startup_node_ms: number | null;
  startup_node_compile_ms: number | null;
  startup_node_evaluate_ms: number | null;
  baseline_startup_node_ms: number | null;
  /** First answer of a cold isolate (config parse, app build, lazy compilation). */
  first_request_ms: number | null;
  baseline_first_request_ms: number | null;
  /** How much later than a hello world a cold gateway isolate answers its first request. */
  cold_first_answer_extra_ms: number | null;
  /**
   * The stack's floor (bench/floor/): how much later than a hello world a cold isolate of each
   * minimal worker of the mandated stack answers its first request, measured in the same trials
   * and by the same formula as cold_first_answer_extra_ms. The gateway's figure beyond
   * floor_zod_openapi_jose_cold_extra_ms is what our own code adds.
   */
  floor_hono_cold_extra_ms: number | null;
  floor_zod_openapi_cold_extra_ms: number | null;
  floor_zod_openapi_jose_cold_extra_ms: number | null;
  /** Bundle sizes (gzip, as bundle_gzip_bytes) of the hello world and of each floor worker. */
  baseline_bundle_gzip_bytes: number | null;
  floor_hono_gzip_bytes: number | null;
  floor_zod_openapi_gzip_bytes: number | null;
  floor_zod_openapi_jose_gzip_bytes: number | null;
  /** The hono floor's module startup in Node (bench/probes/startup.ts), beside the candidates'. */
  floor_hono_startup_node_ms: number | null;
  /**
   * Inside one gateway isolate, no HTTP (probe `hot_path`): µs per request of a loop calling the
   * gateway's `fetch` directly (median and best of the rounds). `hot_hello_us` is the loop's own
   * cost (build the Request, make a small Response, read it), so the gateway's work is the
   * difference.
   */
  hot_hello_us: number | null;
  hot_introspect_us: number | null;
  hot_forward_auth_us: number | null;
  hot_hello_min_us: number | null;
  hot_introspect_min_us: number | null;
  hot_forward_auth_min_us: number | null;
  /** The introspection again, on a gateway with LOG_SAMPLE_HITS = 1 (src/middleware/audit.ts). */
  hot_introspect_sampled_us: number | null;
  hot_introspect_sampled_min_us: number | null;
  /**
   * The same two requests answered by the required work of an L1 hit alone, no gateway
   * (bench/required/worker.ts): how near any design keeping the rules can get.
   */
  hot_required_introspect_us: number | null;
  hot_required_introspect_min_us: number | null;
  hot_required_forward_auth_us: number | null;
  hot_required_forward_auth_min_us: number | null;
  /**
   * Calls into the runtime one L1-hit answer makes (Request/Response/Headers getters and methods,
   * Request/Response/Headers/URL built, console, crypto), counted once per mode (bench/lib/hot-path.ts,
   * `countCalls`): deterministic, unlike the µs.
   */
  hot_introspect_calls: number | null;
  hot_forward_auth_calls: number | null;
  hot_required_introspect_calls: number | null;
  hot_required_forward_auth_calls: number | null;
  l1_cap: number | null;
  l1_entries_pushed: number | null;
  l1_size_after: number | null;
  l1_heap_bytes: number | null;
  l1_full_heap_bytes: number | null;
  l1_bytes_per_entry: number | null;
}

export type TargetStatus = 'pass' | 'fail' | 'not_measured';

export interface Target {
  id: string;
  description: string;
  value: number | null;
  threshold: string;
  status: TargetStatus;
}

export interface Settings {
  connections: number;
  duration_s: number;
  warmup_s: number;
  runs: number;
  latency_ms: number;
  via: string;
  miss_requests: number;
  burst_size: number;
  ghes_version: string;
  /** Cold-start trials, each one workerd process with `startup_copies` isolates per worker. */
  startup_trials: number;
  startup_copies: number;
  /** Hot-path probe: interleaved rounds, and requests per batch. */
  hot_path_rounds: number;
  hot_path_requests: number;
}

/**
 * One schema-stack candidate floor (bench/floor/schema-*, issue 14), measured in the same
 * cold-start trials as the stack's floors. `cold_extra_ms` is computed as
 * cold_first_answer_extra_ms is; its first request is a valid `POST /check` (200), and
 * `doc_first_ms` times the same isolate's next request, `GET /openapi.json`.
 */
export interface CandidateFigures {
  floor: string;
  label: string;
  gzip_bytes: number | null;
  startup_ms: number | null;
  first_ms: number | null;
  cold_extra_ms: number | null;
  doc_first_ms: number | null;
  /** cold_extra_ms ÷ floor_hono_cold_extra_ms of the same trials. */
  vs_hono_floor: number | null;
  /**
   * Module compile + evaluation in a fresh V8 context in Node (bench/probes/startup.ts, median),
   * the low-noise profile of startup_ms, and its ratio to floor_hono_startup_node_ms.
   */
  startup_node_ms: number | null;
  node_vs_hono_floor: number | null;
}

export interface Results extends Figures {
  date: string;
  quick: boolean;
  /** Every scenario ran and produced its figures. */
  complete: boolean;
  targets: Target[];
  not_run: NotRun[];
  settings: Settings;
  machine: Machine & { busyPercentBeforeLoad: number | null };
  /** Raw bytes per package in the gateway bundle, largest first (top 10). */
  bundle_composition: Array<{ source: string; bytes: number }>;
  schema_candidates: CandidateFigures[];
  scenarios: LoadSummary[];
  burst_runs: Array<{ upstreamCalls: number; statuses: Record<string, number>; inactive: number }>;
}

/** The figures that are one number. */
export type NumberFigure = {
  [K in keyof Figures]: Figures[K] extends number | null ? K : never;
}[keyof Figures];

export function emptyFigures(): Figures {
  return {
    baseline_rps: null,
    baseline_p99_ms: null,
    introspect_hit_rps: null,
    introspect_hit_p99_ms: null,
    introspect_kv_hit_rps: null,
    introspect_kv_hit_p99_ms: null,
    introspect_miss_rps: null,
    introspect_miss_p50_ms: null,
    emulator_direct_p50_ms: null,
    introspect_miss_added_p50_ms: null,
    miss_breakdown: null,
    forward_auth_hit_rps: null,
    forward_auth_hit_p99_ms: null,
    introspect_hit_sampled_rps: null,
    forward_auth_hit_sampled_rps: null,
    burst_upstream_calls: null,
    peer_rps: null,
    peer_p99_ms: null,
    required_introspect_rps: null,
    required_forward_auth_rps: null,
    bundle_raw_bytes: null,
    bundle_gzip_bytes: null,
    peer_bundle_gzip_bytes: null,
    startup_ms: null,
    startup_node_ms: null,
    startup_node_compile_ms: null,
    startup_node_evaluate_ms: null,
    baseline_startup_node_ms: null,
    first_request_ms: null,
    baseline_first_request_ms: null,
    cold_first_answer_extra_ms: null,
    floor_hono_cold_extra_ms: null,
    floor_zod_openapi_cold_extra_ms: null,
    floor_zod_openapi_jose_cold_extra_ms: null,
    baseline_bundle_gzip_bytes: null,
    floor_hono_gzip_bytes: null,
    floor_zod_openapi_gzip_bytes: null,
    floor_zod_openapi_jose_gzip_bytes: null,
    floor_hono_startup_node_ms: null,
    hot_hello_us: null,
    hot_introspect_us: null,
    hot_forward_auth_us: null,
    hot_hello_min_us: null,
    hot_introspect_min_us: null,
    hot_forward_auth_min_us: null,
    hot_introspect_sampled_us: null,
    hot_introspect_sampled_min_us: null,
    hot_required_introspect_us: null,
    hot_required_introspect_min_us: null,
    hot_required_forward_auth_us: null,
    hot_required_forward_auth_min_us: null,
    hot_introspect_calls: null,
    hot_forward_auth_calls: null,
    hot_required_introspect_calls: null,
    hot_required_forward_auth_calls: null,
    l1_cap: null,
    l1_entries_pushed: null,
    l1_size_after: null,
    l1_heap_bytes: null,
    l1_full_heap_bytes: null,
    l1_bytes_per_entry: null,
  };
}

/** A run during which other processes used more than this share of all CPUs is flagged. */
export const DISTURBED_PCT = 15;

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

function target(
  id: string,
  description: string,
  value: number | null,
  threshold: string,
  ok: (v: number) => boolean,
): Target {
  return {
    id,
    description,
    value,
    threshold,
    status: value === null ? 'not_measured' : ok(value) ? 'pass' : 'fail',
  };
}

/**
 * Issue 14's targets, each a ratio of two figures of the same run (machines differ and drift;
 * ratios much less), then the invariants that must hold whatever the machine.
 */
export function evaluateTargets(f: Figures): Target[] {
  return [
    target(
      'cold_first_answer_vs_hono_floor',
      'cold isolate’s first answer beyond hello ÷ the one-route Hono floor’s',
      ratio(f.cold_first_answer_extra_ms, f.floor_hono_cold_extra_ms),
      '≤ 3',
      (v) => v <= 3,
    ),
    target(
      'hot_introspect_vs_hello',
      'introspection L1 hit inside the isolate ÷ hello’s per-request cost',
      ratio(f.hot_introspect_us, f.hot_hello_us),
      '≤ 4',
      (v) => v <= 4,
    ),
    target(
      'hot_forward_auth_vs_hello',
      'forward auth L1 hit inside the isolate ÷ hello’s per-request cost',
      ratio(f.hot_forward_auth_us, f.hot_hello_us),
      '≤ 2',
      (v) => v <= 2,
    ),
    target(
      'introspect_hit_vs_baseline',
      'introspect_hit_rps / baseline_rps (HTTP)',
      ratio(f.introspect_hit_rps, f.baseline_rps),
      '≥ 0.65',
      (v) => v >= 0.65,
    ),
    target(
      'forward_auth_hit_vs_baseline',
      'forward_auth_hit_rps / baseline_rps (HTTP)',
      ratio(f.forward_auth_hit_rps, f.baseline_rps),
      '≥ 0.75',
      (v) => v >= 0.75,
    ),
    target(
      'introspect_miss_vs_emulator_p50',
      'miss p50 ÷ the emulator’s own p50 at the same latency',
      ratio(f.introspect_miss_p50_ms, f.emulator_direct_p50_ms),
      '≤ 1.15',
      (v) => v <= 1.15,
    ),
    target(
      'bundle_gzip_bytes',
      'bundle size, gzip (bytes)',
      f.bundle_gzip_bytes,
      '≤ 81920 (80 KiB)',
      (v) => v <= 80 * 1024,
    ),
    target(
      'burst_upstream_calls',
      'GHES calls caused by the burst of 500',
      f.burst_upstream_calls,
      '= 1',
      (v) => v === 1,
    ),
    target(
      'introspect_hit_vs_peer',
      'introspect_hit_rps / peer_rps',
      ratio(f.introspect_hit_rps, f.peer_rps),
      '≥ 20',
      (v) => v >= 20,
    ),
    target(
      'l1_cap_holds',
      `L1 entries after ${f.l1_entries_pushed?.toLocaleString('en-US') ?? 'N'} distinct tokens, minus the cap`,
      f.l1_size_after === null || f.l1_cap === null ? null : f.l1_size_after - f.l1_cap,
      '≤ 0',
      (v) => v <= 0,
    ),
  ];
}
