/**
 * How much CPU processes outside the bench used during a run. The machine is shared (tests and
 * compilers of other work may run at any time); a run disturbed by them reads low, and the
 * report says so rather than letting the figure pass as the runtime's.
 *
 * Linux only (/proc); elsewhere every figure is null.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux port we run on). */
const USER_HZ = 100;

interface Proc {
  ppid: number;
  ticks: number;
}

export type CpuSnapshot = { at: number; procs: Map<number, Proc> } | null;

export function cpuSnapshot(): CpuSnapshot {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const procs = new Map<number, Proc>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) start after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(rest[1]);
      const ticks = Number(rest[11]) + Number(rest[12]);
      if (Number.isFinite(ppid) && Number.isFinite(ticks)) procs.set(Number(e), { ppid, ticks });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return { at: performance.now(), procs };
}

/** Percent of all CPUs used by processes that are not this one or its descendants. */
export function otherCpuPercent(a: CpuSnapshot, b: CpuSnapshot): number | null {
  if (a === null || b === null) return null;
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      const next = b.procs.get(p)?.ppid ?? a.procs.get(p)?.ppid;
      if (next === undefined) return false;
      p = next;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, after] of b.procs) {
    if (ours(pid)) continue;
    ticks += after.ticks - (a.procs.get(pid)?.ticks ?? 0);
  }
  const seconds = (b.at - a.at) / 1000;
  if (seconds <= 0) return null;
  return Math.round((ticks / USER_HZ / (seconds * os.availableParallelism())) * 1000) / 10;
}
