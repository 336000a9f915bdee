/**
 * `npm run bench [-- --quick]`: the benchmark harness of issue 5. See docs/performance.md for the
 * method; this file only orders the steps:
 *
 *   1. build gateway, baseline and peer exactly as deployed (wrangler --dry-run); bundle sizes;
 *      Also the stack-floor workers (bench/floor/) when startup is measured;
 *   2. probes in child processes: module startup (fresh V8 contexts), L1 memory (100k tokens);
 *   3. GHES emulator in a child process with a fixed added latency; caller key and JWT;
 *   4. workers under miniflare (same settings for all), preflight of every scenario;
 *   5. one warm-up per scenario, then `runs` rounds that each run every scenario once
 *      (interleaved, so drift of this shared machine hits all scenarios alike); medians;
 *   6. burst; the in-isolate hot path (no HTTP); cold starts of the gateway and of the stack's
 *      floor; the table, bench/results/latest.json, docs/performance.md + chart.
 *
 * A scenario that cannot run says why and yields no figure; the run then exits 1.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorker, readProjectConfig, type Bundle, type ProjectConfig } from './lib/build';
import { startGhesEmulator, type Emulator, type EmulatorApp } from './lib/emulator';
import { createCaller, gatewayBindings, peerBindings, pickApp } from './lib/gateway-env';
import { runLoad, runProblem, type RequestShape, type RunResult } from './lib/load';
import { cpuSnapshot, otherCpuPercent } from './lib/interference';
import { busyPercent, describeMachine } from './lib/machine';
import { parseOptions, USAGE, type BenchOptions, type PartId } from './lib/options';
import { HOT_MODES, measureHotPath } from './lib/hot-path';
import { freePort, hotSpots, WorkerProfiler } from './lib/profile';
import { runProbe } from './lib/probes';
import type { L1Report } from './probes/l1-memory';
import type { StartupReport } from './probes/startup';
import { DOC_BEGIN, DOC_END, renderMarkdown, renderSvg, renderText } from './lib/report';
import {
  emptyFigures,
  evaluateTargets,
  DISTURBED_PCT,
  type Figures,
  type LoadSummary,
  type NotRun,
  type Results,
} from './lib/results';
import {
  baselineScenario,
  burst,
  burstPreflight,
  emulatorDirectScenario,
  forwardAuthHitScenario,
  introspectHitScenario,
  introspectMissScenario,
  introspectRequest,
  NotRunnable,
  peerScenario,
  TokenPool,
  tokensNeeded,
  type BurstResult,
  type Fixture,
  type LoadId,
  type LoadScenario,
} from './lib/scenarios';
import { median, round } from './lib/stats';
import { startCopies, startWorker, type RunningWorker } from './lib/workers';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD_DIR = resolve(root, 'bench/.build');
const RESULTS = resolve(root, 'bench/results/latest.json');
const DOC = resolve(root, 'docs/performance.md');
const CHART = resolve(root, 'docs/performance.svg');
const GHES_VERSION = '3.22';

const t0 = performance.now();
function say(msg: string): void {
  process.stderr.write(
    `[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`,
  );
}

/** Above this share of CPU used by other processes before the load, the run warns. */
const BUSY_WARNING_PCT = 10;

/** GHES calls a run may cause and still count as all cache hits (refresh-ahead, if any). */
const HIT_UPSTREAM_TOLERANCE = 0.01;

function upstreamProblem(s: LoadScenario, r: RunResult, calls: number | null): string | undefined {
  if (calls === null || s.upstream === 'n/a') return undefined;
  if (s.upstream === 'none' && calls > r.responses * HIT_UPSTREAM_TOLERANCE)
    return `${calls} GHES calls for ${r.responses} answers: these were not cache hits`;
  if (s.upstream === 'each' && calls < r.responses)
    return `only ${calls} GHES calls for ${r.responses} answers: not every request reached GHES`;
  return undefined;
}

interface MeasuredRun {
  r: RunResult;
  calls: number | null;
  otherCpu: number | null;
}

function summarize(s: LoadScenario, runs: MeasuredRun[]): LoadSummary {
  return {
    id: s.id,
    rps: median(runs.map((x) => x.r.rps)),
    p50Ms: median(runs.map((x) => x.r.p50Ms)),
    p99Ms: median(runs.map((x) => x.r.p99Ms)),
    upstream: s.upstream,
    runs: runs.map(({ r, calls, otherCpu }) => ({
      rps: round(r.rps, 1),
      p50Ms: round(r.p50Ms, 3),
      p90Ms: round(r.p90Ms, 3),
      p99Ms: round(r.p99Ms, 3),
      responses: r.responses,
      upstreamCalls: calls,
      otherCpuPercent: otherCpu,
    })),
  };
}

