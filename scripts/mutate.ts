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
 *      run the tests mapped to that file, step by step, with `vitest run --bail 1` and a timeout;
 *   4. print a score table per file and, with --json, write the full result.
 *
 *   npm run mutate -- --list                           # the mutants, counts per file; runs nothing
 *   npm run mutate -- --budget 35 --json docs/mutation.json   # seeded sample, stops after ~35 min
 *   npm run mutate -- --files src/cache/token-cache.ts --sample 10 --seed 7
 *   npm run mutate -- --ids src/auth/policy.ts:67:3:remove-call,src/routes/tokens.ts:311:5:logical-drop
 *   npm run mutate -- --ids @ids.txt                   # one id per line
 *   npm run mutate -- --rerun docs/mutation.json       # the survivors of an earlier run, again
 *   (also --operators remove-if,remove-call  --limit N  --seed S  --timeout-factor 3  --min-timeout 90
 *    --confirm: re-run every killing test on the unmutated code; tests that time out always are)
 *
 * Before a stage's first mutant its tests run once unmutated (the baseline): tests that fail
 * there are skipped in that stage (and named), and the baseline's duration sets the timeout.
 * A kill by a test that timed out counts only if that test passes on the unmutated code (a
 * loaded machine makes slow tests flaky); otherwise the test is skipped from then on.
 * With --sample or --budget mutants run in an order fixed by --seed, so a budget's cut is a
 * uniform sample; --ids are run first and always.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KNOWN_FLAKY, TARGETS, expandTs, ruleFor, stageFiles, stepsFor } from './lib/mutate-config';
