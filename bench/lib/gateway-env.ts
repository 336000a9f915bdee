/**
 * The gateway's vars and secrets for a bench run (names as in src/config/schema.ts), and the caller
 * credential the load generator presents. The caller key is an ES256 key generated per run; only
 * its public half reaches the gateway (CALLER_JWKS), as in production.
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { EmulatorApp } from './emulator';

export const CALLER_ISSUER = 'https://bench.invalid/issuer';
export const CALLER_AUDIENCE = 'ghes-token-gateway-bench';
export const CALLER_SUBJECT = 'bench-caller';

export interface Caller {
  jwks: { keys: Record<string, unknown>[] };
  /** A caller JWT valid for the whole run (two hours). */
  jwt: string;
}

export async function createCaller(): Promise<Caller> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `bench-${randomBytes(4).toString('hex')}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(CALLER_ISSUER)
    .setAudience(CALLER_AUDIENCE)
    .setSubject(CALLER_SUBJECT)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { jwks: { keys: [jwk] }, jwt };
}

/** The emulator's app kinds, normalised to APP_KINDS of src/config/types.ts. */
function appKind(kind: string): 'oauth_app' | 'github_app' {
  const k = kind.toLowerCase().replace(/[-\s]/g, '_');
  if (k === 'oauth_app' || k === 'oauth') return 'oauth_app';
  if (k === 'github_app' || k === 'app') return 'github_app';
  throw new Error(`emulator app kind "${kind}" is neither an OAuth app nor a GitHub App`);
}

export const BENCH_APP = 'demo-oauth';
const SECRET_BINDING = 'BENCH_APP_CLIENT_SECRET';

/** Picks the emulator app the bench uses: `demo-oauth` if present, else its first OAuth app. */
export function pickApp(apps: readonly EmulatorApp[]): EmulatorApp {
  const app =
    apps.find((a) => a.name === BENCH_APP) ?? apps.find((a) => appKind(a.kind) === 'oauth_app');
  if (app === undefined) throw new Error('the emulator has no OAuth app to benchmark with');
  return app;
}

export interface GatewayEnvOptions {
  ghesBaseUrl: string;
  ghesVersion: string;
  app: EmulatorApp;
  caller: Caller;
  /** CACHE_L1_MAX_ENTRIES; 0 disables L1 (introspect_kv_hit). */
  l1MaxEntries?: number;
}

/**
 * Worker bindings (vars and secrets are both plain string bindings in miniflare). Cache TTLs are
 * long so that no cached entry expires during a run and every hit stays a hit.
 */
export function gatewayBindings(o: GatewayEnvOptions): Record<string, string> {
  return {
    GHES_BASE_URL: o.ghesBaseUrl,
    GHES_VERSION: o.ghesVersion,
    APPS: JSON.stringify([
      {
        name: o.app.name,
        client_id: o.app.client_id,
        kind: appKind(o.app.kind),
        client_secret_binding: SECRET_BINDING,
      },
    ]),
    [SECRET_BINDING]: o.app.client_secret,
    CALLER_ISSUER,
    CALLER_AUDIENCE,
    CALLER_ALGORITHMS: JSON.stringify(['ES256']),
    CALLER_JWKS: JSON.stringify(o.caller.jwks),
    CALLER_POLICY: JSON.stringify({
      [CALLER_SUBJECT]: {
        apps: [o.app.name],
        operations: ['check', 'introspect', 'forward_auth'],
        default_app: o.app.name,
      },
    }),
    CACHE_PEPPER: randomBytes(32).toString('base64url'),
    CACHE_POSITIVE_TTL_S: '3600',
    CACHE_NEGATIVE_TTL_S: '3600',
    ...(o.l1MaxEntries !== undefined && { CACHE_L1_MAX_ENTRIES: String(o.l1MaxEntries) }),
  };
}

/** Bindings of the peer worker (bench/peer/worker.ts). */
export function peerBindings(ghesBaseUrl: string, app: EmulatorApp): Record<string, string> {
  return {
    GHES_BASE_URL: ghesBaseUrl,
    CLIENT_ID: app.client_id,
    CLIENT_SECRET: app.client_secret,
  };
}