interface Context {
  o: BenchOptions;
  wants(part: PartId): boolean;
  notRun: NotRun[];
  figures: Figures;
  cleanup: Array<() => Promise<void>>;
  bundleComposition: Array<{ source: string; bytes: number }>;
}

function skip(ctx: Context, parts: readonly PartId[], reason: string): void {
  for (const p of parts) if (ctx.wants(p)) ctx.notRun.push({ scenario: p, reason });
}

const GATEWAY_PARTS: readonly PartId[] = [
  'introspect_hit',
  'introspect_kv_hit',
  'introspect_miss',
  'forward_auth_hit',
  'burst',
  'hot_path',
];

/**
 * The stack's floor: minimal workers of the mandated stack (bench/floor/<dir>/), whose cold
 * starts are measured beside the gateway's, so that the gateway's cold start splits into what the
 * stack costs anyway and what our code adds.
 */
const FLOORS = [
  {
    dir: 'hono',
    extra: 'floor_hono_cold_extra_ms',
    gzip: 'floor_hono_gzip_bytes',
  },
  {
    dir: 'zod-openapi',
    extra: 'floor_zod_openapi_cold_extra_ms',
    gzip: 'floor_zod_openapi_gzip_bytes',
  },
  {
    dir: 'zod-openapi-jose',
    extra: 'floor_zod_openapi_jose_cold_extra_ms',
    gzip: 'floor_zod_openapi_jose_gzip_bytes',
  },
] as const satisfies ReadonlyArray<{ dir: string; extra: keyof Figures; gzip: keyof Figures }>;

type Floor = (typeof FLOORS)[number];

interface Bundles {
  gateway?: Bundle;
  baseline?: Bundle;
  peer?: Bundle;
  /** The floors that built (only when startup is measured). */
  floors: Array<{ floor: Floor; bundle: Bundle }>;
}

async function build(ctx: Context): Promise<Bundles> {
  const out: Bundles = { floors: [] };
  const needGateway = [...GATEWAY_PARTS, 'bundle', 'startup'].some((p) => ctx.wants(p as PartId));
  const jobs: Array<['gateway' | 'baseline' | 'peer', string, string, boolean]> = [
    ['gateway', 'gateway', ctx.o.gatewayConfig ?? 'wrangler.toml', needGateway],
    [
      'baseline',
      'baseline',
      'bench/baseline/wrangler.toml',
      ctx.wants('baseline') || ctx.wants('startup'),
    ],
    ['peer', 'peer', 'bench/peer/wrangler.toml', ctx.wants('peer') || ctx.wants('bundle')],
  ];
  for (const [key, name, config, needed] of jobs) {
    if (!needed) continue;
    say(`building ${name} (wrangler deploy --dry-run --config ${config})`);
    try {
      out[key] = await buildWorker(root, name, resolve(root, config), resolve(BUILD_DIR, name));
    } catch (e) {
      const reason = `the ${name} bundle did not build: ${(e as Error).message.split('\n').slice(0, 6).join(' ')}`;
      say(reason);
      if (key === 'gateway') skip(ctx, [...GATEWAY_PARTS, 'bundle', 'startup'], reason);
      if (key === 'baseline') skip(ctx, ['baseline', 'startup'], reason);
      if (key === 'peer') skip(ctx, ['peer'], reason);
    }
  }
  if (out.gateway !== undefined) {
    ctx.figures.bundle_raw_bytes = out.gateway.rawBytes;
    ctx.figures.bundle_gzip_bytes = out.gateway.gzipBytes;
    ctx.bundleComposition = out.gateway.composition.slice(0, 10);
  }
  if (out.peer !== undefined) ctx.figures.peer_bundle_gzip_bytes = out.peer.gzipBytes;
  if (out.baseline !== undefined) ctx.figures.baseline_bundle_gzip_bytes = out.baseline.gzipBytes;
  if (ctx.wants('startup')) {
    for (const floor of FLOORS) {
      const name = `floor-${floor.dir}`;
      const config = `bench/floor/${floor.dir}/wrangler.toml`;
      say(`building ${name} (wrangler deploy --dry-run --config ${config})`);
      try {
        const bundle = await buildWorker(
          root,
          name,
          resolve(root, config),
          resolve(BUILD_DIR, name),
        );
        out.floors.push({ floor, bundle });
        ctx.figures[floor.gzip] = bundle.gzipBytes;
      } catch (e) {
        const reason = `the ${name} bundle did not build: ${(e as Error).message.split('\n').slice(0, 6).join(' ')}`;
        say(reason);
        skip(ctx, ['startup'], reason);
      }
    }
  }
  return out;
}

