/**
 * How every fast-check property in the suite chooses its seed, run count and time budget.
 *
 * Seed. `npm test` and CI use one fixed seed (test/fast-check.setup.ts sets it globally, for every
 * `fc.assert` in every file): each run of the suite, on every clone and every date, generates
 * the same cases, so a red run is red again wherever it is rerun, and a green one cannot turn red
 * by the luck of the draw. Exploring beyond those cases is a deliberate act:
 * - `FC_SEED=<integer>` replays a seed (a failure prints `seed` and `path`);
 * - `FC_SEED=random` draws a fresh seed per test file and prints it first;
 * - `FC_RUNS=<n>` runs n cases per property that takes its count from `propertyPlan`.
 * e.g. `FC_SEED=random FC_RUNS=2000 npx vitest run test/property`. The variables reach workerd
 * through vitest.config.ts `provide`.
 *
 * Time. A property is a loop of `numRuns` cases inside one vitest test, so it costs runs × the
 * cost of a case, and vitest's default 5 s timeout is no budget for that: under a parallel full
 * suite on a loaded machine the secrecy lifecycle property ran past it and was killed mid-loop,
 * with no seed printed. `propertyPlan` states the budget instead: a per-case cost (measured, then
 * given a wide margin) times the runs, plus room for fast-check to shrink a counterexample, so
 * that a real failure is reported with its seed rather than cut off by the timeout.
 */
import fc from 'fast-check';
import { inject } from 'vitest';

/** The suite's seed when FC_SEED is not set. Any integer; changing it changes the cases. */
export const DEFAULT_SEED = 20261121;

/** Shrinking a counterexample replays the property; this many extra cases are budgeted for it. */
const SHRINK_RUNS = 100;

/** FC_SEED's value as a seed: '' → DEFAULT_SEED, 'random' → a fresh one, else a 32-bit integer. */
export function parseSeed(raw: string): number {
  if (raw === '') return DEFAULT_SEED;
  if (raw === 'random') return crypto.getRandomValues(new Int32Array(1))[0]!;
  const n = Number(raw);
  if (!/^-?\d{1,10}$/.test(raw) || n !== (n | 0)) {
    throw new Error(`FC_SEED must be a 32-bit integer or "random", not ${JSON.stringify(raw)}`);
  }
  return n;
}

/** FC_RUNS's value: '' → undefined (each property's own count), else a positive integer. */
export function parseRuns(raw: string): number | undefined {
  if (raw === '') return undefined;
  if (!/^[1-9]\d{0,6}$/.test(raw)) {
    throw new Error(`FC_RUNS must be a positive integer, not ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Resolved once per test file, so FC_SEED=random draws (and prints) one seed per file. */
export const SEED = parseSeed(inject('fcSeed'));
if (inject('fcSeed') === 'random') {
  console.info(`fast-check: FC_SEED=random drew seed ${SEED}; replay with FC_SEED=${SEED}`);
}
const RUNS_OVERRIDE = parseRuns(inject('fcRuns'));

export interface PropertyPlan {
  /** For fc.assert: the seed and the number of runs. */
  params: { seed: number; numRuns: number };
  numRuns: number;
  /** vitest timeout for the test that runs the property, in ms. */
  timeoutMs: number;
}

/**
 * The plan for one property: `runs` cases (FC_RUNS overrides), each budgeted `perRunMs` of wall
 * time on a loaded machine.
 */
export function propertyPlan(runs: number, perRunMs: number): PropertyPlan {
  const numRuns = RUNS_OVERRIDE ?? runs;
  return {
    params: { seed: SEED, numRuns },
    numRuns,
    timeoutMs: (numRuns + SHRINK_RUNS) * perRunMs,
  };
}

/** Makes SEED the default of every fc.assert / fc.check in this test file. */
export function applySeedPolicy(): void {
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: SEED });
}
