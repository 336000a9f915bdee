/**
 * Step 6a: the burst. Each round a token nobody has checked yet, `burstSize` introspections of it
 * at once; single-flight must turn them into one GHES call.
 */
import { burst, type BurstResult } from '../lib/scenarios';
import { say, type Context } from './context';
import type { Prepared } from './prepare';
import type { Ghes } from './start-emulator';

export async function runBursts(
  ctx: Context,
  { burstReady, gatewayWorker }: Prepared,
  { emulator, fixture }: Ghes,
): Promise<BurstResult[]> {
  if (!burstReady || emulator === undefined || gatewayWorker === undefined) return [];
  const { o } = ctx;
  const runs: BurstResult[] = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      await emulator.setLatency(0);
      const fresh = await emulator.mintToken(fixture.app.name, `bench-burst-${i}`);
      await emulator.setLatency(o.latencyMs);
      const b = await burst(fixture, gatewayWorker.url, emulator, fresh);
      say(
        `burst ${i + 1}/${o.runs}: ${o.burstSize} requests → ${b.upstreamCalls} GHES calls, statuses ${JSON.stringify(b.statuses)}, ${b.elapsedMs.toFixed(0)} ms`,
      );
      if (b.statuses['200'] !== o.burstSize || b.inactive !== 0) {
        const reason = `burst ${i + 1}: expected ${o.burstSize} answers 200 with "active": true, got statuses ${JSON.stringify(b.statuses)} (${b.inactive} not active)`;
        ctx.notRun.push({ scenario: 'burst', reason });
        return [];
      }
      runs.push(b);
    }
  } catch (e) {
    ctx.notRun.push({ scenario: 'burst', reason: `burst failed: ${(e as Error).message}` });
    return [];
  }
  if (runs.length > 0)
    ctx.figures.burst_upstream_calls = Math.max(...runs.map((b) => b.upstreamCalls));
  return runs;
}
