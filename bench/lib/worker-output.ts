/**
 * Where a measured worker's output goes: a file, written by workerd itself, not a pipe that the
 * bench's own Node process reads.
 *
 * miniflare 5 always pipes workerd's stdout into the Node process that created it and parses every
 * line there (its structured logs), whatever handler is given. That process is the load generator
 * and the in-isolate probe's timer, and the per-line work competes with workerd for the machine's
 * two cores: measured, one log line per request cost the gateway about 50 µs of its in-isolate loop
 * through the pipe, 27 µs written to a file and 19 µs written to /dev/null (and 90 µs with
 * everything on one core). A deployed worker's logs are collected outside its isolate and outside
 * any client; a file is the nearest local equivalent, so workerd's own cost of each line (formatting,
 * the write) stays in every figure and the reader's does not.
 *
 * How: miniflare starts workerd as `MINIFLARE_WORKERD_PATH` when that is set; the bench points it
 * at a two-line shell wrapper that execs the real workerd with stdout appended to the file named
 * by `BENCH_WORKERD_OUTPUT` (given per Miniflare through `unsafeRuntimeEnv`). stderr stays on
 * miniflare's pipe, so start-up failures are still reported by miniflare.
 *
 * With `BENCH_KEEP_OUTPUT=1` the files are kept (bench-worker-output-* in the temporary directory)
 * to read what a worker logged during a run.
 */
import {
  mkdtempSync,
  openSync,
  readSync,
  fstatSync,
  closeSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerdStructuredLog } from 'miniflare';

/** Lines of a worker's most recent output kept for diagnostics. */
export const KEEP_LINES = 50;
/** Bytes read from the end of the output file for those lines. */
const TAIL_BYTES = 64 * 1024;

let wrapperDir: string | undefined;

/** The wrapper is written once per bench process and named in MINIFLARE_WORKERD_PATH. */
function installWrapper(): void {
  if (wrapperDir !== undefined) return;
  const workerd = createRequire(import.meta.url)('workerd') as { default?: string } | string;
  const binary = typeof workerd === 'string' ? workerd : workerd.default;
  if (typeof binary !== 'string') throw new Error('the workerd package did not name its binary');
  wrapperDir = mkdtempSync(join(tmpdir(), 'bench-workerd-'));
  const wrapper = join(wrapperDir, 'workerd');
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `if [ -n "$BENCH_WORKERD_OUTPUT" ]; then exec ${shellQuote(binary)} "$@" >>"$BENCH_WORKERD_OUTPUT"; fi`,
      `exec ${shellQuote(binary)} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  process.env['MINIFLARE_WORKERD_PATH'] = wrapper;
  process.once('exit', () => rmSync(wrapperDir!, { recursive: true, force: true }));
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The message of one structured line workerd wrote, or the line itself. */
export function messageOf(line: string): string {
  try {
    const parsed = JSON.parse(line) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : line;
  } catch {
    return line;
  }
}

export interface WorkerOutput {
  /** Miniflare's shared options that send this instance's stdout to the file. */
  options: {
    unsafeRuntimeEnv: Record<string, string>;
    handleStructuredLogs: (log: WorkerdStructuredLog) => void;
  };
  /** The last lines written (stdout file and stderr), read only when asked. */
  lines(): string[];
  /** The file workerd's stdout goes to: one structured line per console call. */
  path: string;
  /** Removes the file; call after the Miniflare instance is disposed. */
  dispose(): void;
}

export function workerOutput(max = KEEP_LINES): WorkerOutput {
  installWrapper();
  const dir = mkdtempSync(join(tmpdir(), 'bench-worker-output-'));
  const file = join(dir, 'stdout.jsonl');
  writeFileSync(file, '');
  const stderr: string[] = [];
  const tailOfFile = (): string[] => {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, TAIL_BYTES);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      return buf.toString('utf8').split('\n').filter(Boolean).slice(-max).map(messageOf);
    } finally {
      closeSync(fd);
    }
  };
  return {
    options: {
      unsafeRuntimeEnv: { BENCH_WORKERD_OUTPUT: file },
      handleStructuredLogs(log) {
        stderr.push(log.message);
        if (stderr.length > max) stderr.shift();
      },
    },
    lines: () => [...tailOfFile(), ...stderr.join('\n').split('\n')].filter(Boolean).slice(-max),
    path: file,
    dispose: () => {
      if (!process.env['BENCH_KEEP_OUTPUT']) rmSync(dir, { recursive: true, force: true });
    },
  };
}
