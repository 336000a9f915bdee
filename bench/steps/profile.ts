/**
 * --profile: one extra run of each gateway scenario with the isolate's CPU profile recorded (not
 * counted), written to bench/.build/profiles/ and summarised by self time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Bundle } from '../lib/build';
import { runLoad } from '../lib/load';
import { hotSpots, WorkerProfiler } from '../lib/profile';
import type { LoadId, LoadScenario } from '../lib/scenarios';
import type { RunningWorker } from '../lib/workers';
import { BUILD_DIR, root, say, type Context } from './context';

async function profileScenario(
  s: LoadScenario,
  profiler: WorkerProfiler,
  gateway: Bundle,
  connections: number,
): Promise<void> {
  await profiler.start();
  const r = await runLoad(s.target, connections, s.bound('run'));
  const profile = await profiler.stop();
  const dir = resolve(BUILD_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${s.id}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const spots = hotSpots(profile, root, `${gateway.mainPath}.map`);
  process.stdout.write(
    `\nProfile of ${s.id} (${Math.round(r.rps)} req/s while profiled; ${relative(root, file)}), self time:\n` +
      spots.map((h) => `  ${h.selfPct.toFixed(1).padStart(5)} %  ${h.what}`).join('\n') +
      '\n',
  );
}

export async function profileScenarios(
  ctx: Context,
  scenarios: readonly LoadScenario[],
  profiled: ReadonlyMap<LoadId, RunningWorker>,
  gateway: Bundle | undefined,
): Promise<void> {
  if (!ctx.o.profile || gateway === undefined) return;
  // One inspector session per worker: the proxy admits a single client at a time.
  const sessions = new Map<RunningWorker, WorkerProfiler>();
  try {
    for (const s of scenarios) {
      const w = profiled.get(s.id);
      if (w?.inspectorPort === undefined) continue;
      try {
        let session = sessions.get(w);
        if (session === undefined) {
          session = await WorkerProfiler.connect(w.inspectorPort, w.name);
          sessions.set(w, session);
        }
        await profileScenario(s, session, gateway, ctx.o.connections);
      } catch (e) {
        say(`profile of ${s.id} failed: ${(e as Error).message}`);
      }
    }
  } finally {
    for (const session of sessions.values()) session.close();
  }
}
