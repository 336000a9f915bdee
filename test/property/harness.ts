/**
 * A gateway whose every secret is chosen by the property under test: client ids and secrets of
 * an OAuth app and a GitHub App, the cache pepper, and the GitHub tokens themselves. The GHES
 * emulator is seeded with the same values (its apps take the generated secrets, its tokens the
 * generated token strings), so positive answers — the paths that carry the most data — are
 * exercised too, not only 404s.
 *
 * Everything the outside world could see is collected for the leak check: every log record,
 * every KV key and value (every put the gateway made, overwritten or deleted ones included, and
 * what the namespace holds at the end), every response header and body, and the payload of every
 * RFC 9701 signed answer decoded (a base64url-wrapped token would otherwise hide from a
 * substring search).
 *
 * Cost. A property runs this lifecycle dozens of times inside one test, so a run must be cheap
 * and must not depend on what other test files are doing:
 * - KV is in memory (test/helpers/memory-kv.ts) behind StrictKv, which still refuses what
 *   production KV refuses. The leak check needs what the gateway wrote, not Workers KV's
 *   storage; on the local KV simulator a run made ~15 round trips that queue behind every other
 *   test file's, and the property took 3-5x longer than it does in memory.
 * - Caller and signing keys are made once per file: fast-check does not generate them (they are
 *   no part of a counterexample) and need not be paid for again on every run.
 */
