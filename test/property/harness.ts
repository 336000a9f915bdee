/**
 * A gateway whose every secret is chosen by the property under test: client ids and secrets of
 * an OAuth app and a GitHub App, the cache pepper, and the GitHub tokens themselves. The GHES
 * emulator is seeded with the same values (its apps take the generated secrets, its tokens the
 * generated token strings), so positive answers — the paths that carry the most data — are
 * exercised too, not only 404s.
 *
 * Everything the outside world could see is collected for the leak check: every log record,
 * every KV key and value (every put the gateway made, overwritten or deleted ones included, and
 * what the namespace holds at the end), every response header and body, the payload of every
 * RFC 9701 signed answer decoded (a base64url-wrapped token would otherwise hide from a
 * substring search), and the URL of every request the gateway sent to GHES (URLs reach access
 * logs and proxies; codes, passwords and tokens travel in bodies and headers only).
 *
 * The OAuth app serves the Authorizations API, and the emulator's admin API gives the user side
 * of it: users with generated passwords (`addUser`), the OTP valid now (`otpOf`) and authorization
 * codes (`issueCode`), i.e. what GHES hands the browser after the user authorizes.
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
import { buildGateway } from '../../src/index';
import type { LogRecord } from '../../src/lib/log';
import { createGhesEmulator, type GhesEmulator } from '../../emulator/index';
import { createTestCallerKeys, mintCallerJwt, type TestCallerKeys } from '../helpers/caller';
import { CALLER_AUD, CALLER_ISS, GHES_URL } from '../helpers/gateway';
import { TestClock } from '../helpers/clock';
import { memoryKv } from '../helpers/memory-kv';
import { StrictKv } from '../helpers/strict-kv';
import { executionContext } from '../helpers/execution-context';

export const OAUTH = 'prop-oauth';
export const GH_APP = 'prop-github-app';
/** The redirect URI `svc-prop` may exchange codes for. */
export const PROPERTY_REDIRECT_URI = 'https://svc-prop.test/callback';
/** The most `svc-prop` may request from the Authorizations API (CALLER_POLICY). */
export const PROPERTY_AUTHORIZATION_SCOPES = ['repo', 'read:org', 'gist'];

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
  /** The URL of every request the gateway sent to GHES, as sent. */
  outbound: string[];
  /** Strings that must appear nowhere (secrets, pepper, Basic credentials, the signing key). */
  neverVisible: string[];
  clock: TestClock;
  /** Sends a request as the all-powerful test caller and records the exchange. */
  send(label: string, path: string, init: RequestInit): Promise<Exchange>;
  caller(): Promise<string>;
  /** A GHES user with a password (and two-factor authentication), through the admin API. */
  addUser(login: string, password: string, twoFactor?: 'sms' | 'app'): Promise<void>;
  /** The one-time password valid now for a two-factor user. */
  otpOf(login: string): Promise<string>;
  /** A fresh authorization code, as GHES hands the browser (admin `POST /_emulator/oauth/codes`). */
  issueCode(input: {
    app: string;
    login: string;
    scopes?: string[];
    redirect_uri?: string;
    code_challenge?: string;
    code_challenge_method?: 'S256';
  }): Promise<string>;
}