async function startupProbe(ctx: Context, gateway?: Bundle, baseline?: Bundle): Promise<void> {
  if (!ctx.wants('startup') || gateway === undefined || baseline === undefined) return;
  const n = String(ctx.o.startupIterations);
  say(`startup probe: ${n} fresh-context evaluations of each bundle`);
  const g = await runProbe<StartupReport>(
    root,
    'startup.ts',
    ['--experimental-vm-modules', '--no-warnings'],
    [gateway.mainPath, n],
  );
  const b = await runProbe<StartupReport>(
    root,
    'startup.ts',
    ['--experimental-vm-modules', '--no-warnings'],
    [baseline.mainPath, n],
  );
  if (!g.ok || !b.ok) {
    skip(
      ctx,
      ['startup'],
      `startup probe failed: ${!g.ok ? `gateway: ${g.reason}` : ''} ${!b.ok ? `baseline: ${b.reason}` : ''}`.trim(),
    );
    return;
  }
  ctx.figures.startup_node_ms = round(g.value.totalMs, 3);
  ctx.figures.startup_node_compile_ms = round(g.value.compileMs, 3);
  ctx.figures.startup_node_evaluate_ms = round(g.value.evaluateMs, 3);
  ctx.figures.baseline_startup_node_ms = round(b.value.totalMs, 3);
  say(
    `startup profile in Node: gateway ${g.value.totalMs.toFixed(2)} ms (compile ${g.value.compileMs.toFixed(2)}, evaluate ${g.value.evaluateMs.toFixed(2)}), baseline ${b.value.totalMs.toFixed(2)} ms`,
  );
}

async function l1MemoryProbe(ctx: Context): Promise<void> {
  if (!ctx.wants('l1_memory')) return;
  const n = String(ctx.o.l1Entries);
  say(`L1 memory probe: ${n} distinct tokens at the default cap, then with the cap raised to ${n}`);
  const flags = ['--expose-gc', '--no-warnings'];
  // Two processes at once: each measures its own heap, and the pair costs one fill time.
  const [capped, full] = await Promise.all([
    runProbe<L1Report>(root, 'l1-memory.ts', flags, [n, 'default']),
    runProbe<L1Report>(root, 'l1-memory.ts', flags, [n, n]),
  ]);
  if (!capped.ok || !full.ok) {
    skip(
      ctx,
      ['l1_memory'],
      [capped, full]
        .map((p) => (p.ok ? '' : p.reason))
        .filter(Boolean)
        .join('; '),
    );
    return;
  }
  if (capped.value.hitReloads > 0 || full.value.hitReloads > 0) {
    skip(ctx, ['l1_memory'], 'recently cached tokens were not answered from L1');
    return;
  }
  const f = ctx.figures;
  f.l1_cap = capped.value.cap;
  f.l1_entries_pushed = capped.value.entries;
  f.l1_size_after = capped.value.l1Size;
  f.l1_heap_bytes = capped.value.heapBytes;
  f.l1_full_heap_bytes = full.value.heapBytes;
  f.l1_bytes_per_entry = Math.round(full.value.bytesPerEntry);
  say(
    `L1: ${capped.value.l1Size} entries kept of ${n} (cap ${capped.value.cap}), ${(capped.value.heapBytes / 2 ** 20).toFixed(1)} MiB; ` +
      `${full.value.l1Size} entries uncapped: ${(full.value.heapBytes / 2 ** 20).toFixed(1)} MiB, ` +
      `${Math.round(full.value.bytesPerEntry)} B/entry`,
  );
}

/** One worker whose cold start is measured against the baseline's. */
interface ColdSubject {
  name: string;
  bundle: Bundle;
  env: Record<string, string>;
  /** Whether its first answer is the one it is meant to give (else the trials stop). */
  accepts(status: number): boolean;
}

/** Per subject: module startup per isolate beyond the baseline's, and its first answers. */
interface ColdTimings {
  baselineFirstMs: number[];
  subjects: Map<string, { startupMs: number[]; firstMs: number[] }>;
}

/**
 * Cold starts in workerd itself, of any list of workers against the hello-world baseline, all in
 * the same trials. One workerd process per worker per trial runs `copies` isolates of it; workerd
 * compiles and evaluates each one's modules before it is ready, so
 * (ready time with N copies − ready time with N hello worlds) / N is one isolate's startup beyond a
 * hello world's, with the process start cancelled out. Then each isolate's first answer is timed.
 * The order of the workers is reversed every other trial so that drift during the trials cancels.
 */
