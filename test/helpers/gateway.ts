/**
 * Builds a real gateway (src/index.ts buildGateway) in front of a fresh GHES emulator, with its
 * outbound fetch routed into the emulator, one virtual clock for both (test/helpers/clock.ts), a
 * captured log and caller keys.
 */
import { env } from 'cloudflare:test';
import { buildGateway } from '../../src/index';
import { OPERATIONS, type CallerPolicyEntry } from '../../src/config/types';
import type { LogRecord } from '../../src/lib/log';
import { createGhesEmulator } from '../../emulator/index';
import { createTestCallerKeys, mintCallerJwt, type TestCallerKeys } from './caller';
import { TestClock } from './clock';
import { contractViolations } from './openapi-contract';
import { executionContext } from './execution-context';

export const GHES_URL = 'https://ghes.test/api/v3';
export const CALLER_ISS = 'https://callers.test';
export const CALLER_AUD = 'ghes-token-gateway';
/** The gateway's PUBLIC_URL, and the origin `request` sends to. */
export const GATEWAY_URL = 'https://gateway.test';

export const ALL_OPERATIONS = OPERATIONS;
/** The redirect URI `svc-demo` may exchange codes for (its `redirect_uris`). */
export const TEST_REDIRECT_URI = 'https://svc-demo.test/callback';

export interface TestGatewayOptions {
  version?: string;
  apiStyle?: 'auto' | 'body' | 'legacy';
  badCredentialsStatus?: 404 | 401;
  policy?: Record<string, CallerPolicyEntry>;
  /** Extra or overriding vars/secrets. */
  vars?: Record<string, unknown>;
  kv?: KVNamespace;
  /** Start time, epoch ms. */
  startMs?: number;
  /** Apps with `authorizations_api: true` (the OAuth Authorizations API); default demo-oauth. */
  authorizationsApi?: string[];
  /**
   * Sees each upstream request before the emulator: its answer (for example the emulator's,
   * held back until a test opens a gate) is used; undefined lets the request through.
   */
  upstream?: (
    input: RequestInfo | URL,
    init: RequestInit | undefined,
  ) => Promise<Response | undefined>;
}

export { TestClock };

export type TestGateway = Awaited<ReturnType<typeof createTestGateway>>;

let counter = 0;
/** The gateway's /openapi.json, read once (see `checked`). */
let documentText: string | undefined;

const allowAll = { limit: async () => ({ success: true }) };

