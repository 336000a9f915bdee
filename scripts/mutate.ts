/**
 * Mutation testing that runs the real suite inside workerd. StrykerJS cannot: its vitest runner
 * forces vitest's `threads` pool (stryker-js#6223), which replaces @cloudflare/vitest-plugin's
 * workerd pool, and its per-test coverage needs its instrumented globals in the test process.
 * So this script mutates source text itself:
 *
 *   1. generate mutants from the target files with the TypeScript compiler API
 *      (scripts/lib/mutate-operators.ts; targets and test mapping in scripts/lib/mutate-config.ts);
 *   2. set aside mutants the compiler rejects (type check in memory, nothing is written);
 *   3. write ONE mutant at a time into a throw-away copy of the tree (never into this one) and
 *      run the tests mapped to that file, stage by stage, with `vitest run --bail 1` and a timeout;
 *   4. print a score table per file and, with --json, write the full result.
 *
 *   npm run mutate -- --list                          # what would be mutated, counts per file
 *   npm run mutate -- --budget 35 --json docs/mutation.json     # seeded sample that fits ~35 min
 *   npm run mutate -- --files src/cache/token-cache.ts --sample 10 --seed 7
 *   npm run mutate -- --ids src/auth/policy.ts:67:3:remove-call,src/routes/tokens.ts:311:5:logical-drop
 *   npm run mutate -- --rerun docs/mutation.json      # the survivors of an earlier run, again
 *
 * Before a stage's first mutant, its tests run once unmutated (the baseline): test files that fail
 * there are left out of that stage (and named), and the baseline's duration sets the timeout.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TARGETS, expandTs, ruleFor, stageFiles } from './lib/mutate-config';
import {
  OPERATORS,
  applyMutant,
  generateMutants,
  type Mutant,
  type Operator,
} from './lib/mutate-operators';
import { score, scoreTable, type MutantResult, type MutationReport } from './lib/mutate-report';
import { Sandbox } from './lib/mutate-sandbox';
import { MutantTypeChecker } from './lib/mutate-typecheck';
import { runVitest } from './lib/mutate-vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Share of mutants assumed to survive stage 1 and pay for the later stages (for estimates). */
const LATER_STAGE_SHARE = 0.35;
/** Seconds per in-memory type check, measured on a loaded 2-core machine. */
const TYPECHECK_S = 1.5;

interface Baseline {
  /** The stage's test files minus those that failed unmutated (would not even load). */
  tests: string[];
  /** Titles of tests that failed unmutated, skipped in this stage. */
  skipTests: string[];
  ms: number;
  excludedFailing: string[];
}

