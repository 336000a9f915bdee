/**
 * Step 7: the results: the printed table, bench/.build/last-run.json always,
 * bench/results/latest.json and docs/performance.md + chart for a run of every part; the exit code.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Machine } from '../lib/machine';
import { DOC_BEGIN, DOC_END, renderMarkdown, renderSvg, renderText } from '../lib/report';
import { evaluateTargets, type LoadSummary, type Results } from '../lib/results';
import type { BurstResult } from '../lib/scenarios';
import { BUILD_DIR, elapsedS, GHES_VERSION, root, say, type Context } from './context';

const RESULTS = resolve(root, 'bench/results/latest.json');
const DOC = resolve(root, 'docs/performance.md');
const CHART = resolve(root, 'docs/performance.svg');

export interface RunRecord {
  machine: Machine;
  busyBeforeLoad: number | null;
  summaries: LoadSummary[];
  burstRuns: BurstResult[];
}

function assemble(ctx: Context, run: RunRecord): Results {
  const { o, figures: f } = ctx;
  return {
    date: new Date().toISOString(),
    quick: o.quick,
    complete: ctx.notRun.length === 0 && o.only.length === 0,
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
    machine: { ...run.machine, busyPercentBeforeLoad: run.busyBeforeLoad },
    bundle_composition: ctx.bundleComposition,
    schema_candidates: ctx.candidates,
    scenarios: run.summaries,
    burst_runs: run.burstRuns.map(({ upstreamCalls, statuses, inactive }) => ({
      upstreamCalls,
      statuses,
      inactive,
    })),
  };
}

/** Replaces the generated section of docs/performance.md (or starts the doc) and the chart. */
function writeDoc(results: Results): void {
  const section = renderMarkdown(results, relative(dirname(DOC), CHART));
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

function save(ctx: Context, results: Results): void {
  const { o } = ctx;
  const json = `${JSON.stringify(results, null, 2)}\n`;
  // Every run's full results, also those that do not replace latest.json (--only, --gateway-config).
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(resolve(BUILD_DIR, 'last-run.json'), json);
  if (o.only.length > 0 || o.gatewayConfig !== undefined || o.profile) return;
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, json);
  say(`wrote ${relative(root, RESULTS)}`);
  if (o.docs) {
    writeDoc(results);
    say(`wrote ${relative(root, DOC)} and ${relative(root, CHART)}`);
  }
}

/** Prints and writes the results; returns the exit code (1 incomplete, 2 --strict and a miss). */
export function report(ctx: Context, run: RunRecord): number {
  const results = assemble(ctx, run);
  process.stdout.write(renderText(results));
  save(ctx, results);
  say(`done in ${elapsedS()} s`);
  if (!results.complete) {
    if (ctx.o.only.length === 0)
      process.stderr.write(
        `\nINCOMPLETE: ${ctx.notRun.length} part(s) did not run; no figure stands in for them.\n`,
      );
    return ctx.notRun.length > 0 ? 1 : 0;
  }
  if (ctx.o.strict && results.targets.some((t) => t.status === 'fail')) return 2;
  return 0;
}