/** `Basic base64(utf-8 login:password)`, as a caller sends X-GHES-User-Authorization. */
export function basicOf(login: string, password: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${login}:${password}`))
    binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** The RFC 7636 S256 challenge of a verifier. */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
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
        authorizations_api: true,
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
        authorization_scopes: PROPERTY_AUTHORIZATION_SCOPES,
      },
    }),
    INTROSPECTION_SIGNING_KEYS: JSON.stringify({ keys: [signing] }),
    PUBLIC_URL: 'https://gateway.test',
  };
  const admin = async (path: string, init?: RequestInit): Promise<unknown> => {
    const res = await emulator.fetch(`http://127.0.0.1/_emulator${path}`, init);
    if (!res.ok) throw new Error(`emulator admin ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const outbound: string[] = [];
  const upstream: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    outbound.push(url.href);
    const res = await emulator.fetch(input, init);
    if (res.status !== 404 || url.pathname !== '/api/v3/user') return res;
    // GET /user (whose credentials these are), which the emulator may not serve: the gateway
    // asks it for the user behind a grant epoch when an authorization names no user.
    const presented = new Headers(init?.headers).get('authorization') ?? '';
    const users = (await admin('/users')) as { login: string; id: number; password: string }[];
    const found = users.find((u) => basicOf(u.login, u.password) === presented);
    return found === undefined
      ? Response.json({ message: 'Bad credentials' }, { status: 401 })
      : Response.json({ login: found.login, id: found.id });
  };
  const built = buildGateway(vars as Parameters<typeof buildGateway>[0], {
    fetch: upstream,
    clock,
    log: (r) => logs.push(r),
  });
  if (!built.ok) throw new Error(`property gateway misconfigured: ${built.error.join('; ')}`);
  const pending: Promise<unknown>[] = [];
  const ctx = executionContext((p) => void pending.push(p));
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
  const post = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    emulator,
    kv,
    logs,
    exchanges,
    outbound,
    neverVisible,
    clock,
    send,
    caller,
    addUser: async (login, password, twoFactor) => {
      await admin('/users', post({ login, password, two_factor: twoFactor ?? null }));
    },
    otpOf: async (login) => ((await admin(`/users/${login}/otp`)) as { otp: string }).otp,
    issueCode: async (input) =>
      ((await admin('/oauth/codes', post(input))) as { code: string }).code,
  };
}

export interface Surfaces {
  logs: string[];
  kv: string[];
  headers: string[];
  bodies: Array<{ label: string; body: string }>;
  /** URLs the gateway sent to GHES. */
  urls: string[];
}

/** Everything observable after a run, as text. */
export async function surfacesOf(gw: PropertyGateway): Promise<Surfaces> {
  const dump = await gw.kv.dump();
  return {
    logs: gw.logs.map((r) => JSON.stringify(r)),
    kv: [...gw.kv.puts, ...dump].flatMap((e) => [e.key, e.value]),
    headers: gw.exchanges.map((e) => e.headers),
    bodies: gw.exchanges.map((e) => ({ label: e.label, body: e.body })),
    urls: gw.outbound,
  };
}

/** Names the first place `secret` shows up, or undefined. `allowedIn` labels may hold it in their body. */
/** An OTP: TOTP and SMS codes are 4–10 digits. */
const SHORT_CODE = /^[0-9]{4,10}$/;

export function whereVisible(
  surfaces: Surfaces,
  secret: string,
  allowedIn: readonly string[] = [],
): string | undefined {
  // Logs and KV values are JSON: a secret with a quote or backslash shows up escaped there; in a
  // URL or a query it shows up percent-encoded (either way, or as a form encodes a space).
  // A GHES message quoting a value JSON-escapes it, and the problem body escapes that again.
  const escaped = JSON.stringify(secret).slice(1, -1);
  const forms = [
    secret,
    escaped,
    JSON.stringify(escaped).slice(1, -1),
    encodeURIComponent(secret),
    encodeURI(secret),
    new URLSearchParams({ x: secret }).toString().slice(2),
  ];
  // A one-time password is a few digits, and digits run through request ids and hashes by
  // chance: it counts only as a whole word (a leak writes it as a value, not inside an id).
  const inText = SHORT_CODE.test(secret)
    ? (text: string) => new RegExp(`(?<![A-Za-z0-9])${secret}(?![A-Za-z0-9])`).test(text)
    : (text: string) => forms.some((f) => text.includes(f));
  const i = surfaces.logs.findIndex(inText);
  if (i >= 0) return `log line ${i}: ${surfaces.logs[i]?.slice(0, 200)}`;
  if (surfaces.kv.some(inText)) return 'a KV key or value';
  const h = surfaces.headers.findIndex(inText);
  if (h >= 0) return `response headers of ${surfaces.bodies[h]?.label}`;
  const b = surfaces.bodies.find((e) => inText(e.body) && !allowedIn.includes(e.label));
  if (b !== undefined) return `response body of ${b.label}`;
  const u = surfaces.urls.find(inText);
  if (u !== undefined) return `a URL the gateway sent to GHES: ${u.slice(0, 200)}`;
  return undefined;
}
