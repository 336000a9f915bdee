/**
 * Every reliability test states what it tried, so that docs/reliability.md can be produced from
 * the suite's own results (scripts/reliability-report.ts reads vitest's JSON report, which
 * carries each test's `meta`). The count is declared before the cases run, so a test that fails
 * half-way still reports what it set out to try, and the report shows it as failed.
 */
import type { TaskMeta } from 'vitest';

export type ReliabilityArea = 'faults' | 'hostile-input' | 'caller-auth' | 'secrecy';

export interface ReliabilityRecord {
  area: ReliabilityArea;
  /** The fault or input class, as the report's row names it. */
  kind: string;
  /** How many distinct cases (requests, generated inputs) the test ran. */
  cases: number;
  /** What every case must get, in a few words. */
  expected: string;
}

declare module 'vitest' {
  interface TaskMeta {
    reliability?: ReliabilityRecord[];
  }
}

/** Adds a row to the test's record; call it before the cases run. */
export function record(task: { meta: TaskMeta }, row: ReliabilityRecord): void {
  (task.meta.reliability ??= []).push(row);
}
