/**
 * The GHES emulator (emulator, Node runner scripts/emulator.ts) started in a child
 * process of its own, and a client for its admin API. The bench never carries an emulator of its
 * own: when the runner is missing, every scenario that needs GHES says so and does not run.
 *
 * Why a separate process: the load generator is a Node event loop too. With the emulator in the
 * same process, every emulator answer waits behind autocannon's work and the other way round, and
 * the two miss measurements (gateway → emulator, and emulator direct) suffer that contention
 * unequally: the gateway's miss carries two loops' worth of queueing (its own request and its GHES
 * call) against the direct run's one. In its own process the emulator answers like a remote GHES.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export interface EmulatorApp {
  name: string;
  client_id: string;
  client_secret: string;
  kind: string;
}

export interface StartedEmulator {
  url: string;
  close(): Promise<void> | void;
}

export const EMULATOR_RUNNER = 'scripts/emulator.ts';

/** How long the runner may take to print its ready line. */
const START_TIMEOUT_MS = 30_000;

/** Runs `scripts/emulator.ts` in a child Node (tsx as loader) and waits for its ready line. */
function spawnRunner(
  root: string,
  runner: string,
  options: { version: string; latencyMs: number },
): Promise<StartedEmulator> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      runner,
      '--port',
      '0',
      '--version',
      options.version,
      '--latency-ms',
      String(options.latencyMs),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // A bench that dies must not leave the emulator running.
  const orphan = () => child.kill('SIGTERM');
  process.once('exit', orphan);
  void exited.then(() => process.off('exit', orphan));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise<StartedEmulator>((ready, fail) => {
    let output = '';
    const timer = setTimeout(() => {
      void close();
      fail(new Error(`no ready line within ${START_TIMEOUT_MS} ms: ${output.slice(-500)}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m === null) return;
      clearTimeout(timer);
      // From here on its output is drained and dropped (the emulator logs nothing per request).
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      ready({ url: m[1]!, close });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(
        new Error(
          `${EMULATOR_RUNNER} exited (${signal ?? `code ${String(code)}`}) before it was ready: ${output.slice(-500)}`,
        ),
      );
    });
  });
}

/** Starts the runner in its own process and the admin client, or explains why it cannot. */
export async function startGhesEmulator(
  root: string,
  options: { version: string; latencyMs: number },
): Promise<{ ok: true; emulator: Emulator } | { ok: false; reason: string }> {
  const runner = resolve(root, EMULATOR_RUNNER);
  if (!existsSync(runner))
    return { ok: false, reason: `the GHES emulator runner ${EMULATOR_RUNNER} does not exist yet` };
  let started: StartedEmulator;
  try {
    started = await spawnRunner(root, runner, options);
  } catch (e) {
    return { ok: false, reason: `${EMULATOR_RUNNER} did not start: ${(e as Error).message}` };
  }
  const emulator = new Emulator(started, options.latencyMs);
  // GHES sends x-ratelimit-* headers on every answer and the emulator counts them down from
  // GitHub's 5000/h; a bench makes far more calls than that in a minute, and a gateway that
  // (rightly) backs off when `remaining` reaches 0 would then measure its back-off, not its speed.
  // GHES itself has rate limiting off by default.
  await emulator.configure({ rate_limit: 1_000_000_000 });
  await emulator.setLatency(options.latencyMs);
  return { ok: true, emulator };
}

export class Emulator {
  /** Origin without a trailing slash, e.g. http://127.0.0.1:40123. */
  readonly origin: string;
  /** GHES REST base, what GHES_BASE_URL and octokit's baseUrl point at. */
  readonly apiBase: string;

  constructor(
    private readonly started: StartedEmulator,
    readonly latencyMs: number,
  ) {
    this.origin = new URL(started.url).origin;
    this.apiBase = `${this.origin}/api/v3`;
  }

  private async admin<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.origin}/_emulator/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(
        `emulator ${method} /_emulator/${path} answered ${res.status}: ${text.slice(0, 300)}`,
      );
    return JSON.parse(text) as T;
  }

  apps(): Promise<EmulatorApp[]> {
    return this.admin<EmulatorApp[]>('GET', 'apps');
  }

  async mintToken(app: string, login: string): Promise<string> {
    const { token } = await this.admin<{ token: string }>('POST', 'tokens', {
      app,
      login,
      scopes: ['read:user'],
    });
    if (typeof token !== 'string' || token.length === 0)
      throw new Error('emulator POST /_emulator/tokens answered no token');
    return token;
  }

  /** Mints `count` tokens, `concurrency` at a time, with the emulator's latency off meanwhile. */
  async mintTokens(app: string, count: number, concurrency = 32): Promise<string[]> {
    const tokens: string[] = new Array<string>(count);
    let next = 0;
    await this.setLatency(0);
    try {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, count) }, async () => {
          while (next < count) {
            const i = next++;
            tokens[i] = await this.mintToken(app, `bench-user-${i % 1000}`);
          }
        }),
      );
    } finally {
      await this.setLatency(this.latencyMs);
    }
    return tokens;
  }

  /** GHES token checks served so far (`POST /applications/{client_id}/token` and legacy forms). */
  async checkCalls(): Promise<number> {
    const calls = await this.admin<Record<string, unknown>>('GET', 'calls');
    const check = calls['check'];
    if (typeof check !== 'number')
      throw new Error(
        `emulator GET /_emulator/calls has no numeric "check": ${JSON.stringify(calls)}`,
      );
    return check;
  }

  /**
   * The check count once it has stopped moving. When a load run ends, requests the load
   * generator had already written are still reaching the worker, and their GHES calls arrive a
   * little later; reading the counter at once would credit them to whatever is measured next.
   */
  async settledCheckCalls(): Promise<number> {
    let last = await this.checkCalls();
    let stableSince = performance.now();
    const deadline = stableSince + 5000;
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      const now = await this.checkCalls();
      if (now !== last) {
        last = now;
        stableSince = performance.now();
      } else if (performance.now() - stableSince >= 100) {
        return now;
      }
    }
    return last;
  }

  async configure(patch: Record<string, unknown>): Promise<void> {
    await this.admin('POST', 'config', patch);
  }

  /** An unlimited pure-latency fault replaces the previous one (it does not stack). */
  async setLatency(latencyMs: number): Promise<void> {
    await this.admin('POST', 'faults', { latency_ms: latencyMs });
  }

  async close(): Promise<void> {
    await this.started.close();
  }
}
