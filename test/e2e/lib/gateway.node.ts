/**
 * Runs the gateway as it deploys: the bundle `wrangler deploy --dry-run` writes, under miniflare 5
 * (workerd plus miniflare's local KV; the same miniflare and workerd as `npm start` and the tests), configured from wrangler.toml's top-level (local) vars,
 * compatibility settings and KV bindings, read with wrangler's own config reader. Only what points
 * at the test's GHES emulator and the secrets differ from `npm start`.
 *
 * Trust boundary: the client secrets come from the emulator's admin API and the pepper is random
 * per run; neither is printed. The caller key is the committed DEV ONLY key.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { Miniflare } from 'miniflare';
import { dryRunBuild } from '../../../bench/lib/wrangler-build.js';
import { readDeployConfig, type DeployConfig } from '../../../bench/lib/wrangler-config.js';
import { envOf, logTail } from '../../../bench/lib/workers.js';
import { errorText, withoutForeignSignalExits } from './harness.node.js';

export type ProjectConfig = DeployConfig;

export function readProjectConfig(configPath: string): Promise<ProjectConfig> {
  return readDeployConfig(configPath, { around: withoutForeignSignalExits });
}

/**
 * Bundles the worker with `wrangler deploy --dry-run` (nothing is uploaded) and returns the path
 * of the main module. Fails with wrangler's own output.
 */
export async function buildWorker(
  root: string,
  configPath: string,
  outDir: string,
  signal?: AbortSignal,
): Promise<string> {
  const build = await dryRunBuild({
    root,
    configPath,
    outDir,
    label: 'the gateway',
    timeoutMs: 45_000,
    ...(signal !== undefined && { signal }),
  });
  return build.mainPath;
}

interface ConfiguredApp {
  name: string;
  client_secret_binding: string;
  webhook_secret_binding?: string;
}

export interface EmulatorAppSecret {
  name: string;
  client_secret: string;
  /** GitHub Apps: what their webhook deliveries are signed with. */
  webhook_secret?: string | null;
}

/**
 * The Worker secrets for a local run: each configured app's client secret and webhook secret
 * (matched to the emulator's app of the same name through APPS' `client_secret_binding` and
 * `webhook_secret_binding`), a random cache pepper
 * and the DEV ONLY introspection signing key. Throws when a secret wrangler.toml requires is
 * left unset, so a new secret shows up here as a clear setup error rather than a 500.
 */
export function localSecrets(
  root: string,
  project: ProjectConfig,
  emulatorApps: readonly EmulatorAppSecret[],
): Record<string, string> {
  const appsVar = project.vars['APPS'];
  if (typeof appsVar !== 'string') throw new Error('wrangler.toml [vars] has no APPS string');
  const secrets: Record<string, string> = {};
  for (const app of JSON.parse(appsVar) as ConfiguredApp[]) {
    const emulated = emulatorApps.find((a) => a.name === app.name);
    if (emulated === undefined) throw new Error(`the GHES emulator has no app "${app.name}"`);
    secrets[app.client_secret_binding] = emulated.client_secret;
    if (app.webhook_secret_binding !== undefined && typeof emulated.webhook_secret === 'string')
      secrets[app.webhook_secret_binding] = emulated.webhook_secret;
  }
  secrets['CACHE_PEPPER'] = randomBytes(32).toString('base64url');
  const signingKey = readFileSync(
    join(root, 'scripts/dev-keys/introspection-dev-key.json'),
    'utf8',
  );
  secrets['INTROSPECTION_SIGNING_KEYS'] = JSON.stringify(JSON.parse(signingKey));
  const missing = project.requiredSecrets.filter((name) => secrets[name] === undefined);
  if (missing.length > 0)
    throw new Error(`no local value for the required secret(s) ${missing.join(', ')}`);
  return secrets;
}

export interface RunningGateway {
  /** Origin on 127.0.0.1, e.g. http://127.0.0.1:41234. */
  url: string;
  port: number;
  /** Last lines the worker logged. */
  recentOutput(): string[];
  /** Stops workerd; afterwards the port refuses connections. */
  dispose(): Promise<void>;
}

/** A port on 127.0.0.1 that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startGateway(options: {
  mainPath: string;
  project: ProjectConfig;
  /** Overrides of the vars plus the secrets (both are plain string bindings in miniflare). */
  bindings: Record<string, string>;
  /**
   * A directory for miniflare's local state (KV under kv/): instances given the same one share
   * one KV namespace. Without it KV lives in miniflare's temporary directory, per instance.
   */
  kvPersist?: string;
  /** A port for miniflare's inspector proxy: DevTools then reaches the worker as `ghes-token-gateway`. */
  inspectorPort?: number;
}): Promise<RunningGateway> {
  const output = logTail(40);
  // The gateway never takes its public URL from the Host header, and requires PUBLIC_URL once
  // signing keys are set: so the port is chosen first and PUBLIC_URL names it.
  const given = options.bindings['PUBLIC_URL'] ?? options.project.vars['PUBLIC_URL'];
  const port = typeof given === 'string' && given !== '' ? 0 : await freePort();
  const publicUrl = port === 0 ? {} : { PUBLIC_URL: `http://127.0.0.1:${port}` };
  // wrangler bundles the gateway into one module; it is the whole manifest.
  const main = basename(options.mainPath);
  const { mf, origin } = await withoutForeignSignalExits(async () => {
    const mf = new Miniflare({
      workers: [
        {
          config: {
            name: 'ghes-token-gateway',
            compatibilityDate: options.project.compatibilityDate,
            compatibilityFlags: options.project.compatibilityFlags,
            manifest: {
              mainModule: main,
              // Module names are paths relative to this root; the bundle lives outside the project.
              modulesRoot: dirname(options.mainPath),
              modules: {
                [main]: { type: 'esm', contents: readFileSync(options.mainPath, 'utf8') },
              },
            },
            env: envOf(options.project, { ...publicUrl, ...options.bindings }),
          },
          ...(options.inspectorPort !== undefined && { dev: { unsafeInspectorProxy: true } }),
        },
      ],
      ...(options.inspectorPort !== undefined && { inspectorPort: options.inspectorPort }),
      ...(options.kvPersist !== undefined && { resourcePersistencePath: options.kvPersist }),
      // No dev registry: no other workerd on this machine sees this gateway or is seen by it.
      enableDevRegistry: false,
      host: '127.0.0.1',
      port,
      handleStructuredLogs: output.handle,
    });
    try {
      return { mf, origin: await mf.ready };
    } catch (e) {
      await mf.dispose().catch(() => undefined);
      const lines = output.lines().join('\n');
      throw new Error(`miniflare could not start the gateway: ${errorText(e)}\n${lines}`.trim());
    }
  });
  let disposed: Promise<void> | undefined;
  return {
    url: origin.origin,
    port: Number(origin.port),
    recentOutput: output.lines,
    dispose: () => (disposed ??= mf.dispose()),
  };
}