const { values: opt } = parseArgs({
  options: {
    files: { type: 'string' },
    operators: { type: 'string' },
    ids: { type: 'string' },
    rerun: { type: 'string' },
    sample: { type: 'string' },
    seed: { type: 'string', default: '1' },
    budget: { type: 'string' },
    limit: { type: 'string' },
    list: { type: 'boolean', default: false },
    json: { type: 'string' },
    'timeout-factor': { type: 'string', default: '3' },
    'min-timeout': { type: 'string', default: '90' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a non-negative number, got "${v}"`);
  return n;
}

function list(v: string | undefined): string[] | undefined {
  return v
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Ids from `--ids a,b`, `--ids @file` (one per line, # comments) and `--rerun report.json`. */
function requestedIds(): Set<string> | undefined {
  const ids: string[] = [];
  if (opt.ids !== undefined) {
    if (opt.ids.startsWith('@'))
      ids.push(
        ...readFileSync(opt.ids.slice(1), 'utf8')
          .split('\n')
          .map((l) => l.replace(/#.*/, '').trim()),
      );
    else ids.push(...(list(opt.ids) ?? []));
  }
  if (opt.rerun !== undefined) {
    const prev = JSON.parse(readFileSync(opt.rerun, 'utf8')) as MutationReport;
    ids.push(
      ...prev.results
        .filter((r) => ['survived', 'timeout', 'error'].includes(r.status))
        .map((r) => r.id),
    );
  }
  const set = new Set(ids.filter((s) => s !== ''));
  return opt.ids === undefined && opt.rerun === undefined ? undefined : set;
}

const order = (seed: number) => (m: Mutant) =>
  createHash('sha256').update(`${seed}:${m.id}`).digest('hex');

function byPosition(a: Mutant, b: Mutant): number {
  return a.file === b.file
    ? a.start - b.start || a.id.localeCompare(b.id)
    : a.file.localeCompare(b.file);
}

async function main(): Promise<number> {
  if (opt.help) {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
    return 0;
  }
  const started = performance.now();
  const seed = int('seed', opt.seed) ?? 1;
  const operators = list(opt.operators) as Operator[] | undefined;
  for (const o of operators ?? [])
    if (!(o in OPERATORS))
      throw new Error(`unknown operator "${o}" (${Object.keys(OPERATORS).join(', ')})`);

  const files = expandTs(root, list(opt.files) ?? TARGETS).filter((f) => {
    if (ruleFor(f) !== undefined) return true;
    console.warn(`mutate: no tests are mapped to ${f} (scripts/lib/mutate-config.ts); skipped`);
    return false;
  });
  console.log(`mutate: type-checking the project (${files.length} target files)...`);
  const checker = new MutantTypeChecker(root);
  const program = checker.program();
  let all: Mutant[] = [];
  for (const f of files) {
    const sf = program.getSourceFile(resolve(root, f));
    if (sf === undefined) throw new Error(`${f} is not in tsconfig.json's program`);
    all.push(...generateMutants(sf, f, program.getTypeChecker()));
  }
  if (operators !== undefined) all = all.filter((m) => operators.includes(m.operator));
  const generatedPerFile = new Map(files.map((f) => [f, all.filter((m) => m.file === f).length]));

  // Selection: given ids, plus a seeded sample / budget / limit of the rest.
  const ids = requestedIds();
  if (ids !== undefined) {
    const unknown = [...ids].filter((id) => !all.some((m) => m.id === id));
    if (unknown.length > 0)
      throw new Error(
        `unknown mutant ids (the file changed, or not in --files):\n  ${unknown.join('\n  ')}`,
      );
  }
  const sampling = opt.sample !== undefined || opt.budget !== undefined || opt.limit !== undefined;
  const key = order(seed);
  let pool = sampling || ids === undefined ? [...all] : [];
  if (opt.sample !== undefined || opt.budget !== undefined)
    pool.sort((a, b) => key(a).localeCompare(key(b)));
  const sample = int('sample', opt.sample);
  if (sample !== undefined) pool = pool.slice(0, sample);
  const limit = int('limit', opt.limit);
  if (limit !== undefined) pool = pool.slice(0, limit);
  const explicit = all.filter((m) => ids?.has(m.id));

  if (opt.list) {
    const chosen = [...new Set([...explicit, ...pool])].sort(byPosition);
    for (const m of chosen)
      console.log(`${m.id}\t${m.original}  →  ${m.replacement.replace(/\s+/g, ' ')}`);
    console.log('\nGenerated per file:');
    for (const [f, n] of generatedPerFile) console.log(`  ${String(n).padStart(5)}  ${f}`);
    console.log(`  ${String(all.length).padStart(5)}  all (${chosen.length} selected)`);
    return 0;
  }

  const sandbox = new Sandbox(root);
  const cleanup = () => sandbox.dispose();
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      console.error(`\nmutate: ${sig}, removing the sandbox (your tree was never touched)`);
      cleanup();
      process.exit(130);
    });

  // Baselines, once per stage (memoized); failing test files are left out of that stage.
  const timeoutFactor = int('timeout-factor', opt['timeout-factor']) ?? 3;
  const minTimeoutMs = (int('min-timeout', opt['min-timeout']) ?? 90) * 1000;
  const baselines = new Map<string, Promise<Baseline>>();
  const baseline = (entries: readonly string[]) => {
    const k = entries.join(' ');
    let b = baselines.get(k);
    if (b === undefined) {
      b = (async () => {
        const tests = stageFiles(sandbox.dir, entries);
        console.log(`mutate: baseline ${k} (${tests.length} test files)...`);
        const r = await runVitest(sandbox, tests, { bail: false, timeoutMs: 30 * 60_000 });
        if (r.outcome === 'error' || r.outcome === 'timeout')
          throw new Error(`baseline of ${k} did not run: ${r.detail ?? r.outcome}`);
        if (r.failingFiles.length + r.failingTests.length > 0)
          console.warn(
            `mutate: baseline of ${k} fails; left out of this stage: ${[...r.failingFiles, ...r.failingTests.map((t) => `"${t}"`)].join(', ')}`,
          );
        console.log(`mutate: baseline ${k}: ${(r.ms / 1000).toFixed(0)} s`);
        return {
          tests: tests.filter((t) => !r.failingFiles.includes(t)),
          skipTests: r.failingTests,
          ms: r.ms,
          excludedFailing: [...r.failingFiles, ...r.failingTests],
        };
      })();
      baselines.set(k, b);
    }
    return b;
  };

  // Estimate (and with --budget, cut the sample to fit): type check + stage 1, plus the later
  // stages for the share of mutants that survive stage 1.
  const estimateS = async (file: string) => {
    const stages = ruleFor(file)?.stages ?? [];
    let s = TYPECHECK_S;
    for (const [i, st] of stages.entries())
      s += ((await baseline(st)).ms / 1000) * (i === 0 ? 1 : LATER_STAGE_SHARE);
    return s;
  };
  const budget = int('budget', opt.budget);
  if (budget !== undefined) {
    let spent = 0;
    const fits: Mutant[] = [];
    for (const m of pool) {
      const s = await estimateS(m.file);
      if (spent + s > budget * 60) continue;
      spent += s;
      fits.push(m);
    }
    pool = fits;
    console.log(
      `mutate: --budget ${budget} min: ${fits.length} mutants (estimated ${(spent / 60).toFixed(0)} min)`,
    );
    console.log('mutate: a full run would take about:');
    let full = 0;
    for (const [f, n] of generatedPerFile) {
      const s = await estimateS(f);
      full += n * s;
      console.log(`  ${String(n).padStart(5)} × ${s.toFixed(0).padStart(3)} s  ${f}`);
    }
    console.log(`  ${(full / 60).toFixed(0)} min for all ${all.length}`);
  }
  const chosen = [...new Set([...explicit, ...pool])].sort(byPosition);
  console.log(`mutate: ${chosen.length} of ${all.length} mutants selected (seed ${seed})`);

  const results: MutantResult[] = [];
  const texts = new Map<string, string>();
  for (const [i, m] of chosen.entries()) {
    const t0 = performance.now();
    const abs = resolve(root, m.file);
    const original = texts.get(m.file) ?? readFileSync(abs, 'utf8');
    texts.set(m.file, original);
    const mutated = applyMutant(original, m);
    const { start: _s, end: _e, ...described } = m;
    let result: MutantResult;
    const typeError = checker.check(abs, mutated);
    if (typeError !== undefined) {
      result = {
        ...described,
        status: 'compile-error',
        stage: 0,
        detail: typeError,
        ms: performance.now() - t0,
      };
    } else {
      result = { ...described, status: 'survived', stage: 0, ms: 0 };
      // Baselines first: they must see the unmutated tree.
      const stages: Baseline[] = [];
      for (const entries of ruleFor(m.file)?.stages ?? []) stages.push(await baseline(entries));
      sandbox.write(m.file, mutated);
      try {
        for (const [s, b] of stages.entries()) {
          const timeoutMs = Math.max(minTimeoutMs, timeoutFactor * b.ms);
          const r = await runVitest(sandbox, b.tests, {
            bail: true,
            timeoutMs,
            skipTests: b.skipTests,
          });
          result.stage = s + 1;
          if (r.outcome === 'passed') continue;
          result.status = r.outcome === 'failed' ? 'killed' : r.outcome;
          if (r.detail !== undefined) result.detail = r.detail;
          if (r.outcome === 'timeout')
            result.detail = `no answer within ${(timeoutMs / 1000).toFixed(0)} s`;
          break;
        }
      } finally {
        sandbox.restore(m.file);
      }
      result.ms = performance.now() - t0;
    }
    results.push(result);
    console.log(
      `[${i + 1}/${chosen.length}] ${result.status.padEnd(13)} ${m.id}  ${(result.ms / 1000).toFixed(0)} s` +
        (result.status === 'survived'
          ? `\n    ${m.original}  →  ${m.replacement.replace(/\s+/g, ' ')}`
          : '') +
        (result.detail !== undefined && result.status !== 'survived'
          ? `\n    ${result.detail}`
          : ''),
    );
  }

  const scored = files
    .filter((f) => results.some((r) => r.file === f))
    .map((f) =>
      score(
        f,
        generatedPerFile.get(f) ?? 0,
        results.filter((r) => r.file === f),
      ),
    );
  const total = score('all', all.length, results);
  console.log(['', ...scoreTable(scored, total), ''].join('\n'));
  const survivors = results.filter((r) => r.status === 'survived');
  if (survivors.length > 0) {
    console.log('Survivors:');
    for (const r of survivors)
      console.log(`  ${r.id}  ${r.original}  →  ${r.replacement.replace(/\s+/g, ' ')}`);
  }

  if (opt.json !== undefined) {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    const report: MutationReport = {
      generatedAt: new Date().toISOString(),
      commit: git('rev-parse', 'HEAD'),
      dirty: git('status', '--porcelain', '--', 'src', 'test') !== '',
      node: process.version,
      selection: {
        mode:
          ids !== undefined && !sampling
            ? 'ids'
            : budget !== undefined
              ? `budget ${budget} min`
              : sample !== undefined
                ? `sample ${sample}`
                : limit !== undefined
                  ? `first ${limit}`
                  : 'all',
        seed,
        generated: all.length,
        selected: chosen.length,
      },
      operators: { ...OPERATORS },
      baselines: await Promise.all([...baselines.entries()].map(async ([, b]) => b)),
      files: scored,
      total,
      results,
      wallMs: performance.now() - started,
    };
    mkdirSync(dirname(resolve(opt.json)), { recursive: true });
    writeFileSync(resolve(opt.json), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`mutate: wrote ${opt.json}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`mutate failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
