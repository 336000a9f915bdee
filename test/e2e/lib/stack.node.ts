/**
 * What every proxy suite runs behind its proxy: the gateway as it deploys (the wrangler dry-run
 * bundle under miniflare, test/e2e/lib/gateway.node.ts) asking the GHES emulator, an upstream,
 * and caller JWTs for the API gateway's `sub` and an admin `sub`. Each part is registered with
 * `cleanup` as it starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintDevCallerToken } from '../../../scripts/caller-token';
import { startEmulator, type StartedEmulator } from '../../../scripts/emulator';
import {
  buildWorker,
  localSecrets,
  readProjectConfig,
  startGateway,
  type RunningGateway,
} from './gateway.node.js';
import type { Cleanup } from './harness.node.js';
import type { SuiteLive } from './suite.node.js';
import { startUpstream, type RunningUpstream } from './upstream.node.js';

export interface Stack {
  dir: string;
  emulator: StartedEmulator;
  gateway: RunningGateway;
  upstream: RunningUpstream;
  /** For the API gateway's caller `sub` (forward auth only). */
  gatewayJwt: string;
  /** For an admin caller (token/delete). */
  adminJwt: string;
}

export async function startStack(
  cleanup: Cleanup,
  live: SuiteLive,
  o: {
    root: string;
    gatewayCaller: string;
    adminCaller: string;
    /** The upstream repeats every header it received in its body (startUpstream). */
    echoHeaders: boolean;
  },
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'ghes-token-gateway-e2e-'));
  live.dir = dir;
  cleanup.add('temp folder', () => rmSync(dir, { recursive: true, force: true }));
  const configPath = join(o.root, 'wrangler.toml');

  const started = Date.now();
  const building = new AbortController();
  const built = buildWorker(o.root, configPath, join(dir, 'bundle'), building.signal);
  // Stopped before the temp folder goes, so that it cannot write into the folder once removed.
  cleanup.add('wrangler build', async () => {
    building.abort();
    await built.catch(() => undefined);
  });
  const [project, mainPath] = await Promise.all([readProjectConfig(configPath), built]);
  console.log(`info  gateway built with wrangler deploy --dry-run (${Date.now() - started} ms)`);

  const ghesVersion = String(project.vars['GHES_VERSION'] ?? '3.22');
  const emulator = await startEmulator({ port: 0, version: ghesVersion });
  cleanup.add('GHES emulator', () => emulator.close());
  const gateway = await startGateway({
    mainPath,
    project,
    bindings: {
      ...localSecrets(o.root, project, emulator.emulator.apps()),
      GHES_BASE_URL: `${emulator.url}/api/v3`,
    },
  });
  live.outputs.push(['gateway', () => gateway.recentOutput()]);
  cleanup.add('gateway (miniflare)', () => gateway.dispose());
  const health = await fetch(`${gateway.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  if (health.status !== 200)
    throw new Error(`the gateway's /healthz answered ${health.status}: ${await health.text()}`);
  console.log(
    `info  gateway on ${gateway.url}, GHES ${ghesVersion} emulator on ${emulator.url} (${Date.now() - started} ms)`,
  );

  const upstream = await startUpstream({ echoHeaders: o.echoHeaders });
  cleanup.add('upstream', () => upstream.close());
  const [gatewayJwt, adminJwt] = await Promise.all([
    mintDevCallerToken({ sub: o.gatewayCaller, ttlS: 600 }),
    mintDevCallerToken({ sub: o.adminCaller, ttlS: 600 }),
  ]);
  return { dir, emulator, gateway, upstream, gatewayJwt, adminJwt };
}
