/**
 * Writes docs/reliability.md from what the reliability suites actually ran: vitest's JSON report
 * of test/resilience, test/hostile and test/property (each test declares what it tried in its
 * `meta`, see test/hostile/record.ts), the soak's JSON summary (test/soak/soak.node.ts) and the
 * mutation run's JSON (scripts/mutate.ts, docs/mutation.json when present).
 * Nothing in the document is typed by hand: a number that was not run cannot appear.
 *
 *   npm run reliability-report                    # runs the suites, the short soak and the short window soak
 *   npm run reliability-report -- --soak full     # the full soak (a few minutes)
 *   npm run reliability-report -- --soak none     # suites only
 *   npm run reliability-report -- --vitest-json a.json --soak-json b.json   # render only
 *   npm run reliability-report -- --mutation-only  # only redo the mutation section from its JSON
 *
 * Exits non-zero when a suite or the soak failed; the document is written either way, with the
 * failures in it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { KNOWN_FLAKY, TARGETS, TEST_MAP } from './lib/mutate-config';
import { OPERATORS } from './lib/mutate-operators';
import { scoreTable, type MutationReport } from './lib/mutate-report';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SUITES = ['test/resilience', 'test/hostile', 'test/property'];
const OUT = join(root, 'docs/reliability.md');
const MUTATION_JSON = 'docs/mutation.json';
const MUTATION_HEADING = '## Mutation testing (`npm run mutate`)';
/** Survivors listed in the document; the JSON has them all. */
const SURVIVORS_SHOWN = 60;

interface Row {
  area: string;
  kind: string;
  cases: number;
  expected: string;
}

interface AssertionResult {
  title: string;
  ancestorTitles: string[];
  status: string;
  failureMessages: string[];
  meta?: { reliability?: Row[] };
}

interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ name: string; assertionResults: AssertionResult[] }>;
}

/** What `test/soak/window.node.ts --json` writes (the report reads the file, not the module). */
interface WindowSummary {
  instances: number;
  rounds: number;
  positive_ttl_s: number;
  windows: Array<{
    path: string;
    relation: string;
    max_ms: number;
    bound_ms: number;
    active_after: number;
    checks_after: number;
  }>;
  checks: { passed: number; failed: number };
}

interface SoakSummary {
  mode: string;
  seed: number;
  concurrency: number;
  load_s: number;
  requests: number;
  by_operation: Record<string, Record<string, number>>;
  fault_phases: Record<string, number>;
  revocations_through_gateway: number;
  revocations_after_lost_answer: number;
  revoked_tokens_tracked: number;
  reads_of_revoked_tokens: number;
  distinct_made_up_tokens: number;
  active_answers: number;
  l1_cap: number;
  l1_evicted_after: number | null;
  rss_mib: {
    first_quarter_max: number | null;
    last_quarter_max: number | null;
    peak: number;
    by_tenth: Array<number | null>;
  };
  /** Absent in summaries written before the heap readings (test/soak/soak.node.ts). */
  heap_kib?: {
    quiet: Array<[number, number]>;
    peak: number;
    readings: Array<[number, number, number]>;
  };
  violations: number;
  undocumented: number;
  malformed: number;
  no_answer: number;
  checks: { passed: number; failed: number; lines: string[] };
}

async function runTool(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      output: `${err.stdout ?? ''}${err.stderr ?? err.message}`,
    };
  }
}

