/**
 * The one way a proxy suite (test/e2e/*.e2e.node.ts) ends, whichever comes first: checks
 * done, setup failure, the run's deadline, SIGINT/SIGTERM. Prints diagnostics on failure, runs
 * the teardown, prints `N passed, M failed` alone on the last line and sets the exit code.
 */
import { rmSync } from 'node:fs';
import { Cleanup, CheckRunner, errorText } from './harness.node.js';

export interface SuiteLive {
  dir?: string;
  /** Named outputs (last lines of each child) printed when a check failed. */
  outputs: Array<[string, () => string[]]>;
  /** Synchronous last-resort stops for `process.on('exit')`. */
  kills: Array<() => void>;
}

export async function runSuite<W>(options: {
  name: string;
  budgetMs: number;
  setUp: (cleanup: Cleanup, live: SuiteLive) => Promise<W>;
  checks: (checks: CheckRunner, world: W) => Promise<void>;
  /** How long the teardown may take (Cleanup.runAll's default when absent). */
  teardownMs?: number;
}): Promise<void> {
  const checks = new CheckRunner();
  const cleanup = new Cleanup();
  const live: SuiteLive = { outputs: [], kills: [] };
  const started = Date.now();
  let finishing: Promise<void> | undefined;
  let summarized = false;

  const finish = (signalExitCode?: number): Promise<void> =>
    (finishing ??= (async () => {
      checks.close();
      if (checks.failed > 0) {
        for (const [name, lines] of live.outputs) {
          const last = lines();
          if (last.length > 0) console.log(`---- last ${name} output\n${last.join('\n')}`);
        }
      }
      await cleanup.runAll(options.teardownMs);
      console.log(`info  finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log(checks.summary());
      summarized = true;
      process.exit(signalExitCode ?? (checks.failed === 0 && checks.passed > 0 ? 0 : 1));
    })());

  // Reached without finish() only when other code called process.exit() first (miniflare's
  // signal hook can, in the moment while it starts): what can be done synchronously.
  process.once('exit', () => {
    for (const kill of live.kills) kill();
    if (summarized) return;
    if (live.dir !== undefined) rmSync(live.dir, { recursive: true, force: true });
    checks.fail('run', new Error('the process exited before the run finished'));
    checks.close();
    console.log(checks.summary());
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      checks.fail('run', new Error(`interrupted by ${signal}`));
      void finish(code);
    });
  }
  setTimeout(() => {
    checks.fail('run', new Error(`the run took longer than ${options.budgetMs / 1000} s`));
    void finish();
  }, options.budgetMs).unref();

  try {
    await options.checks(checks, await options.setUp(cleanup, live));
  } catch (e) {
    checks.fail('setup', e);
  }
  await finish().catch((e: unknown) => {
    console.error(`${options.name}: ${errorText(e)}`);
    process.exit(1);
  });
}
