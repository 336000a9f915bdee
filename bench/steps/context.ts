/** What every step of a bench run shares: options, the figures being filled, what did not run. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, PartId } from '../lib/options';
import { emptyFigures, type CandidateFigures, type Figures, type NotRun } from '../lib/results';
import { NotRunnable } from '../lib/scenarios';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD_DIR = resolve(root, 'bench/.build');
export const GHES_VERSION = '3.22';

/**
 * A `--quick` run of every part: it leaves out what would take it past its minute (the
 * schema-stack candidates, the required-work worker, the `*_sampled` gateway), which a full run or
 * an `--only` naming them measures.
 */
export function plainQuick(ctx: Context): boolean {
  return ctx.o.quick && ctx.o.only.length === 0;
}

/**
 * The required-work worker (bench/required/): its two HTTP scenarios and the hot-path probe's
 * `required_*` modes; not in a plain `--quick`.
 */
export function wantsRequiredWork(ctx: Context): boolean {
  if (plainQuick(ctx)) return false;
  return (['required_introspect', 'required_forward_auth', 'hot_path'] as const).some((p) =>
    ctx.wants(p),
  );
}

/** The sampling gateway's two HTTP scenarios (`LOG_SAMPLE_HITS=1`); not in a plain `--quick`. */
export function wantsSampledGateway(ctx: Context): boolean {
  if (plainQuick(ctx)) return false;
  return (['introspect_hit_sampled', 'forward_auth_hit_sampled'] as const).some((p) =>
    ctx.wants(p),
  );
}

/** The parts that need the gateway bundle and the GHES emulator. */
export const GATEWAY_PARTS: readonly PartId[] = [
  'introspect_hit',
  'introspect_hit_sampled',
  'introspect_kv_hit',
  'introspect_miss',
  'forward_auth_hit',
  'forward_auth_hit_sampled',
  'burst',
  'hot_path',
];

const t0 = performance.now();

export function elapsedS(): string {
  return ((performance.now() - t0) / 1000).toFixed(1);
}

export function say(msg: string): void {
  process.stderr.write(`[bench ${elapsedS().padStart(5)} s] ${msg}\n`);
}

export interface Context {
  o: BenchOptions;
  wants(part: PartId): boolean;
  notRun: NotRun[];
  figures: Figures;
  cleanup: Array<() => Promise<void>>;
  bundleComposition: Array<{ source: string; bytes: number }>;
  /** The schema-stack candidate floors built for this run (bench/steps/build.ts), in order. */
  candidates: CandidateFigures[];
}

export function createContext(o: BenchOptions): Context {
  return {
    o,
    wants: (p) => o.only.length === 0 || o.only.includes(p),
    notRun: [],
    figures: emptyFigures(),
    cleanup: [],
    bundleComposition: [],
    candidates: [],
  };
}

/** Marks the wanted ones of `parts` as not run, for `reason`. */
export function skip(ctx: Context, parts: readonly PartId[], reason: string): void {
  for (const p of parts) if (ctx.wants(p)) ctx.notRun.push({ scenario: p, reason });
}

/** Whether `part` is wanted and nothing has ruled it out yet. */
export function stillWanted(ctx: Context, part: PartId): boolean {
  return ctx.wants(part) && !ctx.notRun.some((n) => n.scenario === part);
}

/** Why a preflight refused a scenario. */
export function preflightReason(e: unknown): string {
  return e instanceof NotRunnable ? e.message : `preflight failed: ${(e as Error).message}`;
}