const AREA_TITLES: Record<string, string> = {
  faults: 'Upstream and storage faults (through the whole gateway, GHES emulator knobs)',
  'hostile-input': 'Hostile input, every route',
  'caller-auth': 'Caller-authentication attacks',
  secrecy: 'Secrecy properties (fast-check, generated secrets and tokens)',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** "3 of 24 cases failed" from our harness, else the first line of the first failure. */
function failureSummary(a: AssertionResult): string {
  const text = a.failureMessages.join('\n');
  const counted = /(\d+) of (\d+) cases failed/.exec(text);
  if (counted !== null) return `FAILED: ${counted[1]} of ${counted[2]} cases`;
  const first = text.split('\n').find((l) => l.trim() !== '') ?? 'failed';
  return `FAILED: ${first.replace(/\x1b\[[0-9;]*m/g, '').slice(0, 160)}`;
}

/** The names of the failing cases, as the harness lists them in its failure message. */
function failingCases(a: AssertionResult): string[] {
  const text = a.failureMessages.join('\n').replace(/\x1b\[[0-9;]*m/g, '');
  const out: string[] = [];
  for (const m of text.matchAll(
    /^- (.+?)(?:: got |: GHES was called|: expected |: error-level)/gm,
  )) {
    if (m[1] !== undefined && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

function renderSuites(report: VitestReport, lines: string[]): void {
  const rows: Array<{ row: Row; test: AssertionResult; file: string }> = [];
  const unrecorded: Array<{ test: AssertionResult; file: string }> = [];
  for (const file of report.testResults) {
    const rel = relative(root, file.name);
    for (const a of file.assertionResults) {
      const recorded = a.meta?.reliability ?? [];
      if (recorded.length === 0) unrecorded.push({ test: a, file: rel });
      for (const row of recorded) rows.push({ row, test: a, file: rel });
    }
  }
  const totalCases = rows.reduce((s, r) => s + r.row.cases, 0);
  lines.push(
    `Vitest ran ${report.numTotalTests} tests in ${SUITES.join(', ')}: ${report.numPassedTests} passed, ${report.numFailedTests} failed. ` +
      `The ${rows.length} rows below are the tests that declare what they tried; together they sent ${totalCases} cases.`,
    '',
  );
  for (const area of Object.keys(AREA_TITLES)) {
    const inArea = rows.filter((r) => r.row.area === area);
    if (inArea.length === 0) continue;
    const cases = inArea.reduce((s, r) => s + r.row.cases, 0);
    lines.push(`### ${AREA_TITLES[area]} — ${cases} cases`, '');
    lines.push('| What was tried | Cases | Every case must get | Outcome | Test |');
    lines.push('| --- | ---: | --- | --- | --- |');
    for (const { row, test, file } of inArea) {
      const outcome = test.status === 'passed' ? 'passed' : failureSummary(test);
      lines.push(
        `| ${cell(row.kind)} | ${row.cases} | ${cell(row.expected)} | ${cell(outcome)} | \`${file}\` |`,
      );
    }
    lines.push('');
  }
  if (unrecorded.length > 0) {
    lines.push('### Other tests in these folders (one case each)', '');
    lines.push('| Test | Outcome | File |', '| --- | --- | --- |');
    for (const { test, file } of unrecorded) {
      const name = [...test.ancestorTitles, test.title].join(' › ');
      lines.push(
        `| ${cell(name)} | ${test.status === 'passed' ? 'passed' : cell(failureSummary(test))} | \`${file}\` |`,
      );
    }
    lines.push('');
  }
  const failed = rows.filter((r) => r.test.status !== 'passed');
  if (failed.length > 0) {
    lines.push('### Failing cases', '');
    for (const { row, test } of failed) {
      const names = failingCases(test);
      lines.push(`- **${cell(row.kind)}**${names.length > 0 ? ':' : ''}`);
      for (const n of names) lines.push(`  - ${cell(n)}`);
    }
    lines.push('');
  }
}

/**
 * The longest time any instance answered `active: true` after a revocation had been answered,
 * per way of revoking and per instance relation (test/soak/window.node.ts).
 */
function renderWindow(w: WindowSummary, lines: string[]): void {
  lines.push(
    `${w.instances} gateway processes (the deployed bundle under miniflare 5) sharing one KV, ${w.rounds} rounds ` +
      `alternating revocations through the gateway and through signed GHES webhooks, every instance checking ` +
      `throughout; \`CACHE_POSITIVE_TTL_S=${w.positive_ttl_s}\` for the run.`,
    '',
    '| Revoked through | Instance | Longest active answer after the revocation | Bound | Active / checks after |',
    '| --- | --- | ---: | ---: | ---: |',
  );
  for (const r of w.windows)
    lines.push(
      `| ${r.path} | ${r.relation} | ${r.max_ms} ms | ${r.bound_ms} ms | ${r.active_after} / ${r.checks_after} |`,
    );
  lines.push(
    '',
    '- Same isolate: at once. Another isolate that does not hold the token: at once (the revocation has its',
    "  own KV key, read with the entry; local KV has no read-after-write lag, so real KV's is not measured).",
    "- Another isolate that already holds the token as active answers from memory until that entry's",
    "  freshness ends: at most `CACHE_POSITIVE_TTL_S` (60 s by default). Other locations add Workers KV's",
    '  own propagation, up to about 60 s.',
    `- Checks: ${w.checks.passed} passed, ${w.checks.failed} failed.`,
    '',
  );
}

/** The gateway isolate's own live heap (after a collection), as the soak read it through DevTools. */
function heapLines(s: SoakSummary): string[] {
  const h = s.heap_kib;
  if (h === undefined) return [];
  const [mid, end] = h.quiet;
  const quiet =
    mid === undefined || end === undefined
      ? 'not read'
      : `${mid[1]} KiB after ${mid[0]} answers, ${end[1]} KiB after ${end[0]} (${end[1] - mid[1] >= 0 ? '+' : ''}${end[1] - mid[1]} KiB over the second half)`;
  return [
    `- Gateway isolate's live heap after a collection, with no request in flight: ${quiet}; ` +
      `under load ${h.readings.map(([, , kib]) => kib).join(' → ')} KiB (peak ${h.peak}). ` +
      'This is only what the gateway still references, so unlike RSS it must stay flat once L1 is full.',
  ];
}

function renderSoak(s: SoakSummary, lines: string[]): void {
  lines.push(
    `Mode **${s.mode}** (seed ${s.seed}): ${s.concurrency} concurrent clients for ${s.load_s} s, ${s.requests} answers, ` +
      `against the \`wrangler deploy --dry-run\` bundle under miniflare 5 and the GHES emulator on 127.0.0.1.`,
    '',
    '| Operation | Answers | By status and problem code |',
    '| --- | ---: | --- |',
  );
  for (const [op, counts] of Object.entries(s.by_operation).sort()) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const parts = Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    lines.push(`| ${op} | ${total} | ${cell(parts)} |`);
  }
  const phases = Object.entries(s.fault_phases)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  lines.push(
    '',
    `- Fault phases switched on and off: ${phases}.`,
    `- Revocations: ${s.revocations_through_gateway} answered by the gateway (reset 200, delete / grant delete 204), ` +
      `${s.revocations_after_lost_answer} more whose answer was lost after GHES committed; ${s.revoked_tokens_tracked} revoked tokens tracked ` +
      `and read again ${s.reads_of_revoked_tokens} times after their revocation was answered.`,
    `- Violations (an active answer for a token whose revocation had been answered, or for a made-up token): **${s.violations}**.`,
    `- Made-up tokens: ${s.distinct_made_up_tokens} distinct, well-formed but never issued.`,
    `- Answers with an undocumented status: **${s.undocumented}**; malformed bodies: **${s.malformed}**; requests without an answer: **${s.no_answer}**.`,
    `- L1 cap ${s.l1_cap}: ${s.l1_evicted_after === null ? 'eviction not measured' : `a token checked before ${s.l1_evicted_after} other distinct tokens was answered from KV, not L1 (the cap holds in the deployed bundle)`}.`,
    `- workerd resident memory (MiB, highest sample per tenth of the run): ${s.rss_mib.by_tenth.map((v) => v ?? '–').join(' → ')}; peak ${s.rss_mib.peak}. ` +
      "This includes the runtime's own heap growth under load and miniflare's in-memory KV, so it guards against runaway growth only; the L1 cap is proven by the eviction above.",
    ...heapLines(s),
    '',
    'Checks:',
    '',
    '```',
    ...s.checks.lines,
    '```',
    '',
  );
}

function renderMutation(m: MutationReport | undefined, jsonPath: string, lines: string[]): void {
  lines.push(
    MUTATION_HEADING,
    '',
    'Do the tests notice when the code is wrong? `scripts/mutate.ts` makes one small change (a',
    `mutant) at a time in ${TARGETS.map((t) => `\`${t}\``).join(', ')}, runs the tests mapped to the`,
    'changed file inside workerd, and counts the mutant killed when a test fails. StrykerJS cannot',
    "drive the workerd pool (its vitest runner forces vitest's threads pool), so the mutants are made",
    'with the TypeScript compiler API, in a throw-away copy of the tree. Mutants the compiler rejects',
    'are set aside, not run. Score = (killed + timeout) / (killed + timeout + survived).',
    '',
    '| Operator | Change |',
    '| --- | --- |',
    ...Object.entries(OPERATORS).map(([k, v]) => `| ${k} | ${cell(v)} |`),
    '',
    'Tests per changed file, in stages; a stage runs only for a mutant the earlier ones missed, and',
    "stage 1 starts with the file's namesake tests (`src/auth/policy.ts` → `test/auth/policy*.test.ts`).",
    'Tests that fail unmutated are skipped, and a kill by a test that timed out counts only if that',
    'test passes on the unmutated code (`--confirm` checks every kill so). Edit',
    '`scripts/lib/mutate-config.ts`:',
    '',
    '| Files | Stage 1 | Stage 2 |',
    '| --- | --- | --- |',
    ...TEST_MAP.map(
      (r) =>
        `| \`${r.src}\` | ${r.stages.map((s) => s.map((t) => `\`${t}\``).join(', ')).join(' | ')} |`,
    ),
    '',
    ...(KNOWN_FLAKY.length === 0
      ? []
      : [
          `Skipped in every mutant run as known to fail at random (\`KNOWN_FLAKY\`): ${KNOWN_FLAKY.map((t) => `"${cell(t)}"`).join(', ')}.`,
          '',
        ]),
    'Run it. Every mutant takes hours on two cores, so `--budget N` runs them in an order fixed by',
    '`--seed` and starts no new one after N minutes: a uniform sample. `--list` shows the mutants',
    'without running them; `--help` shows every option.',
    '',
    '```sh',
    `npm run mutate -- --budget 35 --json ${MUTATION_JSON}   # score for this document`,
    'npm run reliability-report -- --mutation-only                 # rewrite this section from it',
    `npm run mutate -- --rerun ${MUTATION_JSON}               # only the survivors, after adding tests`,
    'npm run mutate -- --files src/cache/token-cache.ts --sample 20 --seed 2',
    '```',
    '',
  );
  if (m === undefined) {
    lines.push(`Score: to be filled by the final run (no \`${jsonPath}\` yet).`, '');
    return;
  }
  const ran = m.total.killed + m.total.timeout + m.total.survived;
  lines.push(
    `Run of ${m.generatedAt.slice(0, 10)} on \`${m.commit.slice(0, 12)}\`${m.dirty ? ' (with uncommitted changes)' : ''}, ` +
      `Node ${m.node}: ${m.selection.mode}, seed ${m.selection.seed}; ${m.selection.selected} of ` +
      `${m.selection.generated} generated mutants selected, ${ran} ran, ${(m.wallMs / 60_000).toFixed(0)} min. ` +
      `**Score ${m.total.score === null ? '–' : `${m.total.score}%`}**.` +
      (m.fullRunEstimateMin === null
        ? ''
        : ` Every mutant would take about ${m.fullRunEstimateMin} min at this run's pace.`),
    '',
    ...scoreTable(m.files, m.total),
    '',
  );
  const excluded = m.baselines.flatMap((b) => b.excludedFailing);
  if (excluded.length > 0)
    lines.push(
      `Left out because they failed unmutated: ${[...new Set(excluded)].map((f) => `\`${f}\``).join(', ')}.`,
      '',
    );
  const survivors = m.results.filter((r) => r.status === 'survived');
  if (survivors.length > 0) {
    lines.push('Survivors (a change no test noticed):', '');
    for (const r of survivors.slice(0, SURVIVORS_SHOWN))
      lines.push(
        `- \`${r.id}\`: \`${r.original.replace(/`/g, "'")}\` → \`${r.replacement.replace(/\s+/g, ' ').replace(/`/g, "'").slice(0, 120)}\``,
      );
    if (survivors.length > SURVIVORS_SHOWN)
      lines.push(`- … and ${survivors.length - SURVIVORS_SHOWN} more in \`${jsonPath}\``);
    lines.push('');
  }
}