import { OPERATORS, applyMutant, generateMutants, type Mutant } from './lib/mutate-operators';
import { score, scoreTable, type MutantResult, type MutationReport } from './lib/mutate-report';
import { Sandbox } from './lib/mutate-sandbox';
import { MutantTypeChecker } from './lib/mutate-typecheck';
import { runVitest } from './lib/mutate-vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Baseline {
  /** The stage's test files, minus files that failed unmutated without a failing test. */
  tests: string[];
  /** Titles of tests that failed unmutated: skipped in this stage. */
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
    confirm: { type: 'boolean', default: false },
    json: { type: 'string' },
    'timeout-factor': { type: 'string', default: '3' },
    'min-timeout': { type: 'string', default: '90' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got "${v}"`);
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
  if (opt.ids === undefined && opt.rerun === undefined) return undefined;
  const ids: string[] = [];
  if (opt.ids?.startsWith('@'))
    ids.push(
      ...readFileSync(opt.ids.slice(1), 'utf8')
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim()),
    );
  else ids.push(...(list(opt.ids) ?? []));
  if (opt.rerun !== undefined) {
    const prev = JSON.parse(readFileSync(opt.rerun, 'utf8')) as MutationReport;
    const again = prev.results.filter((r) => ['survived', 'timeout', 'error'].includes(r.status));
    ids.push(...again.map((r) => r.id));
  }
  return new Set(ids.filter((s) => s !== ''));
}

function byPosition(a: Mutant, b: Mutant): number {
  return a.file === b.file ? a.start - b.start : a.file.localeCompare(b.file);
}

function oneLine(m: Pick<Mutant, 'original' | 'replacement'>): string {
  return `${m.original}  →  ${m.replacement.replace(/\s+/g, ' ')}`;
}

async function main(): Promise<number> {
  if (opt.help) {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
    return 0;
  }
  const started = performance.now();
  const seed = num('seed', opt.seed) ?? 1;
  const budgetMin = num('budget', opt.budget);
  const sample = num('sample', opt.sample);
  const limit = num('limit', opt.limit);
  const operators = list(opt.operators);
  for (const o of operators ?? [])
    if (!(o in OPERATORS))
      throw new Error(`unknown operator "${o}" (${Object.keys(OPERATORS).join(', ')})`);

  // 1. Generate.
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
  const generated = new Map(files.map((f) => [f, all.filter((m) => m.file === f).length]));

  // 2. Select: the given ids first, then a seeded sample / budget / limit of the rest.
  const ids = requestedIds();
  const unknown = [...(ids ?? [])].filter((id) => !all.some((m) => m.id === id));
  if (unknown.length > 0)
    throw new Error(
      `unknown mutant ids (file changed, or not in --files):\n  ${unknown.join('\n  ')}`,
    );
  const explicit = all.filter((m) => ids?.has(m.id));
  const sampled = sample !== undefined || budgetMin !== undefined;
  const key = (m: Mutant) => createHash('sha256').update(`${seed}:${m.id}`).digest('hex');
  let pool = all.filter((m) => !ids?.has(m.id));
  if (ids !== undefined && !sampled && limit === undefined) pool = [];
  pool = sampled ? pool.sort((a, b) => key(a).localeCompare(key(b))) : pool.sort(byPosition);
  if (sample !== undefined) pool = pool.slice(0, sample);
  if (limit !== undefined) pool = pool.slice(0, limit);
  const queue = [...explicit.sort(byPosition), ...pool];

  if (opt.list) {
    for (const m of queue) console.log(`${m.id}\t${oneLine(m)}`);
    console.log('\nGenerated per file:');
    for (const [f, n] of generated) console.log(`  ${String(n).padStart(5)}  ${f}`);
    console.log(`  ${String(all.length).padStart(5)}  all (${queue.length} selected)`);
    return 0;
  }

  // 3. Run, in a throw-away copy.
  const sandbox = new Sandbox(root);
  process.on('exit', () => sandbox.dispose());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      console.error(`\nmutate: ${sig}; removing the sandbox (your tree was never touched)`);
      sandbox.dispose();
      process.exit(130);
    });

  const timeoutFactor = num('timeout-factor', opt['timeout-factor']) ?? 3;
  const minTimeoutMs = (num('min-timeout', opt['min-timeout']) ?? 90) * 1000;
  const baselines = new Map<string, Baseline>();
  const baseline = async (stage: readonly string[]): Promise<Baseline> => {
    const k = stage.join(' ');
    const known = baselines.get(k);
    if (known !== undefined) return known;
    const tests = stageFiles(sandbox.dir, stage);
    console.log(`mutate: baseline ${k} (${tests.length} test files)...`);
    const r = await runVitest(sandbox, tests, { bail: false, timeoutMs: 30 * 60_000 });
    if (r.outcome === 'error' || r.outcome === 'timeout')
      throw new Error(`the baseline of ${k} did not run: ${r.detail ?? r.outcome}`);
    const excluded = [...r.failingFiles, ...r.failingTests];
    if (excluded.length > 0)
      console.warn(
        `mutate: fails unmutated, skipped in ${k}: ${excluded.map((t) => `"${t}"`).join(', ')}`,
      );
    console.log(`mutate: baseline ${k}: ${(r.ms / 1000).toFixed(0)} s`);
    const b = {
      tests: tests.filter((t) => !r.failingFiles.includes(t)),
      skipTests: [...new Set([...r.failingTests, ...KNOWN_FLAKY])],
      ms: r.ms,
      excludedFailing: excluded,
    };
    baselines.set(k, b);
    return b;
  };

  const texts = new Map<string, string>();
  const runMutant = async (m: Mutant): Promise<MutantResult> => {
    const t0 = performance.now();
    const { start: _s, end: _e, ...described } = m;
    const abs = resolve(root, m.file);
    const original = texts.get(m.file) ?? readFileSync(abs, 'utf8');
    texts.set(m.file, original);
    const mutated = applyMutant(original, m);
    const typeError = checker.check(abs, mutated);
    if (typeError !== undefined)
      return {
        ...described,
        status: 'compile-error',
        step: 0,
        detail: typeError,
        ms: performance.now() - t0,
      };

    // Baselines first: they must see the unmutated copy.
    const steps: Array<{ b: Baseline; tests: string[] }> = [];
    const b0 = performance.now();
    for (const s of stepsFor(m.file)) {
      const b = await baseline(s.stage);
      const tests = b.tests.filter(s.pick);
      if (tests.length > 0) steps.push({ b, tests });
    }
    const baselineMs = performance.now() - b0; // not this mutant's cost
    const result: MutantResult = { ...described, status: 'survived', step: 0, ms: 0 };
    sandbox.write(m.file, mutated);
    try {
      for (let i = 0; i < steps.length; i++) {
        const { b, tests } = steps[i]!;
        const timeoutMs = Math.max(minTimeoutMs, timeoutFactor * b.ms);
        const r = await runVitest(sandbox, tests, {
          bail: true,
          timeoutMs,
          skipTests: b.skipTests,
        });
        result.step = i + 1;
        if (r.outcome === 'passed') continue;
        if (r.first !== undefined && (opt.confirm || r.first.timedOut)) {
          // A test that timed out (or any, with --confirm) must pass on the unmutated code for
          // the kill to count; if it fails there too it is flaky: skip it from now on, redo.
          sandbox.restore(m.file);
          const unmutated = await runVitest(sandbox, [r.first.file], {
            bail: true,
            timeoutMs,
            only: r.first.title,
          });
          sandbox.write(m.file, mutated);
          if (unmutated.outcome !== 'passed') {
            console.warn(
              `mutate: "${r.first.title}" fails unmutated too (flaky); skipped from now on`,
            );
            b.skipTests.push(r.first.title);
            b.excludedFailing.push(r.first.title);
            i--;
            continue;
          }
        }
        result.status = r.outcome === 'failed' ? 'killed' : r.outcome;
        const detail =
          r.outcome === 'timeout'
            ? `no answer within ${(timeoutMs / 1000).toFixed(0)} s`
            : r.detail;
        if (detail !== undefined) result.detail = detail;
        break;
      }
    } finally {
      sandbox.restore(m.file);
    }
    result.ms = performance.now() - t0 - baselineMs;
    return result;
  };

  console.log(
    `mutate: ${queue.length} of ${all.length} mutants selected (seed ${seed})` +
      (budgetMin !== undefined ? `; no new mutant starts after ${budgetMin} min` : ''),
  );
  const results: MutantResult[] = [];
  for (const [i, m] of queue.entries()) {
    const elapsedMin = (performance.now() - started) / 60_000;
    if (budgetMin !== undefined && i >= explicit.length && elapsedMin >= budgetMin) {
      console.log(`mutate: budget of ${budgetMin} min spent after ${results.length} mutants`);
      break;
    }
    const r = await runMutant(m);
    results.push(r);
    const note = r.status === 'survived' ? oneLine(m) : (r.detail ?? '');
    console.log(
      `[${i + 1}/${queue.length}] ${r.status.padEnd(13)} ${m.id}  ${(r.ms / 1000).toFixed(0)} s` +
        (note !== '' ? `\n    ${note}` : ''),
    );
  }

  // 4. Report.
  const ran = files.filter((f) => results.some((r) => r.file === f));
  const scored = ran.map((f) =>
    score(
      f,
      generated.get(f) ?? 0,
      results.filter((r) => r.file === f),
    ),
  );
  const total = score('all', all.length, results);
  console.log(['', ...scoreTable(scored, total), ''].join('\n'));
  const survivors = results.filter((r) => r.status === 'survived');
  if (survivors.length > 0)
    console.log(['Survivors:', ...survivors.map((r) => `  ${r.id}  ${oneLine(r)}`), ''].join('\n'));

  // A run of everything: generated mutants per file × this run's mean seconds per mutant there.
  const mean = (rs: readonly MutantResult[]) => rs.reduce((s, r) => s + r.ms, 0) / rs.length;
  let fullMs: number | null = null;
  if (results.length > 0) {
    fullMs = 0;
    console.log('A run of every mutant would take about (this run’s mean per mutant):');
    for (const [f, n] of generated) {
      const own = results.filter((r) => r.file === f);
      const perMutant = own.length > 0 ? mean(own) : mean(results);
      fullMs += n * perMutant;
      console.log(
        `  ${String(n).padStart(5)} × ${(perMutant / 1000).toFixed(0).padStart(3)} s${own.length > 0 ? '' : '*'}  ${f}`,
      );
    }
    console.log(
      `  ${(fullMs / 60_000).toFixed(0)} min in all (* no mutant of that file ran: overall mean)`,
    );
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
          (budgetMin !== undefined
            ? `seeded sample, ${budgetMin} min budget`
            : sample !== undefined
              ? `seeded sample of ${sample}`
              : limit !== undefined
                ? `first ${limit}`
                : pool.length > 0
                  ? 'every mutant'
                  : 'given ids') +
          (explicit.length > 0 && pool.length > 0 ? `, plus ${explicit.length} given ids` : ''),
        seed,
        generated: all.length,
        selected: results.length,
      },
      fullRunEstimateMin: fullMs === null ? null : Math.round(fullMs / 60_000),
      operators: { ...OPERATORS },
      baselines: [...baselines.entries()].map(([stage, b]) => ({
        stage,
        ms: Math.round(b.ms),
        excludedFailing: b.excludedFailing,
      })),
      files: scored,
      total,
      results: results.map((r) => ({ ...r, ms: Math.round(r.ms) })),
      wallMs: Math.round(performance.now() - started),
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
