/**
 * Serves the GHES emulator (emulator) over HTTP on 127.0.0.1 for `npm start`, manual
 * testing and benchmarks. Loopback only: the admin API under /_emulator hands out client secrets.
 *
 *   npx tsx scripts/emulator.ts [--port 8788] [--version 3.22] [--latency-ms 0]
 *                               [--bad-credentials-status 404|401] [--seed demo|none]
 *   (or EMULATOR_PORT, GHES_VERSION, EMULATOR_LATENCY_MS)
 *
 * Other Node scripts start it in-process with `startEmulator()`. The ready line never prints a
 * client secret.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serve, type HttpBindings } from '@hono/node-server';
import {
  createGhesEmulator,
  type BadCredentialsStatus,
  type GhesEmulator,
} from '../emulator/index';
import { readyLine } from '../emulator/banner';

export interface StartEmulatorOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one (default 8788). */
  port?: number;
  /** GHES release to emulate (default "3.22"). */
  version?: string;
  /** Latency added to every API request (an unlimited latency fault). */
  latencyMs?: number;
  badCredentialsStatus?: BadCredentialsStatus;
  seed?: 'demo' | 'none';
}

export interface StartedEmulator {
  /** Origin, e.g. http://127.0.0.1:8788 (the GHES API base is `${url}/api/v3`). */
  url: string;
  emulator: GhesEmulator;
  close(): Promise<void>;
}

export const DEFAULT_EMULATOR_PORT = 8788;

function isDrop(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConnectionDropped';
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<StartedEmulator> {
  const emulator = createGhesEmulator({
    ...(options.version !== undefined && { version: options.version }),
    ...(options.latencyMs !== undefined &&
      options.latencyMs > 0 && { latencyMs: options.latencyMs }),
    ...(options.badCredentialsStatus !== undefined && {
      badCredentialsStatus: options.badCredentialsStatus,
    }),
    ...(options.seed !== undefined && { seed: options.seed }),
  });
  const port = options.port ?? DEFAULT_EMULATOR_PORT;

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      {
        hostname: '127.0.0.1',
        port,
        fetch: async (request: Request, env: HttpBindings | unknown) => {
          try {
            return await emulator.app.fetch(request, { signal: request.signal });
          } catch (err) {
            if (!isDrop(err)) throw err;
            // "drop" faults: close the TCP connection without an answer.
            (env as Partial<HttpBindings>).incoming?.socket.destroy();
            return new Response(null, { status: 502 });
          }
        },
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });

  const address = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    emulator,
    close: () =>
      new Promise<void>((resolve, reject) => {
        emulator.releaseHangs();
        server.close((err) => (err ? reject(err) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env['EMULATOR_PORT'] },
      version: { type: 'string', default: process.env['GHES_VERSION'] },
      'latency-ms': { type: 'string', default: process.env['EMULATOR_LATENCY_MS'] },
      'bad-credentials-status': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const status = values['bad-credentials-status'];
  if (status !== undefined && status !== '404' && status !== '401') {
    throw new Error('--bad-credentials-status must be 404 or 401');
  }
  const seed = values.seed;
  if (seed !== undefined && seed !== 'demo' && seed !== 'none')
    throw new Error('--seed must be demo or none');
  const port = intOption(values.port, '--port');
  const latencyMs = intOption(values['latency-ms'], '--latency-ms');

  const started = await startEmulator({
    ...(port !== undefined && { port }),
    ...(values.version !== undefined && values.version !== '' && { version: values.version }),
    ...(latencyMs !== undefined && { latencyMs }),
    ...(status !== undefined && { badCredentialsStatus: Number(status) as BadCredentialsStatus }),
    ...(seed !== undefined && { seed }),
  });
  console.log(readyLine(started.url, started.emulator.config().version, started.emulator.apps()));
  const stop = (): void => {
    void started.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(
      `GHES emulator failed to start: ${err instanceof Error ? err.message : String(err)}`,
    );
    process.exit(1);
  });
}
