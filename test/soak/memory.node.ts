/**
 * Resident memory of the workerd processes miniflare started for this run, read from Linux
 * `/proc` (`VmRSS`). The gateway exposes no statistics, so the process is the only honest
 * witness that memory stayed bounded: the L1 cache is capped (CACHE_L1_MAX_ENTRIES) and every
 * other per-isolate structure must be too, however many distinct tokens pass.
 *
 * The figure includes miniflare's in-memory KV store, which grows with every distinct token
 * cached until the entries' TTL: the bound the soak asserts leaves room for that.
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
