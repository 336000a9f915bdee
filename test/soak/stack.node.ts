/**
 * What the soak and the window soak share: a caller JWT of their own, and the stack they run —
 * the deployed bundle built into a scratch folder, the project's wrangler config, and a GHES
 * emulator on 127.0.0.1 with GHES's own rate limiting out of the way (the runs switch their own
 * 429 phases on where they want them). Everything started is registered with `cleanup`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startEmulator, type StartedEmulator } from '../../scripts/emulator';
import { buildWorker, readProjectConfig } from '../e2e/lib/gateway.node.js';
import type { Cleanup } from '../e2e/lib/harness.node.js';

export interface CallerIdentity {
  issuer: string;
  audience: string;
  sub: string;
}

/** A fresh ES256 key: its JWKS for CALLER_JWKS and a 2-hour caller JWT signed with it. */
export async function callerCredential(id: CallerIdentity): Promise<{ jwks: string; jwt: string }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${id.sub}-${randomBytes(4).toString('hex')}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(id.issuer)
    .setAudience(id.audience)
    .setSubject(id.sub)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { jwks: JSON.stringify({ keys: [jwk] }), jwt };
}

export interface Stack {
  /** Scratch folder (removed by `cleanup`): the bundle, and whatever the run keeps there. */
  dir: string;
  mainPath: string;
  project: Awaited<ReturnType<typeof readProjectConfig>>;
  emulator: StartedEmulator;
}

export async function startStack(root: string, cleanup: Cleanup, label: string): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), `ghes-gateway-${label}-`));
  cleanup.add('remove the scratch folder', () => rmSync(dir, { recursive: true, force: true }));
  const configPath = join(root, 'wrangler.toml');
  const [mainPath, project] = await Promise.all([
    buildWorker(root, configPath, join(dir, 'bundle')),
    readProjectConfig(configPath),
  ]);
  const emulator = await startEmulator({ port: 0 });
  cleanup.add('stop GHES emulator', () => emulator.close());
  emulator.emulator.configure({ rate_limit: 1_000_000_000 });
  return { dir, mainPath, project, emulator };
}