export async function createTestGateway(options: TestGatewayOptions = {}) {
  const clock = new TestClock(options.startMs ?? Date.UTC(2026, 10, 21, 12, 0, 0));
  /** Where the emulator's webhooks go: this gateway, once it is built (below). */
  let toGateway = (_: Request): Promise<Response> => Promise.reject(new Error('not built yet'));
  const emulator = createGhesEmulator({
    version: options.version ?? '3.22',
    badCredentialsStatus: options.badCredentialsStatus ?? 404,
    seed: 'demo',
    now: clock.now,
    sleep: clock.elapse,
    baseUrl: GHES_URL.replace(/\/api\/v3$/, ''),
    // GitHub App webhooks (POST /_emulator/users/{login}/revoke) are delivered to this gateway.
    webhookUrl: `${GATEWAY_URL}/webhooks/github/{app}`,
    webhookFetch: (url, init) => toGateway(new Request(url, init)),
  });
  const keys: TestCallerKeys = await createTestCallerKeys();
  const apps = emulator.apps();
  const secretBinding = (name: string) => `${name.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`;
  const webhookBinding = (name: string) =>
    `${name.toUpperCase().replace(/-/g, '_')}_WEBHOOK_SECRET`;
  const logs: LogRecord[] = [];
  const policy = options.policy ?? {
    'svc-demo': {
      apps: ['*'],
      operations: [...ALL_OPERATIONS],
      default_app: 'demo-oauth',
      redirect_uris: [TEST_REDIRECT_URI],
    },
    'svc-readonly': {
      apps: ['demo-oauth'],
      operations: ['check', 'introspect', 'forward_auth'],
      default_app: 'demo-oauth',
    },
  };
  counter += 1;
  const vars: Record<string, unknown> = {
    TOKEN_CACHE: options.kv ?? env.TOKEN_CACHE,
    GHES_BASE_URL: GHES_URL,
    GHES_VERSION: options.version ?? '3.22',
    GHES_API_STYLE: options.apiStyle ?? 'auto',
    APPS: JSON.stringify(
      apps.map((a) => ({
        name: a.name,
        client_id: a.client_id,
        kind: a.kind,
        client_secret_binding: secretBinding(a.name),
        // GitHub Apps: webhooks from the emulator, signed with its webhook secret.
        ...(a.webhook_secret !== null && { webhook_secret_binding: webhookBinding(a.name) }),
        ...((options.authorizationsApi ?? ['demo-oauth']).includes(a.name) && {
          authorizations_api: true,
        }),
      })),
    ),
    ...Object.fromEntries(apps.map((a) => [secretBinding(a.name), a.client_secret])),
    ...Object.fromEntries(
      apps.flatMap((a) =>
        a.webhook_secret === null ? [] : [[webhookBinding(a.name), a.webhook_secret]],
      ),
    ),
    CALLER_ISSUER: CALLER_ISS,
    CALLER_AUDIENCE: CALLER_AUD,
    CALLER_ALGORITHMS: JSON.stringify(['ES256']),
    CALLER_JWKS: JSON.stringify(keys.jwks),
    CALLER_POLICY: JSON.stringify(policy),
    // Requests go to https://gateway.test (below); outside LOCAL_DEV PUBLIC_URL is required.
    PUBLIC_URL: GATEWAY_URL,
    // Allow-all limiters: the real bindings count in wall-clock time across a whole test run.
    // Rate-limit tests pass real or denying limiters through `vars`.
    INTROSPECTION_RATE_LIMITER: allowAll,
    MUTATION_RATE_LIMITER: allowAll,
    CLIENT_RATE_LIMITER: allowAll,
    USER_LOGIN_RATE_LIMITER: allowAll,
    CACHE_PEPPER: `test-pepper-${counter}-${crypto.randomUUID()}`,
    ...options.vars,
  };
  /** Every retry wait of the gateway, in virtual ms (GHES's latency passes, unlisted). */
  const sleeps = clock.sleeps;
  /**
   * Every request the gateway sent upstream, in order, with the URL as it goes on the wire (parsed,
   * so dot segments are already resolved). The emulator does not count requests to unknown routes.
   */
  const outbound: { method: string; url: string }[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input)).href;
    outbound.push({
      method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
      url,
    });
    if (options.upstream === undefined) return emulator.fetch(input, init);
    return options.upstream(input, init).then((r) => r ?? emulator.fetch(input, init));
  };
  const built = buildGateway(vars as Parameters<typeof buildGateway>[0], {
    fetch: recordingFetch,
    clock,
    log: (r) => logs.push(r),
  });
  if (!built.ok) throw new Error(`test gateway misconfigured: ${built.error.join('; ')}`);
  const gatewayFetch = built.value;
  /** Work the gateway handed to `ctx.waitUntil` (cache writes), for `settle()`. */
  const pending: Promise<unknown>[] = [];
  const ctx = executionContext((promise) => {
    pending.push(promise);
  });
  /** Waits for everything passed to `ctx.waitUntil` so far (and what that work queued in turn). */
  /**
   * Every answer is checked against /openapi.json (test/helpers/openapi-contract.ts). The
   * document is the same for every configuration but PUBLIC_URL (its `servers`), so one copy,
   * from a silent build of the first working configuration, serves every test gateway.
   */
  const checked = async (req: Request): Promise<Response> => {
    const res = await gatewayFetch(req.clone(), vars as Parameters<typeof buildGateway>[0], ctx);
    if (documentText === undefined) {
      // No metrics binding either: a test's fake dataset must see its own requests only.
      const { METRICS: _metrics, ...quiet } = vars;
      const silent = buildGateway(quiet as Parameters<typeof buildGateway>[0], {
        fetch: recordingFetch,
        clock,
        log: () => undefined,
      });
      if (silent.ok) {
        const doc = await silent.value(
          new Request(`${GATEWAY_URL}/openapi.json`),
          quiet as Parameters<typeof buildGateway>[0],
          ctx,
        );
        if (doc.status === 200) documentText = await doc.text();
      }
    }
    if (documentText === undefined) throw new Error('no working gateway served /openapi.json');
    const violations = await contractViolations(documentText, req, res);
    if (violations.length > 0)
      throw new Error(`answer not as /openapi.json documents it: ${violations.join('; ')}`);
    return res;
  };
  toGateway = checked;
  const settle = async (): Promise<void> => {
    while (pending.length > 0) await Promise.allSettled(pending.splice(0));
  };

  const caller = (sub = 'svc-demo', claims: Record<string, unknown> = {}) =>
    mintCallerJwt(keys, { sub, iss: CALLER_ISS, aud: CALLER_AUD, ...claims }, {}, clock.now());

  const request = async (path: string, init: RequestInit = {}) =>
    checked(new Request(`${GATEWAY_URL}${path}`, init));

  /** POST JSON to a /v1 route as `sub`. */
  const post = async (
    path: string,
    body: unknown,
    sub = 'svc-demo',
    headers: Record<string, string> = {},
  ) =>
    request(path, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await caller(sub)}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  return {
    clock,
    emulator,
    keys,
    logs,
    vars,
    request,
    post,
    caller,
    sleeps,
    apps,
    outbound,
    settle,
  };
}

/** Every string a test must never find in logs, KV or error bodies. */
export function secretsOf(gw: TestGateway): string[] {
  return [
    ...gw.apps.map((a) => a.client_secret),
    ...gw.apps.map((a) => btoa(`${a.client_id}:${a.client_secret}`)),
    ...gw.apps.flatMap((a) => (a.webhook_secret === null ? [] : [a.webhook_secret])),
    String(gw.vars['CACHE_PEPPER']),
  ];
}

/** The demo seed's tokens (one per user × app), which every test gateway runs. */
export function seedTokens(gw: TestGateway) {
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('the test gateway runs the demo seed');
  return seed.tokens;
}
