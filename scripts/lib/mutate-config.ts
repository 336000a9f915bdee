/**
 * What scripts/mutate.ts mutates, and which tests judge each mutant. Edit here.
 *
 * Tests run in stages: the first stage is the mutated module's own folder of tests (its namesake
 * test files first: fast, and they kill most mutants); only a mutant that survives it pays for
 * the second stage, the slower suites that drive the whole gateway. A mutant survives when every
 * stage passes.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Files or folders (repository-relative) whose `.ts` files are mutated. */
export const TARGETS: readonly string[] = [
  'src/cache',
  'src/auth',
  'src/routes',
  'src/tokens',
  'src/ghes/request.ts',
  'src/ghes/outcome.ts',
  'src/ghes/answer.ts',
];

/** Never mutated: generated code and pure declarations. */
export const SKIP: readonly RegExp[] = [/\.generated\.ts$/, /\.d\.ts$/, /(^|\/)schemas\.ts$/];

export interface TestRule {
  /** Applies to source files starting with this prefix; the longest matching prefix wins. */
  src: string;
  /** Test files or folders, per stage. */
  stages: readonly (readonly string[])[];
}

/**
 * Test titles skipped in every mutant run because they fail at random, which would count
 * mutants as killed that no test noticed. Empty this list once issue 9's flake fix lands.
 * (Tests that fail in a stage's unmutated baseline are skipped anyway.)
 */
export const KNOWN_FLAKY: readonly string[] = [
  // Empty: the fast-check properties run on one fixed seed with bounded work (test/helpers/fast-check.ts).
];

const GATEWAY = ['test/routes', 'test/resilience', 'test/hostile'];

export const TEST_MAP: readonly TestRule[] = [
  { src: 'src/cache/', stages: [['test/cache'], GATEWAY] },
  { src: 'src/auth/', stages: [['test/auth'], [...GATEWAY, 'test/middleware']] },
  { src: 'src/routes/', stages: [['test/routes'], ['test/resilience', 'test/hostile']] },
  { src: 'src/tokens/', stages: [['test/tokens'], ['test/resilience', 'test/routes']] },
  { src: 'src/ghes/request.ts', stages: [['test/ghes'], ['test/resilience']] },
  { src: 'src/ghes/outcome.ts', stages: [['test/ghes'], ['test/resilience']] },
  { src: 'src/ghes/answer.ts', stages: [['test/ghes'], ['test/resilience']] },
];

/** The rule for one source file, or undefined when nothing maps it (the file is then skipped). */
export function ruleFor(file: string, map: readonly TestRule[] = TEST_MAP): TestRule | undefined {
  return map.filter((r) => file.startsWith(r.src)).sort((a, b) => b.src.length - a.src.length)[0];
}

/** `.ts` files under the given files or folders, sorted, minus SKIP. */
export function expandTs(root: string, entries: readonly string[], suffix = '.ts'): string[] {
  const out = new Set<string>();
  const walk = (rel: string): void => {
    const abs = join(root, rel);
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs)) walk(`${rel}/${name}`);
    } else if (rel.endsWith(suffix) && !SKIP.some((re) => re.test(rel))) out.add(rel);
  };
  for (const e of entries) walk(e.replace(/\/+$/, ''));
  return [...out].sort();
}

/** Test files of one stage (vitest treats CLI arguments as filters, so list files exactly). */
export function stageFiles(root: string, entries: readonly string[]): string[] {
  return expandTs(root, entries, '.test.ts');
}

export interface Step {
  /** The configured stage: its baseline (unmutated run) applies to this step. */
  stage: readonly string[];
  /** Which of that stage's test files this step runs. */
  pick: (testFile: string) => boolean;
}

/**
 * The test runs for one source file, cheapest first: its namesake tests in stage 1's folders
 * (`src/auth/policy.ts` → `test/auth/policy*.test.ts`), the rest of stage 1, then each later
 * stage. Empty steps are skipped by the caller.
 */
export function stepsFor(file: string, map: readonly TestRule[] = TEST_MAP): Step[] {
  const [first, ...later] = ruleFor(file, map)?.stages ?? [];
  if (first === undefined) return [];
  const base = (file.split('/').pop() ?? file).replace(/\.ts$/, '');
  const namesake = (t: string) => (t.split('/').pop() ?? t).startsWith(`${base}.`);
  return [
    { stage: first, pick: namesake },
    { stage: first, pick: (t) => !namesake(t) },
    ...later.map((stage) => ({ stage, pick: () => true })),
  ];
}
