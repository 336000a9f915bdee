/**
 * Step 2a: module startup of the gateway and the baseline in fresh V8 contexts in Node
 * (bench/probes/startup.ts): the compile/evaluate profile of the workerd figure.
 */
import type { Bundle } from '../lib/build';
import { runProbe } from '../lib/probes';
import { round } from '../lib/stats';
import type { StartupReport } from '../probes/startup';
import type { Bundles } from './build';
import { root, say, skip, type Context } from './context';

function probe(bundle: Bundle, iterations: string) {
  return runProbe<StartupReport>(
    root,
    'startup.ts',
    ['--experimental-vm-modules', '--no-warnings'],
    [bundle.mainPath, iterations],
  );
}

export async function startupProbe(ctx: Context, { gateway, baseline }: Bundles): Promise<void> {
  if (!ctx.wants('startup') || gateway === undefined || baseline === undefined) return;
  const n = String(ctx.o.startupIterations);
  say(`startup probe: ${n} fresh-context evaluations of each bundle`);
  const g = await probe(gateway, n);
  const b = await probe(baseline, n);
  if (!g.ok || !b.ok) {
    skip(
      ctx,
      ['startup'],
      `startup probe failed: ${!g.ok ? `gateway: ${g.reason}` : ''} ${!b.ok ? `baseline: ${b.reason}` : ''}`.trim(),
    );
    return;
  }
  ctx.figures.startup_node_ms = round(g.value.totalMs, 3);
  ctx.figures.startup_node_compile_ms = round(g.value.compileMs, 3);
  ctx.figures.startup_node_evaluate_ms = round(g.value.evaluateMs, 3);
  ctx.figures.baseline_startup_node_ms = round(b.value.totalMs, 3);
  say(
    `startup profile in Node: gateway ${g.value.totalMs.toFixed(2)} ms (compile ${g.value.compileMs.toFixed(2)}, evaluate ${g.value.evaluateMs.toFixed(2)}), baseline ${b.value.totalMs.toFixed(2)} ms`,
  );
}
