/**
 * One vitest run in the sandbox, read from vitest's JSON report: which test failed first, or
 * that none did. `bail` stops at the first failure (a mutant needs only one to be killed).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from './mutate-sandbox';

export interface StageOutcome {
  outcome: 'passed' | 'failed' | 'timeout' | 'error';
  /** Failing test titles, and files that failed without a failing test (e.g. would not load). */
  failingTests: string[];
  failingFiles: string[];
  /** First failing test, `file › title: first line of its failure`, or what went wrong. */
  detail?: string;
  /** The first failing test's file and title (to confirm a kill against the unmutated code). */
  first?: { file: string; title: string; timedOut: boolean };
  ms: number;
}

interface JsonReport {
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{
      title: string;
      fullName: string;
      status: string;
      failureMessages?: string[];
    }>;
  }>;
}

export async function runVitest(
  sandbox: Sandbox,
  tests: readonly string[],
  opts: { bail: boolean; timeoutMs: number; skipTests?: readonly string[]; only?: string },
): Promise<StageOutcome> {
  const out = join(sandbox.base, 'vitest.json');
  rmSync(out, { force: true });
  const r = await sandbox.run(
    [
      join(sandbox.dir, 'node_modules/vitest/vitest.mjs'),
      'run',
      ...(opts.bail ? ['--bail', '1'] : []),
      '--reporter=json',
      `--outputFile=${out}`,
      ...(opts.only !== undefined
        ? ['--testNamePattern', escape(opts.only)]
        : skipPattern(opts.skipTests ?? [])),
      ...tests,
    ],
    opts.timeoutMs,
  );
  if (r.timedOut) return { outcome: 'timeout', failingTests: [], failingFiles: [], ms: r.ms };
  let report: JsonReport | undefined;
  try {
    report = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as JsonReport) : undefined;
  } catch {
    report = undefined;
  }
  const tail = r.output.trim().split('\n').slice(-3).join(' ⏎ ').slice(0, 300);
  if (report === undefined)
    return {
      outcome: 'error',
      failingTests: [],
      failingFiles: [],
      detail: `vitest exited ${r.code} without a report: ${tail}`,
      ms: r.ms,
    };
  const rel = (abs: string) => abs.slice(sandbox.dir.length + 1);
  const failing = report.testResults.filter(
    (f) => f.status === 'failed' || f.assertionResults.some((a) => a.status === 'failed'),
  );
  const first = failing[0];
  if (first !== undefined) {
    const test = first.assertionResults.find((a) => a.status === 'failed');
    const message = (test?.failureMessages?.[0] ?? first.message ?? 'failed').split('\n')[0] ?? '';
    const what = `${test?.fullName ?? '(file)'}: ${message.slice(0, 160)}`;
    return {
      outcome: 'failed',
      failingTests: failing.flatMap((f) =>
        f.assertionResults.filter((a) => a.status === 'failed').map((a) => a.title),
      ),
      failingFiles: failing
        .filter((f) => !f.assertionResults.some((a) => a.status === 'failed'))
        .map((f) => rel(f.name)),
      detail: `${rel(first.name)} › ${what}`,
      ...(test !== undefined && {
        first: { file: rel(first.name), title: test.title, timedOut: /timed out/i.test(message) },
      }),
      ms: r.ms,
    };
  }
  if (r.code !== 0)
    return {
      outcome: 'error',
      failingTests: [],
      failingFiles: [],
      detail: `vitest exited ${r.code} with no failing test: ${tail}`,
      ms: r.ms,
    };
  return { outcome: 'passed', failingTests: [], failingFiles: [], ms: r.ms };
}

/** `-t` with a negative lookahead: every test except those titles (known failures). */
function skipPattern(titles: readonly string[]): string[] {
  if (titles.length === 0) return [];
  return ['--testNamePattern', `^(?!.*(?:${titles.map(escape).join('|')}))`];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
