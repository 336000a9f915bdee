/**
 * Command-line options of `npm run bench`. Every knob has a default for the full run and one for
 * `--quick`; the same values apply to every scenario of a run so that ratios compare like with like.
 */
import { parseArgs } from 'node:util';

export const SCENARIOS = [
  'baseline',
  'introspect_hit',
  'introspect_hit_sampled',
  'introspect_kv_hit',
  'introspect_miss',
  'forward_auth_hit',
  'forward_auth_hit_sampled',
  'burst',
  'peer',
  'required_introspect',
  'required_forward_auth',
] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

/**
 * Measurements that are not load scenarios; `--only` accepts them too. `floors` is the cold-start
 * trials of the baseline and every floor (bench/floor/: the stack's and the schema-stack
 * candidates') without the gateway; `startup` runs them with the gateway.
 */
export const PROBES = ['bundle', 'startup', 'floors', 'l1_memory', 'hot_path'] as const;
export type ProbeId = (typeof PROBES)[number];
export type PartId = ScenarioId | ProbeId;
const PARTS: readonly string[] = [...SCENARIOS, ...PROBES];

/**
 * How load reaches a worker. `direct`: a socket straight into the worker (miniflare's
 * `unsafeDirectSockets`), the way a deployed worker is reached, with no extra hop. `entry`:
 * through miniflare's entry worker, which adds a proxy hop in front of every request (the
 * baseline drops from about 30k to about 9k requests/s on this machine).
 */
export type Via = 'direct' | 'entry';
/** Where the gateway's KV lives in the load scenarios (bench/lib/remote-kv.ts). */
export type KvPlace = 'host' | 'local';

export interface BenchOptions {
  quick: boolean;
  /** Concurrent connections of the load generator, the same for every load scenario. */
  connections: number;
  /** Seconds of each measured run (throughput scenarios). */
  durationS: number;
  /** Seconds of the warm-up run done once per scenario before the measured runs. */
  warmupS: number;
  /** Measured runs per scenario; the median is reported. */
  runs: number;
  /** Requests per measured run of `introspect_miss` (each needs a fresh token). */
  missRequests: number;
  /** Concurrent introspections of one fresh token in `burst`. */
  burstSize: number;
  /** Fixed latency the GHES emulator adds to every API answer. */
  latencyMs: number;
  /** Distinct tokens pushed through the L1 cache in the memory probe. */
  l1Entries: number;
  /** Fresh-context module evaluations per bundle in the startup probe. */
  startupIterations: number;
  /** Startup trials in workerd, each one process with `startupCopies` isolates of a worker. */
  startupTrials: number;
  startupCopies: number;
  /** Rounds of the in-isolate hot-path probe, each one batch per mode (interleaved). */
  hotPathRounds: number;
  /** Requests per batch of the hot-path probe. */
  hotPathRequests: number;
  via: Via;
  kv: KvPlace;
  /** Parts to run; empty means all (only a run of all parts writes latest.json). */
  only: readonly PartId[];
  /** Write docs/performance.md and its chart (full runs only, unless forced). */
  docs: boolean;
  /** Exit non-zero when a measured target is missed (not only when a scenario could not run). */
  strict: boolean;
  /** CPU-profile the gateway during one extra run per gateway scenario (figures not written). */
  profile: boolean;
  /** Wrangler config of the worker measured as the gateway (default: the project's wrangler.toml). */
  gatewayConfig: string | undefined;
}

const HELP = `Usage: npm run bench -- [options]

  --quick                 short version of every scenario (under 60 s in total; the schema-stack
                          candidates only with --only floors)
  --connections <n>       load-generator connections (default 32)
  --duration <s>          seconds per measured run (default 10, quick 1)
  --warmup <s>            warm-up seconds per scenario (default 3, quick 0.5)
  --runs <n>              measured runs per scenario, median reported (default 3, minimum 3)
  --latency <ms>          latency the GHES emulator adds (default 50)
  --startup-trials <n>    cold-start trials in workerd (default 5, quick 3)
  --startup-copies <n>    isolates per worker per trial (default 10); more copies divide the
                          noise of a process start among more isolates
  --via <direct|entry>    reach workers by a direct socket (default) or miniflare's entry worker
  --kv <host|local>       the gateway's KV in the load scenarios: a KV host in its own process
                          (default; bench/lib/remote-kv.ts) or miniflare's KV simulation in the
                          gateway's own workerd process, on the gateway's thread
  --only <a,b,...>        run only these scenarios/probes (latest.json and docs are not written);
                          --only floors: cold starts of the floors (bench/floor/) alone
  --no-docs               do not rewrite docs/performance.md
  --strict                exit 2 when a target is missed
  --profile               after the measured runs, one extra run per gateway scenario with a CPU
                          profile of the gateway isolate (bench/.build/profiles/*.cpuprofile and
                          the top functions by self time); latest.json and docs are not written
  --gateway-config <path> measure the worker of another wrangler config as the gateway
                          (e.g. another checkout); latest.json and docs are then not written
  --help                  this text

Scenarios: ${SCENARIOS.join(', ')}
Probes:    ${PROBES.join(', ')}`;

function positive(name: string, raw: string | undefined, fallback: number, integer = true): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return n;
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      latency: { type: 'string' },
      'startup-trials': { type: 'string' },
      'startup-copies': { type: 'string' },
      via: { type: 'string' },
      kv: { type: 'string' },
      only: { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'gateway-config': { type: 'string' },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const runs = positive('runs', values.runs, 3);
  if (runs < 3) throw new Error('--runs must be at least 3 (the median of fewer runs says little)');
  const via = values.via ?? 'direct';
  if (via !== 'direct' && via !== 'entry') throw new Error('--via must be "direct" or "entry"');
  const kv = values.kv ?? 'host';
  if (kv !== 'host' && kv !== 'local') throw new Error('--kv must be "host" or "local"');
  const only: PartId[] = [];
  for (const raw of (values.only ?? '').split(',').filter((s) => s.length > 0)) {
    if (!PARTS.includes(raw))
      throw new Error(`--only: unknown part "${raw}"; known: ${PARTS.join(', ')}`);
    only.push(raw as PartId);
  }
  let latencyMs = 50;
  if (values.latency !== undefined) {
    latencyMs = Number(values.latency);
    if (!Number.isInteger(latencyMs) || latencyMs < 0)
      throw new Error(`--latency must be a non-negative integer, got "${values.latency}"`);
  }
  return {
    quick,
    connections: positive('connections', values.connections, 32),
    durationS: positive('duration', values.duration, quick ? 1 : 10, false),
    warmupS: positive('warmup', values.warmup, quick ? 0.5 : 3, false),
    runs,
    missRequests: quick ? 300 : 1500,
    burstSize: 500,
    latencyMs,
    l1Entries: 100_000,
    startupIterations: quick ? 20 : 100,
    startupTrials: positive('startup-trials', values['startup-trials'], quick ? 3 : 5),
    startupCopies: positive('startup-copies', values['startup-copies'], 10),
    hotPathRounds: quick ? 3 : 9,
    hotPathRequests: quick ? 2000 : 10_000,
    via,
    kv,
    only,
    docs:
      !values['no-docs'] &&
      !quick &&
      only.length === 0 &&
      values['gateway-config'] === undefined &&
      kv === 'host' &&
      !values.profile,
    profile: values.profile,
    strict: values.strict,
    gatewayConfig: values['gateway-config'],
  };
}

export const USAGE = HELP;