async function coldStarts(
  project: ProjectConfig,
  baseline: Bundle,
  subjects: readonly ColdSubject[],
  shape: RequestShape,
  trials: number,
  copies: number,
): Promise<ColdTimings | { failed: string }> {
  const lineup: ColdSubject[] = [
    { name: 'baseline', bundle: baseline, env: {}, accepts: (s) => s < 500 },
    ...subjects,
  ];
  const ready = new Map(lineup.map((w) => [w.name, [] as number[]]));
  const first = new Map(lineup.map((w) => [w.name, [] as number[]]));
  for (let i = 0; i < trials; i++) {
    for (const w of i % 2 === 0 ? lineup : [...lineup].reverse()) {
      const start = performance.now();
      const running = await startCopies(w.bundle, project, w.env, 'direct', copies);
      ready.get(w.name)!.push(performance.now() - start);
      try {
        for (const url of running.urls) {
          const t = performance.now();
          const res = await fetch(`${url}${shape.path}`, {
            method: shape.method,
            headers: shape.headers,
            body: shape.body!,
          });
          await res.arrayBuffer();
          first.get(w.name)!.push(performance.now() - t);
          if (!w.accepts(res.status))
            return { failed: `the ${w.name} answered ${res.status} to its first request` };
        }
      } finally {
        await running.dispose();
      }
    }
  }
  const base = ready.get('baseline')!;
  return {
    baselineFirstMs: first.get('baseline')!,
    subjects: new Map(
      subjects.map((w) => [
        w.name,
        {
          startupMs: ready.get(w.name)!.map((r, i) => (r - base[i]!) / copies),
          firstMs: first.get(w.name)!,
        },
      ]),
    ),
  };
}

/**
 * Startup of the gateway and of the stack's floor (bench/floor/) in workerd, measured by
 * coldStarts in the same trials. Each first request is an introspection without credentials:
 * the gateway and the floors answer 401, so no GHES in it.
 */
