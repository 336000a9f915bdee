/**
 * The result of a scripts/mutate.ts run: the JSON it writes (`--json`, read back by
 * scripts/reliability-report.ts) and the per-file score table it prints.
 *
 * Score, as StrykerJS counts it: detected (killed + timeout) over every mutant that ran
 * (killed + timeout + survived). Mutants the compiler rejects and runs that broke for another
 * reason (`error`) are listed but not scored.
 */
import type { Mutant } from './mutate-operators';

export type Status = 'killed' | 'survived' | 'timeout' | 'compile-error' | 'error';

export interface MutantResult extends Omit<Mutant, 'start' | 'end'> {
  status: Status;
  /** Which test step decided it (1-based, see stepsFor in mutate-config.ts; 0: not run). */
  step: number;
  /** The first failing test (`file › name`), the type error, or what went wrong. */
  detail?: string;
  ms: number;
}

export interface FileScore {
  file: string;
  generated: number;
  killed: number;
  timeout: number;
  survived: number;
  compileError: number;
  error: number;
  /** Percent, one decimal; null when nothing ran. */
  score: number | null;
}

export interface MutationReport {
  generatedAt: string;
  commit: string;
  dirty: boolean;
  node: string;
  /** How the mutants were chosen: all, a seeded sample, a time budget, or given ids. */
  selection: { mode: string; seed: number; generated: number; selected: number };
  /** Minutes a run of every generated mutant would take, from this run's mean per file. */
  fullRunEstimateMin: number | null;
  operators: Record<string, string>;
  baselines: Array<{ stage: string; ms: number; excludedFailing: string[] }>;
  files: FileScore[];
  total: FileScore;
  results: MutantResult[];
  wallMs: number;
}

export function score(
  file: string,
  generated: number,
  results: readonly MutantResult[],
): FileScore {
  const n = (s: Status) => results.filter((r) => r.status === s).length;
  const killed = n('killed');
  const timeout = n('timeout');
  const survived = n('survived');
  const ran = killed + timeout + survived;
  return {
    file,
    generated,
    killed,
    timeout,
    survived,
    compileError: n('compile-error'),
    error: n('error'),
    score: ran === 0 ? null : Math.round((1000 * (killed + timeout)) / ran) / 10,
  };
}

/** A Markdown table (also readable as plain text in a terminal). */
export function scoreTable(files: readonly FileScore[], total: FileScore): string[] {
  const row = (f: FileScore, name: string) =>
    `| ${name} | ${f.generated} | ${f.killed + f.timeout + f.survived} | ${f.killed} | ${f.timeout} | ${f.survived} | ${f.compileError} | ${f.error} | ${f.score === null ? '–' : `${f.score}%`} |`;
  return [
    '| File | Generated | Ran | Killed | Timeout | Survived | Compile error | Error | Score |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...files.map((f) => row(f, `\`${f.file}\``)),
    row(total, '**all**'),
  ];
}
