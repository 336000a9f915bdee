/**
 * Step: where a miss's time goes, from the gateway's own audit lines (issue 14, "Miss path").
 *
 * Each answer that called GHES logs `latency_ms` (the gateway's time), `kv_ms` (its KV reads:
 * the one bulk read of entry, tombstone and epoch) and `ghes_ms` (its GHES call); KV writes run
 * after the answer (waitUntil) and are in none of them. workerd's clock moves only across I/O, so
 * these are the waits, and what is left (`other`) is the remaining I/O on the path — the GHES
 * check budget's rate-limiting binding — plus CPU spent between reads of the clock. Read from the
 * gateway worker's output file after the load scenarios, so the lines cover the miss scenario's
 * warm-up and measured runs (no other scenario calls GHES by then).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { MissBreakdown } from '../lib/results';
import { percentileSorted } from '../lib/stats';
import { messageOf } from '../lib/worker-output';
import type { RunningWorker } from '../lib/workers';
import { say, type Context } from './context';

/** One audit line of an introspection that called GHES, or undefined. */
function missTimes(line: string): { latency: number; kv: number; ghes: number } | undefined {
  // Cheap filter first: most lines are hits, which carry no ghes_ms.
  if (!line.includes('ghes_ms')) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(messageOf(line));
  } catch {
    return undefined;
  }
  const r = message as Record<string, unknown> | undefined;
  if (r?.['event'] !== 'request' || r['route'] !== '/introspect' || r['status'] !== 200)
    return undefined;
  const [latency, kv, ghes] = [r['latency_ms'], r['kv_ms'] ?? 0, r['ghes_ms']];
  if (typeof latency !== 'number' || typeof kv !== 'number' || typeof ghes !== 'number')
    return undefined;
  return { latency, kv, ghes };
}

export async function missBreakdown(
  ctx: Context,
  gateway: RunningWorker | undefined,
): Promise<void> {
  if (gateway === undefined || ctx.figures.introspect_miss_p50_ms === null) return;
  const latency: number[] = [];
  const kv: number[] = [];
  const ghes: number[] = [];
  const other: number[] = [];
  const lines = createInterface({
    input: createReadStream(gateway.outputPath),
    crlfDelay: Infinity,
  });
  for await (const line of lines) {
    const t = missTimes(line);
    if (t === undefined) continue;
    latency.push(t.latency);
    kv.push(t.kv);
    ghes.push(t.ghes);
    other.push(t.latency - t.kv - t.ghes);
  }
  if (latency.length === 0) {
    say('miss breakdown: no audit line of a miss found in the gateway output');
    return;
  }
  const p50 = (xs: number[]) =>
    percentileSorted(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const b: MissBreakdown = {
    answers: latency.length,
    latency_p50_ms: p50(latency),
    kv_p50_ms: p50(kv),
    ghes_p50_ms: p50(ghes),
    other_p50_ms: p50(other),
  };
  ctx.figures.miss_breakdown = b;
  say(
    `miss breakdown over ${b.answers} answers (p50, gateway clock): ${b.latency_p50_ms} ms in the gateway = KV read ${b.kv_p50_ms} + GHES ${b.ghes_p50_ms} + other ${b.other_p50_ms}`,
  );
}
