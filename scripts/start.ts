/**
 * `npm start`: the gateway (wrangler dev, http://127.0.0.1:8787) in front of the bundled GHES
 * emulator (http://127.0.0.1:8788) with demo data, then a ready-to-paste curl for each operation
 * (scripts/lib/start-banner.ts).
 *
 * The emulator's client secrets reach the gateway as Worker secrets through an env file in a
 * private temporary folder (removed on exit). Nothing printed here contains a client secret, the
 * cache pepper or a user's password: the Authorizations API calls fetch the demo user's password
 * (and OTP) from the emulator's admin API when they run. Demo GitHub tokens, an authorization
 * code and a dev caller JWT are printed on purpose.
 *
 * Options: --port 8787 --emulator-port 8788 --ghes-version 3.22 (or PORT, EMULATOR_PORT, GHES_VERSION).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator } from './emulator';
import { DEV_CALLER_SUB, DEV_TOKEN_TTL_S, mintDevCaller } from './caller-token';
import { startBanner } from './lib/start-banner';

/** The demo caller's redirect URI (wrangler.toml CALLER_POLICY `redirect_uris`). */
const DEMO_REDIRECT = 'http://127.0.0.1:9999/callback';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env['PORT'] ?? '8787' },
    'emulator-port': { type: 'string', default: process.env['EMULATOR_PORT'] ?? '8788' },
    'ghes-version': { type: 'string', default: process.env['GHES_VERSION'] ?? '3.22' },
  },
});
const port = Number(values.port);
const emulatorPort = Number(values['emulator-port']);
const ghesVersion = values['ghes-version'];

/** Which Worker secret holds which demo app's client secret (wrangler.toml's APPS). */
const SECRET_BINDINGS: Record<string, string> = {
  'demo-oauth': 'DEMO_OAUTH_CLIENT_SECRET',
  'demo-github-app': 'DEMO_GITHUB_APP_CLIENT_SECRET',
};

/** Which Worker secret holds which demo GitHub App's webhook secret (`webhook_secret_binding`). */
const WEBHOOK_SECRET_BINDINGS: Record<string, string> = {
  'demo-github-app': 'DEMO_GITHUB_APP_WEBHOOK_SECRET',
};

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the gateway did not become healthy at ${url} within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const emulator = await startEmulator({ port: emulatorPort, version: ghesVersion });
  const secretsDir = mkdtempSync(join(tmpdir(), 'ghes-token-gateway-'));
  const envFile = join(secretsDir, 'dev.env');
  const lines: string[] = [];
  for (const app of emulator.emulator.apps()) {
    const binding = SECRET_BINDINGS[app.name];
    if (binding !== undefined) lines.push(`${binding}=${app.client_secret}`);
    const hook = WEBHOOK_SECRET_BINDINGS[app.name];
    if (hook !== undefined && app.webhook_secret !== null)
      lines.push(`${hook}=${app.webhook_secret}`);
  }
  lines.push(`CACHE_PEPPER=${randomBytes(32).toString('base64url')}`);
  const signingKey = readFileSync(
    join(root, 'scripts/dev-keys/introspection-dev-key.json'),
    'utf8',
  );
  lines.push(`INTROSPECTION_SIGNING_KEYS=${JSON.stringify(JSON.parse(signingKey))}`);
  writeFileSync(envFile, lines.join('\n') + '\n', { mode: 0o600 });

  const gatewayUrl = `http://127.0.0.1:${port}`;
  const child = spawn(
    join(root, 'node_modules/.bin/wrangler'),
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--env-file',
      envFile,
      '--var',
      `GHES_BASE_URL:${emulator.url}/api/v3`,
      '--var',
      `GHES_VERSION:${ghesVersion}`,
      '--var',
      `PUBLIC_URL:${gatewayUrl}`,
      '--show-interactive-dev-session=false',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      // Its own process group, so stopping npm start stops wrangler and its workerd too.
      detached: true,
    },
  );
  const stopChild = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const shutdown = (code: number) => {
    stopChild();
    rmSync(secretsDir, { recursive: true, force: true });
    void emulator.close().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  child.on('exit', (code) => {
    rmSync(secretsDir, { recursive: true, force: true });
    void emulator.close().finally(() => process.exit(code ?? 1));
  });

  await waitForHealth(`${gatewayUrl}/healthz`, child, 60_000);
  // GHES sends each GitHub App's webhooks to its own URL; the emulator fills in `{app}`.
  const configured = await fetch(`${emulator.url}/_emulator/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ webhook_url: `${gatewayUrl}/webhooks/github/{app}` }),
  });
  if (!configured.ok)
    throw new Error(`the emulator refused its webhook URL (${configured.status})`);
  // wrangler reads the env file at start; it is not needed on disk afterwards.
  rmSync(secretsDir, { recursive: true, force: true });

  const oauthToken = emulator.emulator.createToken({
    app: 'demo-oauth',
    login: 'octocat',
    scopes: ['repo', 'read:org'],
  }).token;
  const appToken = emulator.emulator.createToken({
    app: 'demo-github-app',
    login: 'octocat',
  }).token;
  const webhookToken = emulator.emulator.createToken({
    app: 'demo-github-app',
    login: 'monalisa',
  }).token;
  const spareToken = emulator.emulator.createToken({
    app: 'demo-oauth',
    login: 'octocat',
    scopes: ['repo'],
  }).token;
  // What GHES hands the browser after the user authorizes (valid 10 minutes, works once).
  const codeAnswer = await emulator.emulator.fetch(`${emulator.url}/_emulator/oauth/codes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app: 'demo-github-app', login: 'octocat', redirect_uri: DEMO_REDIRECT }),
  });
  const { code } = (await codeAnswer.json()) as { code: string };
  const caller = await mintDevCaller({});
  console.log(
    startBanner({
      gatewayUrl,
      emulatorUrl: emulator.url,
      ghesVersion,
      caller: {
        token: caller.token,
        sub: DEV_CALLER_SUB,
        expiresAt: caller.expiresAt,
        ttlS: DEV_TOKEN_TTL_S,
      },
      tokens: { oauth: oauthToken, app: appToken, webhook: webhookToken, spare: spareToken },
      code,
      redirectUri: DEMO_REDIRECT,
    }),
  );
}

main().catch((e: unknown) => {
  console.error(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