async function isolateStartups(
  ctx: Context,
  project: ProjectConfig,
  bundles: Bundles,
  gatewayEnv: Record<string, string>,
  fixture: Fixture,
): Promise<void> {
  const { baseline, gateway } = bundles;
  if (!ctx.wants('startup') || baseline === undefined || gateway === undefined) return;
  const { startupTrials: trials, startupCopies: copies } = ctx.o;
  const subjects: ColdSubject[] = [
    { name: 'gateway', bundle: gateway, env: gatewayEnv, accepts: (s) => s < 500 },
    // The floors need no bindings; each has exactly one answer to this request.
    ...bundles.floors.map(({ bundle }) => ({
      name: bundle.name,
      bundle,
      env: {},
      accepts: (s: number) => s === 401,
    })),
  ];
  say(
    `startup in workerd: ${trials} × ${copies} isolates of each of baseline, ${subjects.map((s) => s.name).join(', ')}`,
  );
  const shape = {
    ...introspectRequest(fixture, fixture.token),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
  const timed = await coldStarts(project, baseline, subjects, shape, trials, copies);
  if ('failed' in timed) {
    skip(ctx, ['startup'], timed.failed);
    return;
  }
  const f = ctx.figures;
  const baselineFirst = median(timed.baselineFirstMs);
  f.baseline_first_request_ms = round(baselineFirst, 2);
  /** Startup + first answer − the baseline's first answer, as cold_first_answer_extra_ms. */
  const extra = (name: string): { startup: number; first: number; extra: number } => {
    const t = timed.subjects.get(name)!;
    const startup = round(median(t.startupMs), 2);
    const first = round(median(t.firstMs), 2);
    return { startup, first, extra: round(startup + first - f.baseline_first_request_ms!, 2) };
  };
  const g = extra('gateway');
  f.startup_ms = g.startup;
  f.first_request_ms = g.first;
  f.cold_first_answer_extra_ms = g.extra;
  say(
    `startup: ${f.startup_ms} ms per gateway isolate beyond the baseline's; first answer ${f.first_request_ms} ms ` +
      `(baseline ${f.baseline_first_request_ms} ms)`,
  );
  for (const { floor, bundle } of bundles.floors) {
    const t = extra(bundle.name);
    f[floor.extra] = t.extra;
    say(
      `startup: ${bundle.name} ${t.startup} ms per isolate beyond the baseline's, first answer ${t.first} ms; cold answer ${t.extra} ms later than the baseline's`,
    );
  }
}

/**
 * The gateway's per-request cost inside one isolate, no HTTP (bench/lib/hot-path.ts), against the
 * emulator: the loops must be cache hits, so a GHES call during them fails the probe.
 */
async function hotPathProbe(
  ctx: Context,
  project: ProjectConfig,
  gateway: Bundle | undefined,
  gatewayEnv: Record<string, string> | undefined,
  fixture: Fixture,
  emulator: Emulator | undefined,
): Promise<void> {
  if (!ctx.wants('hot_path') || ctx.notRun.some((n) => n.scenario === 'hot_path')) return;
  if (gateway === undefined || gatewayEnv === undefined || emulator === undefined) return;
  const { hotPathRounds: rounds, hotPathRequests: n } = ctx.o;
  say(`hot path inside one isolate: ${rounds} rounds × ${n} requests of ${HOT_MODES.join(', ')}`);
  try {
    const t = await measureHotPath({
      bundle: gateway,
      project,
      bindings: gatewayEnv,
      callerJwt: fixture.callerJwt,
      token: fixture.token,
      app: fixture.app.name,
      rounds,
      requests: n,
      ghesCalls: () => emulator.settledCheckCalls(),
    });
    const f = ctx.figures;
    f.hot_hello_us = round(median(t.hello), 2);
    f.hot_introspect_us = round(median(t.introspect), 2);
    f.hot_forward_auth_us = round(median(t.forward_auth), 2);
    f.hot_hello_min_us = round(Math.min(...t.hello), 2);
    f.hot_introspect_min_us = round(Math.min(...t.introspect), 2);
    f.hot_forward_auth_min_us = round(Math.min(...t.forward_auth), 2);
    say(
      `hot path: hello ${f.hot_hello_us} µs, introspect ${f.hot_introspect_us} µs, forward auth ${f.hot_forward_auth_us} µs per request (medians)`,
    );
  } catch (e) {
    const reason = `hot path failed: ${(e as Error).message}`;
    say(reason);
    skip(ctx, ['hot_path'], reason);
  }
}

/** One extra run of a scenario with the gateway isolate's CPU profile recorded (not counted). */
async function profileScenario(
  s: LoadScenario,
  profiler: WorkerProfiler,
  gateway: Bundle,
  connections: number,
): Promise<void> {
  await profiler.start();
  const r = await runLoad(s.target, connections, s.bound('run'));
  const profile = await profiler.stop();
  const dir = resolve(BUILD_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${s.id}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const spots = hotSpots(profile, root, `${gateway.mainPath}.map`);
  process.stdout.write(
    `\nProfile of ${s.id} (${Math.round(r.rps)} req/s while profiled; ${relative(root, file)}), self time:\n` +
      spots.map((h) => `  ${h.selfPct.toFixed(1).padStart(5)} %  ${h.what}`).join('\n') +
      '\n',
  );
}

function writeDoc(results: Results): void {
  const chartRef = relative(dirname(DOC), CHART);
  const section = renderMarkdown(results, chartRef);
  let doc: string;
  if (existsSync(DOC)) {
    const current = readFileSync(DOC, 'utf8');
    const a = current.indexOf(DOC_BEGIN.slice(0, 30));
    const b = current.indexOf(DOC_END);
    doc =
      a >= 0 && b > a
        ? `${current.slice(0, a)}${section}${current.slice(b + DOC_END.length)}`
        : `${current.trimEnd()}\n\n## Latest results\n\n${section}\n`;
  } else {
    doc = `# Performance\n\n## Latest results\n\n${section}\n`;
  }
  writeFileSync(DOC, doc);
  writeFileSync(CHART, renderSvg(results));
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const o = parsed;
  const ctx: Context = {
    o,
    wants: (p) => o.only.length === 0 || o.only.includes(p),
    notRun: [],
    figures: emptyFigures(),
    cleanup: [],
    bundleComposition: [],
  };
  const f = ctx.figures;
  const machine = describeMachine(root);
  say(
    `${o.quick ? 'quick' : 'full'} run on ${machine.cpus} CPUs, node ${machine.node}, ${machine.workerd}`,
  );

  const project = await readProjectConfig(resolve(root, o.gatewayConfig ?? 'wrangler.toml'));
  if (project.unsupported.length > 0)
    say(
      `WARNING: the gateway config declares ${project.unsupported.join(', ')}, which the bench does not bind; scenarios that need them will fail their preflight`,
    );
  const bundles = await build(ctx);
  await startupProbe(ctx, bundles.gateway, bundles.baseline);
  // The L1 probe measures heap, not time: it runs while the emulator and workers start and the
  // token pools are minted, and is awaited before any load.
  const l1Done = l1MemoryProbe(ctx);

  // The caller key and a placeholder app exist even without the emulator, for the baseline.
  const caller = await createCaller();
  let emulator: Emulator | undefined;
  let app: EmulatorApp = {
    name: 'demo-oauth',
    client_id: 'Iv1.0000000000000000',
    client_secret: 'unused',
    kind: 'oauth_app',
  };
  let token = `gho_${'0'.repeat(36)}`;
  const needsEmulator = [...GATEWAY_PARTS, 'peer' as const].filter((p) => ctx.wants(p));
  if (needsEmulator.length > 0) {
    say(`starting the GHES emulator (version ${GHES_VERSION}, +${o.latencyMs} ms)`);
    try {
      const started = await startGhesEmulator(root, {
        version: GHES_VERSION,
        latencyMs: o.latencyMs,
      });
      if (started.ok) {
        emulator = started.emulator;
        ctx.cleanup.push(() => started.emulator.close());
        app = pickApp(await emulator.apps());
        await emulator.setLatency(0);
        token = await emulator.mintToken(app.name, 'bench-user');
        await emulator.setLatency(o.latencyMs);
      } else {
        say(`GHES emulator unavailable: ${started.reason}`);
        skip(
          ctx,
          needsEmulator,
          `needs the GHES emulator, which is unavailable: ${started.reason}`,
        );
      }
    } catch (e) {
      const reason = `the GHES emulator failed to start: ${(e as Error).message}`;
      say(reason);
      skip(ctx, needsEmulator, reason);
      emulator = undefined;
    }
  }
  const fixture: Fixture = { options: o, app, callerJwt: caller.jwt, token };
  const gatewayEnv =
    emulator === undefined
      ? undefined
      : gatewayBindings({ ghesBaseUrl: emulator.apiBase, ghesVersion: GHES_VERSION, app, caller });

  // Workers, then preflights: each scenario proves it measures what it claims before any load.
  const scenarios: LoadScenario[] = [];
  const prepare = async (part: PartId, make: () => Promise<LoadScenario>): Promise<void> => {
    if (!ctx.wants(part) || ctx.notRun.some((n) => n.scenario === part)) return;
    try {
      scenarios.push(await make());
    } catch (e) {
      const reason =
        e instanceof NotRunnable ? e.message : `preflight failed: ${(e as Error).message}`;
      say(`${part} cannot run: ${reason}`);
      ctx.notRun.push({ scenario: part, reason });
    }
  };
  const workers: RunningWorker[] = [];
  const start = async (
    bundle: Bundle,
    env: Record<string, string>,
    inspect = false,
  ): Promise<RunningWorker> => {
    const w = await startWorker(
      bundle,
      project,
      env,
      o.via,
      inspect ? await freePort() : undefined,
    );
    workers.push(w);
    return w;
  };

  let gatewayWorker: RunningWorker | undefined;
  /** Which worker serves each gateway scenario (for --profile). */
  const profiled = new Map<LoadId, RunningWorker>();
  let directPool: TokenPool | undefined;
  let burstReady = false;
  let busyBeforeLoad: number | null = null;
  try {
    if (bundles.baseline !== undefined && ctx.wants('baseline')) {
      const w = await start(bundles.baseline, {});
      await prepare('baseline', async () => baselineScenario(fixture, w.url));
    }
    if (emulator !== undefined && gatewayEnv !== undefined && bundles.gateway !== undefined) {
      const em = emulator;
      if (
        ['introspect_hit', 'forward_auth_hit', 'introspect_miss', 'burst'].some((p) =>
          ctx.wants(p as PartId),
        )
      ) {
        gatewayWorker = await start(bundles.gateway, gatewayEnv, o.profile);
        for (const id of ['introspect_hit', 'forward_auth_hit', 'introspect_miss'] as const)
          profiled.set(id, gatewayWorker);
        const url = gatewayWorker.url;
        await prepare('introspect_hit', () =>
          introspectHitScenario('introspect_hit', fixture, url, em),
        );
        await prepare('forward_auth_hit', () => forwardAuthHitScenario(fixture, url, em));
        if (ctx.wants('burst')) {
          try {
            await burstPreflight(fixture, url, await em.mintTokens(app.name, 1).then((t) => t[0]!));
            burstReady = true;
          } catch (e) {
            const reason =
              e instanceof NotRunnable ? e.message : `preflight failed: ${(e as Error).message}`;
            say(`burst cannot run: ${reason}`);
            ctx.notRun.push({ scenario: 'burst', reason });
          }
        }
        if (ctx.wants('introspect_miss')) {
          await prepare('introspect_miss', async () => {
            // Prove the route first, with one token; only then mint the pools.
            await introspectMissScenario(
              fixture,
              url,
              new TokenPool(await em.mintTokens(app.name, 1)),
            );
            const n = tokensNeeded(o);
            say(`minting 2 × ${n} fresh tokens for introspect_miss and its emulator reference`);
            const gatewayPool = new TokenPool(await em.mintTokens(app.name, n));
            directPool = new TokenPool(await em.mintTokens(app.name, n));
            return introspectMissScenario(fixture, url, gatewayPool);
          });
          if (scenarios.some((s) => s.id === 'introspect_miss') && directPool !== undefined) {
            try {
              scenarios.push(await emulatorDirectScenario(fixture, em, directPool));
            } catch (e) {
              ctx.notRun.push({
                scenario: 'introspect_miss',
                reason: `emulator reference: ${(e as Error).message}`,
              });
              scenarios.splice(
                scenarios.findIndex((s) => s.id === 'introspect_miss'),
                1,
              );
            }
          }
        }
      }
      if (ctx.wants('introspect_kv_hit')) {
        const w = await start(
          bundles.gateway,
          { ...gatewayEnv, CACHE_L1_MAX_ENTRIES: '0' },
          o.profile,
        );
        profiled.set('introspect_kv_hit', w);
        await prepare('introspect_kv_hit', () =>
          introspectHitScenario('introspect_kv_hit', fixture, w.url, em),
        );
      }
    }
    if (emulator !== undefined && bundles.peer !== undefined && ctx.wants('peer')) {
      const w = await start(bundles.peer, peerBindings(emulator.apiBase, app));
      await prepare('peer', () => peerScenario(fixture, w.url));
    }

    await l1Done;
    // Other work on the machine skews every figure; measure it while our workers are idle.
    const busy = await busyPercent(1000);
    busyBeforeLoad = busy;
    if (busy > BUSY_WARNING_PCT)
      say(
        `WARNING: the machine was ${busy} % busy with other work before the load started; figures will be low and noisy`,
      );

    // Warm-up, then interleaved rounds.
    for (const s of scenarios) {
      say(`warm-up ${s.id}`);
      await runLoad(s.target, o.connections, s.bound('warmup'));
    }
    // GHES calls still arriving from the warm-ups must not count against the first run.
    if (emulator !== undefined) await emulator.settledCheckCalls();
    const measured = new Map<LoadId, MeasuredRun[]>();
    let active = [...scenarios];
    for (let round_ = 1; round_ <= o.runs; round_++) {
      for (const s of [...active]) {
        const counted = emulator !== undefined && s.upstream !== 'n/a';
        const before = counted ? await emulator!.checkCalls() : 0;
        const cpuA = cpuSnapshot();
        const r = await runLoad(s.target, o.connections, s.bound('run'));
        const otherCpu = otherCpuPercent(cpuA, cpuSnapshot());
        const calls = counted ? (await emulator!.settledCheckCalls()) - before : null;
        const problem = runProblem(r) ?? s.problem?.() ?? upstreamProblem(s, r, calls);
        say(
          `run ${round_}/${o.runs} ${s.id.padEnd(17)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms` +
            (calls === null ? '' : `  GHES calls ${calls}`) +
            (otherCpu === null
              ? ''
              : `  other CPU ${otherCpu} %${otherCpu > DISTURBED_PCT ? ' (DISTURBED)' : ''}`) +
            (problem === undefined ? '' : `  REJECTED: ${problem}`),
        );
        if (problem !== undefined) {
          const part: PartId = s.id === 'emulator_direct' ? 'introspect_miss' : s.id;
          ctx.notRun.push({ scenario: part, reason: `run ${round_}: ${problem}` });
          active = active.filter(
            (x) =>
              x !== s &&
              !(
                part === 'introspect_miss' &&
                (x.id === 'introspect_miss' || x.id === 'emulator_direct')
              ),
          );
          continue;
        }
        const list = measured.get(s.id) ?? [];
        list.push({ r, calls, otherCpu });
        measured.set(s.id, list);
      }
    }
    const summaries = active.map((s) => summarize(s, measured.get(s.id) ?? []));
    const get = (id: LoadId) => summaries.find((s) => s.id === id);
    const fill = (id: LoadId, rpsKey: keyof Figures | null, p99Key: keyof Figures | null) => {
      const s = get(id);
      if (s === undefined) return;
      if (rpsKey !== null) f[rpsKey] = round(s.rps, 1);
      if (p99Key !== null) f[p99Key] = round(s.p99Ms, 3);
    };
    fill('baseline', 'baseline_rps', 'baseline_p99_ms');
    fill('introspect_hit', 'introspect_hit_rps', 'introspect_hit_p99_ms');
    fill('introspect_kv_hit', 'introspect_kv_hit_rps', 'introspect_kv_hit_p99_ms');
    fill('forward_auth_hit', 'forward_auth_hit_rps', 'forward_auth_hit_p99_ms');
    fill('peer', 'peer_rps', 'peer_p99_ms');
    fill('introspect_miss', 'introspect_miss_rps', null);
    const miss = get('introspect_miss');
    const direct = get('emulator_direct');
    if (miss !== undefined && direct !== undefined) {
      f.introspect_miss_p50_ms = round(miss.p50Ms, 3);
      f.emulator_direct_p50_ms = round(direct.p50Ms, 3);
      f.introspect_miss_added_p50_ms = round(miss.p50Ms - direct.p50Ms, 3);
    }

    if (o.profile && bundles.gateway !== undefined) {
      // One inspector session per worker: the proxy admits a single client at a time.
      const sessions = new Map<RunningWorker, WorkerProfiler>();
      try {
        for (const s of active) {
          const w = profiled.get(s.id);
          if (w?.inspectorPort === undefined) continue;
          try {
            let session = sessions.get(w);
            if (session === undefined) {
              session = await WorkerProfiler.connect(w.inspectorPort, w.name);
              sessions.set(w, session);
            }
            await profileScenario(s, session, bundles.gateway, o.connections);
          } catch (e) {
            say(`profile of ${s.id} failed: ${(e as Error).message}`);
          }
        }
      } finally {
        for (const session of sessions.values()) session.close();
      }
    }

    // Burst: each round a token nobody has checked yet, all requests at once.
    const burstRuns: BurstResult[] = [];
    if (burstReady && emulator !== undefined && gatewayWorker !== undefined) {
      const gw = gatewayWorker;
      try {
        for (let i = 0; i < o.runs; i++) {
          await emulator.setLatency(0);
          const fresh = await emulator.mintToken(app.name, `bench-burst-${i}`);
          await emulator.setLatency(o.latencyMs);
          const b = await burst(fixture, gw.url, emulator, fresh);
          say(
            `burst ${i + 1}/${o.runs}: ${o.burstSize} requests → ${b.upstreamCalls} GHES calls, statuses ${JSON.stringify(b.statuses)}, ${b.elapsedMs.toFixed(0)} ms`,
          );
          const ok = b.statuses['200'] === o.burstSize && b.inactive === 0;
          if (!ok) {
            const reason = `burst ${i + 1}: expected ${o.burstSize} answers 200 with "active": true, got statuses ${JSON.stringify(b.statuses)} (${b.inactive} not active)`;
            ctx.notRun.push({ scenario: 'burst', reason });
            burstRuns.length = 0;
            break;
          }
          burstRuns.push(b);
        }
      } catch (e) {
        ctx.notRun.push({ scenario: 'burst', reason: `burst failed: ${(e as Error).message}` });
        burstRuns.length = 0;
      }
      if (burstRuns.length > 0)
        f.burst_upstream_calls = Math.max(...burstRuns.map((b) => b.upstreamCalls));
    }

    // Free the machine before the hot path and the cold starts.
    for (const w of workers.splice(0)) await w.dispose();
    // The first request of a cold start needs no GHES; without the emulator the gateway points
    // at a closed port.
    const coldEnv =
      gatewayEnv ??
      gatewayBindings({
        ghesBaseUrl: 'http://127.0.0.1:9/api/v3',
        ghesVersion: GHES_VERSION,
        app,
        caller,
      });
    await hotPathProbe(ctx, project, bundles.gateway, gatewayEnv, fixture, emulator);
    await isolateStartups(ctx, project, bundles, coldEnv, fixture);

    const complete = ctx.notRun.length === 0 && o.only.length === 0;
    const results: Results = {
      date: new Date().toISOString(),
      quick: o.quick,
      complete,
      ...f,
      targets: evaluateTargets(f),
      not_run: ctx.notRun,
      settings: {
        connections: o.connections,
        duration_s: o.durationS,
        warmup_s: o.warmupS,
        runs: o.runs,
        latency_ms: o.latencyMs,
        via: o.via,
        miss_requests: o.missRequests,
        burst_size: o.burstSize,
        ghes_version: GHES_VERSION,
        startup_trials: o.startupTrials,
        startup_copies: o.startupCopies,
        hot_path_rounds: o.hotPathRounds,
        hot_path_requests: o.hotPathRequests,
      },
      machine: { ...machine, busyPercentBeforeLoad: busyBeforeLoad },
      bundle_composition: ctx.bundleComposition,
      scenarios: summaries,
      burst_runs: burstRuns.map(({ upstreamCalls, statuses, inactive }) => ({
        upstreamCalls,
        statuses,
        inactive,
      })),
    };
    process.stdout.write(renderText(results));
    // Every run's full results, also those that do not replace latest.json (--only, --gateway-config).
    mkdirSync(BUILD_DIR, { recursive: true });
    writeFileSync(resolve(BUILD_DIR, 'last-run.json'), `${JSON.stringify(results, null, 2)}\n`);
    if (o.only.length === 0 && o.gatewayConfig === undefined && !o.profile) {
      mkdirSync(dirname(RESULTS), { recursive: true });
      writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
      say(`wrote ${relative(root, RESULTS)}`);
      if (o.docs) {
        writeDoc(results);
        say(`wrote ${relative(root, DOC)} and ${relative(root, CHART)}`);
      }
    }
    say(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (!complete) {
      if (o.only.length === 0)
        process.stderr.write(
          `\nINCOMPLETE: ${ctx.notRun.length} part(s) did not run; no figure stands in for them.\n`,
        );
      return ctx.notRun.length > 0 ? 1 : 0;
    }
    if (o.strict && results.targets.some((t) => t.status === 'fail')) return 2;
    return 0;
  } finally {
    for (const w of workers.splice(0)) await w.dispose().catch(() => undefined);
    for (const c of ctx.cleanup.splice(0).reverse()) await c().catch(() => undefined);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(
      `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 1;
  },
);
