/**
 * Memory of the soak's gateway, two ways. Resident memory of the workerd processes miniflare
 * started (Linux `/proc`, `VmRSS`): it includes the runtime's own growth under load and
 * miniflare's in-memory KV, so it can only catch runaway growth. And the gateway isolate's live
 * JavaScript heap, read through DevTools (`HeapSampler`): what the gateway's code still
 * references, which must stay flat once L1 (capped by CACHE_L1_MAX_ENTRIES) is full, however many
 * distinct tokens pass.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface RssSample {
  /** ms since `start()`. */
  atMs: number;
  bytes: number;
}

function statOf(pid: number): { comm: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`; comm may itself contain spaces or parentheses.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(open + 1, close), ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Every process below `root` whose command name starts with `workerd`. */
export function workerdPids(root: number = process.pid): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const s = statOf(pid);
    if (s === undefined) continue;
    parent.set(pid, s.ppid);
    comm.set(pid, s.comm);
  }
  const below = (pid: number): boolean => {
    for (
      let p = parent.get(pid), hops = 0;
      p !== undefined && hops < 64;
      p = parent.get(p), hops++
    ) {
      if (p === root) return true;
    }
    return false;
  };
  return [...comm.entries()]
    .filter(([pid, name]) => name.startsWith('workerd') && below(pid))
    .map(([pid]) => pid);
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

export class RssSampler {
  readonly samples: RssSample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #started = performance.now();
  #pids: number[] = [];

  /** Starts sampling every `everyMs`; returns false when no workerd process can be found. */
  start(everyMs: number): boolean {
    this.#pids = workerdPids();
    if (this.#pids.length === 0) return false;
    this.#started = performance.now();
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
    return true;
  }

  sample(): void {
    const bytes = this.#pids.reduce((sum, pid) => sum + rssOf(pid), 0);
    if (bytes > 0) this.samples.push({ atMs: performance.now() - this.#started, bytes });
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.sample();
  }

  get pids(): readonly number[] {
    return this.#pids;
  }

  /** Highest sample taken in [fromMs, toMs). */
  maxBetween(fromMs: number, toMs: number): number | undefined {
    const inside = this.samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
    return inside.length === 0 ? undefined : Math.max(...inside.map((s) => s.bytes));
  }
}

export const MiB = 1024 * 1024;

/** One reading of the gateway isolate's live heap. */
export interface HeapSample {
  /** ms since `start()`. */
  atMs: number;
  /** Answers the soak had counted when the reading was taken. */
  answers: number;
  bytes: number;
}

/**
 * The gateway isolate's live JavaScript heap (after a full collection), read through DevTools
 * every `everyMs` while the load runs: the trend and the peak under load. Unlike RSS, which
 * workerd and miniflare's KV grow on their own, this is only what the gateway's code still
 * references. Readings are taken one after another (each pauses the isolate for a heap snapshot,
 * ~0.2 s), never overlapping. Under load each also holds the requests in flight, so the soak's
 * growth check uses readings taken with none in flight instead.
 */
export class HeapSampler {
  readonly samples: HeapSample[] = [];
  #running: Promise<void> | undefined;
  #stopped = false;
  #started = performance.now();
  #error: unknown;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly answers: () => number,
  ) {}

  start(everyMs: number): void {
    this.#started = performance.now();
    this.#running = (async () => {
      while (!this.#stopped) {
        await this.sample();
        if (this.#error !== undefined) return;
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async sample(): Promise<void> {
    try {
      const bytes = await this.read();
      this.samples.push({
        atMs: performance.now() - this.#started,
        answers: this.answers(),
        bytes,
      });
    } catch (e) {
      this.#error ??= e;
    }
  }

  /** Stops the readings and takes a last one; throws the first reading that failed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    if (this.#error === undefined) await this.sample();
    if (this.#error !== undefined) throw this.#error;
  }
}