import { base64url, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { OPERATIONS } from '../../src/config/types';

/** The redirect URI `svc-prop` may exchange codes for. */
export const PROPERTY_REDIRECT_URI = 'https://svc-prop.test/callback';
import { buildGateway } from '../../src/index';
import type { LogRecord } from '../../src/lib/log';
import { createGhesEmulator, type GhesEmulator } from '../../emulator/index';
import { createTestCallerKeys, mintCallerJwt, type TestCallerKeys } from '../helpers/caller';
import { CALLER_AUD, CALLER_ISS, GHES_URL } from '../helpers/gateway';
import { TestClock } from '../helpers/clock';
import { memoryKv } from '../helpers/memory-kv';
import { StrictKv } from '../helpers/strict-kv';

export const OAUTH = 'prop-oauth';
export const GH_APP = 'prop-github-app';

export interface GeneratedSecrets {
  oauthClientId: string;
  oauthSecret: string;
  ghClientId: string;
  ghSecret: string;
  pepper: string;
}

export interface Exchange {
  label: string;
  status: number;
  headers: string;
  body: string;
}

export interface PropertyGateway {
  emulator: GhesEmulator;
  kv: StrictKv;
  logs: LogRecord[];
  exchanges: Exchange[];
  /** Strings that must appear nowhere (secrets, pepper, Basic credentials, the signing key). */
  neverVisible: string[];
  clock: TestClock;
  /** Sends a request as the all-powerful test caller and records the exchange. */
  send(label: string, path: string, init: RequestInit): Promise<Exchange>;
  caller(): Promise<string>;
}

const SIGNING_KID = 'prop-signing-1';

interface PropertyKeys {
  caller: TestCallerKeys;
  /** The RFC 9701 signing key, a private JWK. */
  signing: JWK;
}

let keysOnce: Promise<PropertyKeys> | undefined;

/** One set of keys per test file (immutable, so sharing them across runs carries no state). */
function propertyKeys(): Promise<PropertyKeys> {
  keysOnce ??= (async () => {
    const caller = await createTestCallerKeys();
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const signing = {
      ...(await exportJWK(privateKey)),
      kid: SIGNING_KID,
      alg: 'ES256',
      use: 'sig',
    };
    return { caller, signing };
  })();
  return keysOnce;
}

export async function createPropertyGateway(s: GeneratedSecrets): Promise<PropertyGateway> {
  const clock = new TestClock(Date.UTC(2026, 10, 21, 12, 0, 0));
  const now = () => clock.ms;
  const emulator = createGhesEmulator({
    seed: 'none',
    now,
    sleep: clock.sleep,
    baseUrl: GHES_URL.replace(/\/api\/v3$/, ''),
  });
  emulator.createApp({
    name: OAUTH,
    kind: 'oauth_app',
    clientId: s.oauthClientId,
    clientSecret: s.oauthSecret,
  });
  emulator.createApp({
    name: GH_APP,
    kind: 'github_app',
    clientId: s.ghClientId,
    clientSecret: s.ghSecret,
  });
  emulator.state.addAccount('octocat', 'User');
  emulator.installApp({
    app: GH_APP,
    account: 'octocat',
    permissions: { contents: 'write', metadata: 'read' },
  });

  const { caller: keys, signing } = await propertyKeys();
  const kv = new StrictKv(memoryKv());
  const logs: LogRecord[] = [];
  const vars: Record<string, unknown> = {
    TOKEN_CACHE: kv.kv,
    GHES_BASE_URL: GHES_URL,
    GHES_VERSION: '3.22',
    APPS: JSON.stringify([
      {
        name: OAUTH,
        client_id: s.oauthClientId,
        kind: 'oauth_app',
        client_secret_binding: 'PROP_OAUTH_CLIENT_SECRET',
      },
      {
        name: GH_APP,
        client_id: s.ghClientId,
        kind: 'github_app',
        client_secret_binding: 'PROP_GH_CLIENT_SECRET',
      },
    ]),
    PROP_OAUTH_CLIENT_SECRET: s.oauthSecret,
    PROP_GH_CLIENT_SECRET: s.ghSecret,
    CACHE_PEPPER: s.pepper,
    CALLER_ISSUER: CALLER_ISS,
    CALLER_AUDIENCE: CALLER_AUD,
    CALLER_ALGORITHMS: JSON.stringify(['ES256']),
    CALLER_JWKS: JSON.stringify(keys.jwks),
    CALLER_POLICY: JSON.stringify({
      'svc-prop': {
        apps: ['*'],
        operations: [...OPERATIONS],
        default_app: OAUTH,
        redirect_uris: [PROPERTY_REDIRECT_URI],
      },
    }),
    INTROSPECTION_SIGNING_KEYS: JSON.stringify({ keys: [signing] }),
    PUBLIC_URL: 'https://gateway.test',
  };
  const built = buildGateway(vars as Parameters<typeof buildGateway>[0], {
    fetch: emulator.fetch,
    clock,
    log: (r) => logs.push(r),
  });
  if (!built.ok) throw new Error(`property gateway misconfigured: ${built.error.join('; ')}`);
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (p: Promise<unknown>) => void pending.push(p),
    passThroughOnException: () => undefined,
  } as unknown as ExecutionContext;
  const exchanges: Exchange[] = [];
  const caller = () =>
    mintCallerJwt(keys, { sub: 'svc-prop', iss: CALLER_ISS, aud: CALLER_AUD }, {}, clock.ms);

  const send = async (label: string, path: string, init: RequestInit): Promise<Exchange> => {
    const res = await built.value(
      new Request(`https://gateway.test${path}`, init),
      vars as Parameters<typeof buildGateway>[0],
      ctx,
    );
    // Cache writes run after the answer (waitUntil); the leak check must see them.
    await Promise.allSettled(pending.splice(0));
    const raw = new TextDecoder().decode(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const body = type.startsWith('application/token-introspection+jwt')
      ? `${raw}\n${JSON.stringify(decodeJwt(raw))}`
      : raw;
    const exchange: Exchange = {
      label,
      status: res.status,
      headers: [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n'),
      body,
    };
    exchanges.push(exchange);
    return exchange;
  };

  const basic = (id: string, secret: string) => btoa(`${id}:${secret}`);
  const neverVisible = [
    s.oauthSecret,
    s.ghSecret,
    s.pepper,
    basic(s.oauthClientId, s.oauthSecret),
    basic(s.ghClientId, s.ghSecret),
    base64url.encode(`${s.oauthClientId}:${s.oauthSecret}`),
    String(signing.d),
  ];
  return { emulator, kv, logs, exchanges, neverVisible, clock, send, caller };
}

export interface Surfaces {
  logs: string[];
  kv: string[];
  headers: string[];
  bodies: Array<{ label: string; body: string }>;
}

/** Everything observable after a run, as text. */
export async function surfacesOf(gw: PropertyGateway): Promise<Surfaces> {
  const dump = await gw.kv.dump();
  return {
    logs: gw.logs.map((r) => JSON.stringify(r)),
    kv: [...gw.kv.puts, ...dump].flatMap((e) => [e.key, e.value]),
    headers: gw.exchanges.map((e) => e.headers),
    bodies: gw.exchanges.map((e) => ({ label: e.label, body: e.body })),
  };
}

/** Names the first place `secret` shows up, or undefined. `allowedIn` labels may hold it in their body. */
export function whereVisible(
  surfaces: Surfaces,
  secret: string,
  allowedIn: readonly string[] = [],
): string | undefined {
  // Logs and KV values are JSON: a secret with a quote or backslash shows up escaped there.
  const escaped = JSON.stringify(secret).slice(1, -1);
  const inText = (text: string) => text.includes(secret) || text.includes(escaped);
  const i = surfaces.logs.findIndex(inText);
  if (i >= 0) return `log line ${i}: ${surfaces.logs[i]?.slice(0, 200)}`;
  if (surfaces.kv.some(inText)) return 'a KV key or value';
  const h = surfaces.headers.findIndex(inText);
  if (h >= 0) return `response headers of ${surfaces.bodies[h]?.label}`;
  const b = surfaces.bodies.find((e) => inText(e.body) && !allowedIn.includes(e.label));
  if (b !== undefined) return `response body of ${b.label}`;
  return undefined;
}
