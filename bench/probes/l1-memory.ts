/**
 * L1 memory probe: pushes N distinct tokens through the gateway's own cache module
 * (src/cache/token-cache.ts, imported as source with tsx, KV off) and reports how many entries
 * L1 kept and what they cost on the V8 heap. With the default cap the entry count must stay at
 * or under the cap however many tokens pass; with the cap raised to N it shows what N cached
 * tokens cost.
 *
 * Method: full GCs (`--expose-gc`) before and after, `heapUsed + external` compared. Every token
 * is distinct, 40 characters like a real `gho_` token, and its load answers a distinct
 * authorization shaped like a GHES check answer, so the entries are as big as real ones.
 *
 * Run: node --expose-gc --import tsx bench/probes/l1-memory.ts <entries> <cap|default>
 * Prints one JSON line (see `L1Report`) or { error }.
 */
import { resolve } from 'node:path';
import { safeParse, type GenericSchema } from 'valibot';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
export const TOKEN_CACHE_MODULE = 'src/cache/token-cache.ts';
const CLOCK_MODULE = 'src/lib/clock.ts';

/** The slice of TokenCache's API the probe relies on (structural: src/ is typed for workerd). */
interface TokenCacheLike {
  check(
    app: { name: string; clientId: string },
    token: string,
    load: () => Promise<unknown>,
  ): Promise<{ result: { active: boolean }; source: string }>;
  stats(): { l1Size: number };
}
type TokenCacheClass = new (options: Record<string, unknown>) => TokenCacheLike;

/** What the probe prints (bench/steps/l1-memory.ts reads it). */
export interface L1Report {
  entries: number;
  cap: number;
  capIsDefault: boolean;
  l1Size: number;
  heapBytes: number;
  bytesPerEntry: number;
  fillMs: number;
  /** Mean time of a check of a recently cached token (hashing included), in microseconds. */
  hitUs: number;
  /** How many of those checks were not answered from L1 (evicted despite being recent). */
  hitReloads: number;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) collect();
}

function heap(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function tokenFor(i: number): string {
  return `gho_${i.toString(36).padStart(36, '0')}`;
}

/** A GHES check answer (public part) as the cache's loader returns it (`LoadResult`). */
function answerFor(i: number, clientId: string): unknown {
  const created = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    found: true,
    authorization: {
      id: 1_000_000 + i,
      url: `https://ghes.example/api/v3/authorizations/${1_000_000 + i}`,
      scopes: ['read:user', 'repo'],
      token_last_eight: tokenFor(i).slice(-8),
      app: { client_id: clientId, name: 'demo-oauth', url: 'https://ghes.example/apps/demo' },
      note: null,
      note_url: null,
      updated_at: created,
      created_at: created,
      fingerprint: null,
      user: {
        login: `user-${i}`,
        id: 10_000 + i,
        node_id: `U_${i}`,
        type: 'User',
        site_admin: false,
      },
      expires_at: null,
    },
  };
}

async function defaultCap(): Promise<number> {
  const env = (await import(pathToFileURL(resolve(root, 'src/config/schema.ts')).href)) as {
    varsSchema?: { entries?: Record<string, GenericSchema> };
  };
  const field = env.varsSchema?.entries?.['CACHE_L1_MAX_ENTRIES'];
  const parsed = field === undefined ? undefined : safeParse(field, undefined);
  const value = parsed?.success === true ? parsed.output : undefined;
  if (typeof value !== 'number')
    throw new Error('src/config/schema.ts has no CACHE_L1_MAX_ENTRIES default');
  return value;
}

async function main(): Promise<void> {
  const [entriesArg, capArg] = process.argv.slice(2);
  const entries = Number(entriesArg ?? '100000');
  const capIsDefault = capArg === undefined || capArg === 'default';
  const cap = capIsDefault ? await defaultCap() : Number(capArg);
  const mod = (await import(pathToFileURL(resolve(root, TOKEN_CACHE_MODULE)).href)) as {
    TokenCache?: TokenCacheClass;
  };
  if (typeof mod.TokenCache !== 'function')
    throw new Error(`${TOKEN_CACHE_MODULE} does not export a TokenCache class`);
  const { systemClock } = (await import(pathToFileURL(resolve(root, CLOCK_MODULE)).href)) as {
    systemClock?: unknown;
  };
  if (systemClock === undefined) throw new Error(`${CLOCK_MODULE} does not export systemClock`);
  const clientId = 'Iv1.benchclientid01';
  const app = { name: 'demo-oauth', clientId };
  gc();
  const before = heap();
  const cache = new mod.TokenCache({
    kv: undefined,
    pepper: 'bench-pepper-bench-pepper-bench-pepper-0123',
    positiveTtlS: 3600,
    negativeTtlS: 3600,
    l1MaxEntries: cap,
    staleIfErrorS: 0,
    log: () => {},
    clock: systemClock,
  });
  const t0 = performance.now();
  for (let i = 0; i < entries; i++) {
    const answer = answerFor(i, clientId);
    const outcome = await cache.check(app, tokenFor(i), async () => answer);
    if (outcome.result.active !== true)
      throw new Error(`check of token ${i} did not answer active: true`);
  }
  const fillMs = performance.now() - t0;
  gc();
  const heapBytes = heap() - before;
  const l1Size = cache.stats().l1Size;

  // Hits: the most recent tokens are the ones any eviction policy keeps.
  const hits = Math.min(l1Size, 20_000);
  let reloads = 0;
  const t1 = performance.now();
  for (let i = entries - hits; i < entries; i++) {
    const outcome = await cache.check(app, tokenFor(i), async () => answerFor(i, clientId));
    if (outcome.source !== 'l1') reloads++;
  }
  const hitUs = hits === 0 ? 0 : ((performance.now() - t1) * 1000) / hits;

  const report: L1Report = {
    entries,
    cap,
    capIsDefault,
    l1Size,
    heapBytes,
    bytesPerEntry: l1Size === 0 ? 0 : heapBytes / l1Size,
    fillMs,
    hitUs,
    hitReloads: reloads,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e: unknown) => {
  process.stdout.write(
    `${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`,
  );
  process.exitCode = 1;
});
