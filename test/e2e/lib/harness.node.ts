/**
 * The plumbing every end-to-end suite shares: a cleanup stack that runs on success, failure,
 * timeout and Ctrl+C alike; a bounded request; free loopback ports; a bounded output tail of child
 * processes; and a check runner that prints one line per check and the `N passed, M failed`
 * summary CI greps for.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

type Task = { name: string; run: () => Promise<void> | void };

/** How long one request of a suite may take. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** An answer, its body read. */
export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** One request of a suite: redirects are not followed (a redirect is an answer), and bounded. */
export async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/**
 * Teardown in reverse order of setup. Each task is bounded so one stuck child cannot keep the
 * run alive; a failing task is reported and the rest still run.
 */
export class Cleanup {
  private readonly tasks: Task[] = [];
  private running: Promise<void> | undefined;

  add(name: string, run: Task['run']): void {
    this.tasks.push({ name, run });
  }

  /** Runs every task once, newest first; later calls wait for the first. */
  runAll(timeoutMs = 5_000): Promise<void> {
    this.running ??= (async () => {
      while (this.tasks.length > 0) {
        const task = this.tasks.pop() as Task;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(task.run),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`did not finish in ${timeoutMs} ms`)),
                timeoutMs,
              );
            }),
          ]);
        } catch (e) {
          process.stderr.write(`cleanup: ${task.name}: ${errorText(e)}\n`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.running;
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A port that was free on 127.0.0.1 a moment ago. For programs that must be told their port up
 * front (nginx); anything that can listen on port 0 and report back should do that instead.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string')
          reject(new Error('no TCP address for a loopback listener'));
        else resolve(address.port);
      });
    });
  });
}

const EXIT_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `start`, then removes any SIGINT/SIGTERM listeners it added. wrangler's config reader and
 * miniflare install listeners that call `process.exit()` at once, which would skip the suite's
 * teardown (nginx, temp folders) and its summary line; the suite handles these signals itself.
 * Their `exit` hooks stay (miniflare's stops workerd when the process ends).
 */
export async function withoutForeignSignalExits<T>(start: () => Promise<T>): Promise<T> {
  const before = new Map(EXIT_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  try {
    return await start();
  } finally {
    for (const signal of EXIT_SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)?.has(listener))
          process.removeListener(signal, listener as (...args: unknown[]) => void);
      }
    }
  }
}

/** Keeps the last `max` lines written to the given streams, for diagnostics on failure. */
export function tail(streams: Readable[], max = 40): () => string[] {
  const lines: string[] = [];
  for (const stream of streams) {
    stream.setEncoding('utf8');
    let partial = '';
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > max) lines.shift();
      }
    });
  }
  return () => [...lines];
}

/** A proxy (nginx, Caddy) running as a child process of the suite. */
export interface RunningProxy {
  url: string;
  recentOutput(): string[];
  stop(): Promise<void>;
  /** Last-resort synchronous stop for `process.on('exit')`. */
  kill(): void;
}

/**
 * Waits until the just-spawned proxy `child` says it is ready (`isReady`, polled every 50 ms,
 * 10 s at most), failing early if it could not start or exited, and gives it a stop that sends
 * SIGTERM (both proxies' fast shutdown) and SIGKILL after 3 s.
 */
export async function superviseProxy(o: {
  name: string;
  bin: string;
  child: ChildProcess;
  port: number;
  recentOutput: () => string[];
  isReady: () => boolean;
}): Promise<RunningProxy> {
  const { child, recentOutput } = o;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (!running()) return;
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(3_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const until = Date.now() + 10_000;
  for (;;) {
    if (spawnError !== undefined)
      throw new Error(`could not start ${o.bin}: ${spawnError.message}`);
    if (child.exitCode !== null)
      throw new Error(
        `${o.name} exited with code ${child.exitCode}:\n${recentOutput().join('\n')}`,
      );
    if (o.isReady()) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(
        `${o.name} did not start on 127.0.0.1:${o.port} within 10 s:\n${recentOutput().join('\n')}`,
      );
    }
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${o.port}`,
    recentOutput,
    stop,
    kill: () => {
      if (running()) child.kill('SIGTERM');
    },
  };
}

/** Runs named checks in order, printing `PASS name` or `FAIL name: why` for each. */
export class CheckRunner {
  passed = 0;
  failed = 0;
  /** Set by close(): checks still running after it (a timed-out run) print and count nothing. */
  private closed = false;

  async check(name: string, body: () => Promise<void>): Promise<boolean> {
    const started = Date.now();
    try {
      await body();
      if (this.closed) return false;
      this.passed += 1;
      console.log(`PASS  ${name} (${Date.now() - started} ms)`);
      return true;
    } catch (e) {
      this.fail(name, e);
      return false;
    }
  }

  /** Records a failure outside a check, e.g. a setup step that made the checks impossible. */
  fail(name: string, e: unknown): void {
    if (this.closed) return;
    this.failed += 1;
    // node:assert puts blank lines around its diff; one indented block reads better.
    const why = errorText(e)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .join('\n      ');
    console.log(`FAIL  ${name}: ${why}`);
  }

  close(): void {
    this.closed = true;
  }

  /** The summary line, to be printed alone on its line. */
  summary(): string {
    return `${this.passed} passed, ${this.failed} failed`;
  }
}