function readMutation(path: string): MutationReport | undefined {
  const abs = resolve(root, path);
  return existsSync(abs) ? (JSON.parse(readFileSync(abs, 'utf8')) as MutationReport) : undefined;
}

/** Replaces the mutation section of the existing document, leaving the rest as it was run. */
function rewriteMutationSection(jsonPath: string): void {
  const doc = readFileSync(OUT, 'utf8');
  const section: string[] = [];
  renderMutation(readMutation(jsonPath), jsonPath, section);
  const at = doc.indexOf(MUTATION_HEADING);
  // A first run puts the section where the full report has it: before "How to read a failure".
  const start = at >= 0 ? at : doc.indexOf('## How to read a failure');
  const next = at >= 0 ? doc.indexOf('\n## ', at + MUTATION_HEADING.length) + 1 : start;
  const head = start >= 0 ? doc.slice(0, start) : `${doc.replace(/\n*$/, '')}\n\n`;
  const rest = start >= 0 && next > 0 ? `\n${doc.slice(next)}` : '';
  writeFileSync(OUT, `${head}${section.join('\n')}${rest}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      soak: { type: 'string', default: 'short' },
      'vitest-json': { type: 'string' },
      'soak-json': { type: 'string' },
      window: { type: 'string', default: 'short' },
      'window-json': { type: 'string' },
      'mutation-json': { type: 'string', default: MUTATION_JSON },
      'mutation-only': { type: 'boolean', default: false },
    },
  });
  const mutationJson = values['mutation-json'] ?? MUTATION_JSON;
  if (values['mutation-only']) {
    rewriteMutationSection(mutationJson);
    console.log(`reliability-report: rewrote the mutation section of ${relative(root, OUT)}`);
    return 0;
  }
  const soakMode = values.soak ?? 'short';
  if (!['short', 'full', 'none'].includes(soakMode))
    throw new Error('--soak must be short, full or none');
  const dir = mkdtempSync(join(tmpdir(), 'reliability-report-'));
  let exit = 0;
  try {
    let vitestJson = values['vitest-json'];
    if (vitestJson === undefined) {
      vitestJson = join(dir, 'vitest.json');
      console.log(`reliability-report: vitest run ${SUITES.join(' ')}`);
      const r = await runTool(
        [
          join(root, 'node_modules/vitest/vitest.mjs'),
          'run',
          ...SUITES,
          '--reporter=default',
          '--reporter=json',
          `--outputFile.json=${vitestJson}`,
        ],
        600_000,
      );
      if (r.code !== 0) exit = 1;
    }
    let soakJson = values['soak-json'];
    if (soakJson === undefined && soakMode !== 'none') {
      soakJson = join(dir, 'soak.json');
      console.log(`reliability-report: soak (${soakMode})`);
      const r = await runTool(
        [
          '--import',
          'tsx',
          join(root, 'test/soak/soak.node.ts'),
          ...(soakMode === 'short' ? ['--short'] : []),
          '--json',
          soakJson,
        ],
        900_000,
      );
      if (r.code !== 0) exit = 1;
      process.stdout.write(r.output.split('\n').slice(-3).join('\n'));
    }

    let windowJson = values['window-json'];
    const windowMode = values.window ?? 'short';
    if (windowJson === undefined && windowMode !== 'none') {
      windowJson = join(dir, 'window.json');
      console.log(`reliability-report: revocation window (${windowMode})`);
      const r = await runTool(
        [
          '--import',
          'tsx',
          join(root, 'test/soak/window.node.ts'),
          ...(windowMode === 'short' ? ['--short'] : []),
          '--json',
          windowJson,
        ],
        600_000,
      );
      if (r.code !== 0) exit = 1;
    }
    let window: WindowSummary | undefined;
    if (windowJson !== undefined) {
      try {
        window = JSON.parse(readFileSync(windowJson, 'utf8')) as WindowSummary;
      } catch {
        exit = 1;
      }
    }
    if (window !== undefined && window.checks.failed > 0) exit = 1;

    const report = JSON.parse(readFileSync(vitestJson, 'utf8')) as VitestReport;
    let soak: SoakSummary | undefined;
    if (soakJson !== undefined) {
      try {
        soak = JSON.parse(readFileSync(soakJson, 'utf8')) as SoakSummary;
      } catch {
        exit = 1;
      }
    }
    if (report.numFailedTests > 0 || (soak !== undefined && soak.checks.failed > 0)) exit = 1;

    const lines: string[] = [
      '# Reliability: what was tried, and what happened',
      '',
      "<!-- Generated by scripts/reliability-report.ts from the suites' own output; do not edit by hand. -->",
      '',
      `Generated ${new Date().toISOString().slice(0, 10)} with Node ${process.version}. Regenerate with ` +
        '`npm run reliability-report` (add `-- --soak full` for the long soak).',
      '',
      'What the suites hold the gateway to: GHES slow, failing, rate-limiting or losing answers never',
      'turns into a wrong answer (fail closed: 502/503/504, never `active` for a token that may be',
      'revoked); hostile input is a 4xx problem with a stable `code` and never reaches GHES; no secret',
      'or token ever appears in logs, KV, headers or bodies. Counts are cases actually sent.',
      '',
      '## Suites (`npm test`)',
      '',
    ];
    renderSuites(report, lines);
    lines.push('## Soak (`npm run test:soak`)', '');
    if (soak === undefined) lines.push('Not run for this report.', '');
    else renderSoak(soak, lines);
    lines.push('## Revocation window across instances (`npm run test:window`)', '');
    if (window === undefined) lines.push('Not run for this report.', '');
    else renderWindow(window, lines);
    renderMutation(readMutation(mutationJson), mutationJson, lines);
    lines.push(
      '## How to read a failure',
      '',
      'Each hostile-input row runs its cases one by one and lists every case that did not get the',
      'expected answer; a fault row names the GHES fault (emulator/README.md) it switched',
      'on. The soak prints its seed: `npm run test:soak -- --seed N` replays the same random choices',
      '(the interleaving of concurrent clients still depends on timing).',
      '',
    );
    writeFileSync(OUT, lines.join('\n'));
    console.log(`reliability-report: wrote ${relative(root, OUT)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return exit;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`reliability-report failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
