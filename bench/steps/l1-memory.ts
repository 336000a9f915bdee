/**
 * Step 2b: heap of the L1 cache filled with distinct tokens (bench/probes/l1-memory.ts), at the
 * default cap and with the cap raised to the number of tokens.
 */
import { runProbe } from '../lib/probes';
import type { L1Report } from '../probes/l1-memory';
import { root, say, skip, type Context } from './context';

export async function l1MemoryProbe(ctx: Context): Promise<void> {
  if (!ctx.wants('l1_memory')) return;
  const n = String(ctx.o.l1Entries);
  say(`L1 memory probe: ${n} distinct tokens at the default cap, then with the cap raised to ${n}`);
  const flags = ['--expose-gc', '--no-warnings'];
  // Two processes at once: each measures its own heap, and the pair costs one fill time.
  const [capped, full] = await Promise.all([
    runProbe<L1Report>(root, 'l1-memory.ts', flags, [n, 'default']),
    runProbe<L1Report>(root, 'l1-memory.ts', flags, [n, n]),
  ]);
  if (!capped.ok || !full.ok) {
    skip(
      ctx,
      ['l1_memory'],
      [capped, full]
        .map((p) => (p.ok ? '' : p.reason))
        .filter(Boolean)
        .join('; '),
    );
    return;
  }
  if (capped.value.hitReloads > 0 || full.value.hitReloads > 0) {
    skip(ctx, ['l1_memory'], 'recently cached tokens were not answered from L1');
    return;
  }
  const f = ctx.figures;
  f.l1_cap = capped.value.cap;
  f.l1_entries_pushed = capped.value.entries;
  f.l1_size_after = capped.value.l1Size;
  f.l1_heap_bytes = capped.value.heapBytes;
  f.l1_full_heap_bytes = full.value.heapBytes;
  f.l1_bytes_per_entry = Math.round(full.value.bytesPerEntry);
  say(
    `L1: ${capped.value.l1Size} entries kept of ${n} (cap ${capped.value.cap}), ${(capped.value.heapBytes / 2 ** 20).toFixed(1)} MiB; ` +
      `${full.value.l1Size} entries uncapped: ${(full.value.heapBytes / 2 ** 20).toFixed(1)} MiB, ` +
      `${Math.round(full.value.bytesPerEntry)} B/entry`,
  );
}
