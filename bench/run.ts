/**
 * `npm run bench [-- --quick]`: the benchmark harness of issue 5. See docs/performance.md for the
 * method; this file only orders the steps (bench/steps/, one file each). A scenario that cannot
 * run says why and yields no figure; the run then exits 1.
 */
import { resolve } from 'node:path';
import { readProjectConfig } from './lib/build';
import { describeMachine } from './lib/machine';
import { parseOptions, USAGE } from './lib/options';
import type { RunningWorker } from './lib/workers';
import { buildBundles } from './steps/build';
import { coldStartProbe } from './steps/cold-start';
import { createContext, root, say } from './steps/context';
import { hotPathProbe } from './steps/hot-path';
import { l1MemoryProbe } from './steps/l1-memory';
import { checkIdle, runLoadScenarios } from './steps/load';
import { prepareScenarios, stopWorkers } from './steps/prepare';
import { profileScenarios } from './steps/profile';
import { report } from './steps/report';
import { runBursts } from './steps/burst';
import { startEmulator } from './steps/start-emulator';
import { startupProbe } from './steps/startup-probe';
import { missBreakdown } from './steps/miss-breakdown';

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const ctx = createContext(o);
  const machine = describeMachine(root);
  say(
    `${o.quick ? 'quick' : 'full'} run on ${machine.cpus} CPUs, node ${machine.node}, ${machine.workerd}`,
  );
  const project = await readProjectConfig(resolve(root, o.gatewayConfig ?? 'wrangler.toml'));
  if (project.unsupported.length > 0)
    say(
      `WARNING: the gateway config declares ${project.unsupported.join(', ')}, which the bench does not bind; scenarios that need them will fail their preflight`,
    );

  const bundles = await buildBundles(ctx);
  await startupProbe(ctx, bundles);
  // The L1 probe measures heap, not time: it runs while the emulator and workers start and the
  // token pools are minted, and is awaited before any load.
  const l1Done = l1MemoryProbe(ctx);
  const ghes = await startEmulator(ctx);
  const workers: RunningWorker[] = [];
  try {
    const prepared = await prepareScenarios(ctx, project, bundles, ghes, workers);
    await l1Done;
    const busyBeforeLoad = await checkIdle();
    const load = await runLoadScenarios(ctx, prepared.scenarios, ghes.emulator);
    await missBreakdown(ctx, prepared.gatewayWorker);
    await profileScenarios(ctx, load.active, prepared.profiled, bundles.gateway);
    const burstRuns = await runBursts(ctx, prepared, ghes);
    // Free the machine before the hot path and the cold starts.
    await stopWorkers(workers);
    await hotPathProbe(ctx, project, bundles, ghes);
    await coldStartProbe(ctx, project, bundles, ghes);
    return report(ctx, { machine, busyBeforeLoad, summaries: load.summaries, burstRuns });
  } finally {
    await stopWorkers(workers, true);
    for (const c of ctx.cleanup.splice(0).reverse()) await c().catch(() => undefined);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(
      `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 1;
  },
);
