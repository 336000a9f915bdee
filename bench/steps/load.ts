/**
 * Step 5: the HTTP load. One warm-up per scenario, then `runs` rounds that each run every
 * scenario once (interleaved, so drift of this shared machine hits all scenarios alike); a run
 * that cannot count (errors, wrong GHES traffic) drops its scenario. Medians become the figures.
 */
import type { Emulator } from '../lib/emulator';
import { cpuSnapshot, otherCpuPercent } from '../lib/interference';
import { runLoad, runProblem, type RunResult } from '../lib/load';
import { busyPercent } from '../lib/machine';
import type { PartId } from '../lib/options';
import { DISTURBED_PCT, type Figures, type LoadSummary, type NumberFigure } from '../lib/results';
import type { LoadId, LoadScenario } from '../lib/scenarios';
import { median, round } from '../lib/stats';
import { say, type Context } from './context';

/** Above this share of CPU used by other processes before the load, the run warns. */
const BUSY_WARNING_PCT = 10;

/** GHES calls a run may cause and still count as all cache hits (refresh-ahead, if any). */
const HIT_UPSTREAM_TOLERANCE = 0.01;

interface MeasuredRun {
  r: RunResult;
  calls: number | null;
  otherCpu: number | null;
}

export interface LoadOutcome {
  /** The scenarios that were not dropped, in run order. */
  active: LoadScenario[];
  summaries: LoadSummary[];
}

/**
 * Other work on the machine skews every figure; measured while our workers are idle.
 * Returns the busy percentage.
 */
export async function checkIdle(): Promise<number> {
  const busy = await busyPercent(1000);
  if (busy > BUSY_WARNING_PCT)
    say(
      `WARNING: the machine was ${busy} % busy with other work before the load started; figures will be low and noisy`,
    );
  return busy;
}

function upstreamProblem(s: LoadScenario, r: RunResult, calls: number | null): string | undefined {
  if (calls === null || s.upstream === 'n/a') return undefined;
  if (s.upstream === 'none' && calls > r.responses * HIT_UPSTREAM_TOLERANCE)
    return `${calls} GHES calls for ${r.responses} answers: these were not cache hits`;
  if (s.upstream === 'each' && calls < r.responses)
    return `only ${calls} GHES calls for ${r.responses} answers: not every request reached GHES`;
  return undefined;
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

/** One measured run, with the GHES calls it caused and the CPU others used meanwhile. */
async function measureRun(
  ctx: Context,
  s: LoadScenario,
  emulator: Emulator | undefined,
): Promise<MeasuredRun & { problem: string | undefined }> {
  const counted = emulator !== undefined && s.upstream !== 'n/a';
  const before = counted ? await emulator.checkCalls() : 0;
  const cpuA = cpuSnapshot();
  const r = await runLoad(s.target, ctx.o.connections, s.bound('run'));
  const otherCpu = otherCpuPercent(cpuA, cpuSnapshot());
  const calls = counted ? (await emulator.settledCheckCalls()) - before : null;
  const problem = runProblem(r) ?? s.problem?.() ?? upstreamProblem(s, r, calls);
  return { r, calls, otherCpu, problem };
}

function logRun(round_: number, runs: number, s: LoadScenario, m: MeasuredRun, problem?: string) {
  const { r, calls, otherCpu } = m;
  say(
    `run ${round_}/${runs} ${s.id.padEnd(24)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms` +
      (calls === null ? '' : `  GHES calls ${calls}`) +
      (otherCpu === null
        ? ''
        : `  other CPU ${otherCpu} %${otherCpu > DISTURBED_PCT ? ' (DISTURBED)' : ''}`) +
      (problem === undefined ? '' : `  REJECTED: ${problem}`),
  );
}

/** The scenarios left after `s` is dropped (the miss path and its reference go together). */
function drop(active: LoadScenario[], s: LoadScenario, part: PartId): LoadScenario[] {
  const paired = (x: LoadScenario) =>
    part === 'introspect_miss' && (x.id === 'introspect_miss' || x.id === 'emulator_direct');
  return active.filter((x) => x !== s && !paired(x));
}

async function measureRounds(
  ctx: Context,
  scenarios: LoadScenario[],
  emulator: Emulator | undefined,
): Promise<LoadOutcome> {
  const { runs } = ctx.o;
  const measured = new Map<LoadId, MeasuredRun[]>();
  let active = [...scenarios];
  for (let round_ = 1; round_ <= runs; round_++) {
    for (const s of [...active]) {
      const { problem, ...m } = await measureRun(ctx, s, emulator);
      logRun(round_, runs, s, m, problem);
      if (problem !== undefined) {
        const part: PartId = s.id === 'emulator_direct' ? 'introspect_miss' : s.id;
        ctx.notRun.push({ scenario: part, reason: `run ${round_}: ${problem}` });
        active = drop(active, s, part);
        continue;
      }
      measured.set(s.id, [...(measured.get(s.id) ?? []), m]);
    }
  }
  return { active, summaries: active.map((s) => summarize(s, measured.get(s.id) ?? [])) };
}

function fillFigures(f: Figures, summaries: LoadSummary[]): void {
  const get = (id: LoadId) => summaries.find((s) => s.id === id);
  const fill = (id: LoadId, rpsKey: NumberFigure | null, p99Key: NumberFigure | null) => {
    const s = get(id);
    if (s === undefined) return;
    if (rpsKey !== null) f[rpsKey] = round(s.rps, 1);
    if (p99Key !== null) f[p99Key] = round(s.p99Ms, 3);
  };
  fill('baseline', 'baseline_rps', 'baseline_p99_ms');
  fill('introspect_hit', 'introspect_hit_rps', 'introspect_hit_p99_ms');
  fill('introspect_hit_sampled', 'introspect_hit_sampled_rps', null);
  fill('introspect_kv_hit', 'introspect_kv_hit_rps', 'introspect_kv_hit_p99_ms');
  fill('forward_auth_hit', 'forward_auth_hit_rps', 'forward_auth_hit_p99_ms');
  fill('forward_auth_hit_sampled', 'forward_auth_hit_sampled_rps', null);
  fill('peer', 'peer_rps', 'peer_p99_ms');
  fill('required_introspect', 'required_introspect_rps', null);
  fill('required_forward_auth', 'required_forward_auth_rps', null);
  fill('introspect_miss', 'introspect_miss_rps', null);
  // The miss path's cost is its median beyond the same requests sent straight to the emulator.
  const miss = get('introspect_miss');
  const direct = get('emulator_direct');
  if (miss !== undefined && direct !== undefined) {
    f.introspect_miss_p50_ms = round(miss.p50Ms, 3);
    f.emulator_direct_p50_ms = round(direct.p50Ms, 3);
    f.introspect_miss_added_p50_ms = round(miss.p50Ms - direct.p50Ms, 3);
  }
}

export async function runLoadScenarios(
  ctx: Context,
  scenarios: LoadScenario[],
  emulator: Emulator | undefined,
): Promise<LoadOutcome> {
  for (const s of scenarios) {
    say(`warm-up ${s.id}`);
    await runLoad(s.target, ctx.o.connections, s.bound('warmup'));
  }
  // GHES calls still arriving from the warm-ups must not count against the first run.
  if (emulator !== undefined) await emulator.settledCheckCalls();
  const outcome = await measureRounds(ctx, scenarios, emulator);
  fillFigures(ctx.figures, outcome.summaries);
  return outcome;
}
