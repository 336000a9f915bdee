/** The machine and tool versions a run was measured with, for the results and the doc. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  workerd: string;
  miniflare: string;
  wrangler: string;
  autocannon: string;
}

function packageVersion(root: string, name: string): string {
  try {
    const pkg = JSON.parse(
      readFileSync(resolve(root, 'node_modules', name, 'package.json'), 'utf8'),
    ) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function workerdVersion(root: string): string {
  try {
    return execFileSync(resolve(root, 'node_modules/.bin/workerd'), ['--version'], {
      encoding: 'utf8',
      timeout: 10_000,
    }).trim();
  } catch {
    return `workerd (npm ${packageVersion(root, 'workerd')})`;
  }
}

export function describeMachine(root: string): Machine {
  const cpus = os.cpus();
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    workerd: workerdVersion(root),
    miniflare: packageVersion(root, 'miniflare'),
    wrangler: packageVersion(root, 'wrangler'),
    autocannon: packageVersion(root, 'autocannon'),
  };
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

/**
 * Share of all CPUs (percent) busy over `ms` while the bench itself is idle: other work on this
 * shared machine (a test run, a compiler) that the figures would silently absorb.
 */
export async function busyPercent(ms: number): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  const total = b.total - a.total;
  return total <= 0 ? 0 : Math.round((1 - (b.idle - a.idle) / total) * 1000) / 10;
}
