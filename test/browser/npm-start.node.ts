/**
 * The gateway as `npm start` runs it: scripts/start.ts (wrangler dev, which serves the Workers
 * static assets and public/_headers as Cloudflare does, in front of the GHES emulator) on free
 * loopback ports. start.ts runs in a process group of its own; stop() sends it SIGTERM, on which
 * it stops wrangler (its own group) and the emulator, and waits for it to exit.
 * scripts/test-browser.sh sweeps up whatever a hard kill leaves.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freeLoopbackPort, tail } from '../e2e/lib/harness.node.js';

export interface StartedGateway {
  /** http://127.0.0.1:<port>, also its PUBLIC_URL. */
  url: string;
  recentOutput(): string[];
  stop(): Promise<void>;
}

export async function npmStart(root: string, timeoutMs: number): Promise<StartedGateway> {
  const [port, emulatorPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'scripts/start.ts'),
      '--port',
      String(port),
      '--emulator-port',
      String(emulatorPort),
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
      detached: true,
    },
  );
  const recentOutput = tail([child.stdout, child.stderr], 60);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000))),
      ]);
      clearTimeout(timer);
      if (gaveUp && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    })());

  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`npm start exited early (${child.exitCode ?? child.signalCode})`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      await stop();
      throw new Error(`npm start was not healthy at ${url} within ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, recentOutput, stop };
}
