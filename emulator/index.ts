/**
 * A faithful GitHub Enterprise Server emulator for the app-token API (check, reset, delete,
 * delete grant, scoped, and the legacy path-style endpoints up to 3.3), the OAuth Authorizations
 * API, `GET /user` and the web flow's token endpoint, with fault injection and an admin API. A plain Hono app on web-standard APIs: it runs inside workerd (tests inject
 * `emulator.fetch` as the gateway's outbound fetch) and in Node (scripts/emulator.ts).
 *
 * Independent of src/ on purpose: it is written from GitHub's descriptions of GHES, so it does
 * not share the gateway's mistakes.
 */
import { Hono } from 'hono';
import {
  ConnectionDropped,
  defaultSleep,
  EmulatorCore,
  emptyCalls,
  type BadCredentialsStatus,
  type EmulatorConfigView,
  type Sleep,
} from './core';
import { createEmulatorFetch } from './fetch';
import { defaultWebhookFetch, registerWebhookAdminRoutes, type WebhookFetch } from './webhooks';
import { parseFault, type ActiveFault, type FaultSpec, type OperationName } from './faults';
import { DEFAULT_RATE_LIMIT, type BodyStream } from './responses';
import { apiNotFound, type EmulatorEnv } from './pipeline';
import { registerAuthAdminRoutes } from './admin-auth';
import { registerUserRoutes } from './authenticated-user';
import { registerAuthorizationRoutes } from './authorizations';
import { registerWebFlowRoutes } from './oauth-web';
import { registerApiRoutes } from './routes-api';
import {
  appInfos,
  describeToken,
  registerAdminRoutes,
  type AppInfo,
  type CreatedToken,
} from './routes-admin';
import { applyDemoSeed, drawSeedMaterial, type DemoSeed } from './seed';
import {
  EmulatorInputError,
  type EmulatorState,
  type NewApp,
  type NewInstallation,
  type NewToken,
} from './state';
import { DEFAULT_VERSION, parseVersion } from './versions';

export type { ActiveFault, FaultSpec, OperationName } from './faults';
export { OPERATIONS } from './faults';
export {
  AUTHORIZATION_OPERATIONS,
  TOKEN_OPERATIONS,
  USER_OPERATIONS,
  type ApiOperation,
  type AuthorizationOperation,
  type TokenOperation,
  type UserOperation,
} from './operations';
export type { AppInfo, CreatedToken } from './routes-admin';
export type { DemoSeed } from './seed';
export {
  DEMO_GITHUB_APP,
  DEMO_GITHUB_APP_CLIENT_ID,
  DEMO_OAUTH_APP,
  DEMO_OAUTH_CLIENT_ID,
} from './seed';
export type {
  App,
  AppKind,
  EmulatorState,
  NewApp,
  NewInstallation,
  NewToken,
  TokenRecord,
} from './state';
export { EmulatorInputError, GITHUB_APP_TOKEN_LIFETIME_SECONDS } from './state';
export type { BadCredentialsStatus, EmulatorConfigView, Sleep } from './core';
export type { BodyStream } from './responses';
export { DEFAULT_VERSION, KNOWN_VERSIONS } from './versions';
export { hasValidChecksum, TOKEN_PATTERN } from './tokens';

export interface GhesEmulatorOptions {
  /** GHES release to emulate, "2.18" or later (default "3.22"). */
  version?: string;
  /** Status for a missing or wrong client secret: 404 like GHES (default) or 401. */
  badCredentialsStatus?: BadCredentialsStatus;
  /** "demo" (default): demo apps, users and tokens; "none": empty. */
  seed?: 'demo' | 'none';
  /** Clock in epoch ms (default Date.now): token expiry, timestamps, rate-limit window. */
  now?: () => number;
  /** Origin used in `url` fields (default: each request's own origin). */
  baseUrl?: string;
  /** Delay added to every API request: an unlimited latency fault, restored by reset(). */
  latencyMs?: number;
  /** `x-ratelimit-limit` (default 5000). */
  rateLimit?: number;
  /** How latency is waited for; inject to observe delays without real sleeps in tests. */
  sleep?: Sleep;
  /** PKCE on the web flow (default: as the release, which is off for every GHES release). */
  pkce?: boolean;
  /** Where GitHub App webhooks go (POST /_emulator/config `webhook_url` changes it). */
  webhookUrl?: string;
  /** How webhooks are delivered (default: the global fetch); tests route them into a gateway. */
  webhookFetch?: WebhookFetch;
}

export interface GhesEmulator {
  readonly app: Hono<EmulatorEnv>;
  /** Routes any URL's path into the app; honours AbortSignal and `redirect`. */
  readonly fetch: typeof fetch;
  readonly state: EmulatorState;
  /** Demo tokens and app names, or null with `seed: "none"`. */
  readonly seed: DemoSeed | null;
  createToken(input: NewToken): CreatedToken;
  createApp(input: NewApp): AppInfo;
  installApp(input: NewInstallation): void;
  /** Revokes directly in GHES, bypassing the gateway; false when the token was not live. */
  revokeToken(token: string): boolean;
  apps(): AppInfo[];
  calls(): Record<OperationName, number>;
  resetCalls(): void;
  /** Replaces all faults. */
  setFaults(...faults: FaultSpec[]): ActiveFault[];
  /** Appends one fault. */
  addFault(fault: FaultSpec): ActiveFault;
  faults(): ActiveFault[];
  clearFaults(): void;
  config(): EmulatorConfigView;
  /** Same fields as POST /_emulator/config; throws on invalid input. */
  configure(patch: Partial<EmulatorConfigView>): EmulatorConfigView;
  /** Restores the seed data, configuration, call counts and faults of creation time. */
  reset(): void;
  /** Ends every hanging request as a dropped connection; returns how many there were. */
  releaseHangs(): number;
  /** Requests currently held by a `hang` fault. */
  hangingRequests(): number;
  /** Every generated (`body_bytes`) answer served since creation or reset: size, bytes read, cancelled. */
  bodyStreams(): readonly BodyStream[];
}

export function createGhesEmulator(options: GhesEmulatorOptions = {}): GhesEmulator {
  const version = parseVersion(options.version ?? DEFAULT_VERSION);
  if (!version) throw new EmulatorInputError(`unsupported GHES version ${options.version ?? ''}`);
  const initialConfig = {
    version,
    badCredentialsStatus: options.badCredentialsStatus ?? 404,
    rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT,
    baseUrl: options.baseUrl === undefined ? undefined : new URL(options.baseUrl).origin,
    pkce: options.pkce,
    webhookUrl: options.webhookUrl,
  };
  const now = options.now ?? Date.now;
  const core = new EmulatorCore({ ...initialConfig }, now, options.sleep ?? defaultSleep);
  const material = options.seed === 'none' ? null : drawSeedMaterial(version);

  const restore = (): void => {
    core.state.clear();
    core.users.clear();
    core.oauth.clear();
    core.faults.clear();
    core.calls = emptyCalls();
    core.bodyStreams = [];
    core.config = { ...initialConfig };
    core.rate.limit = initialConfig.rateLimit;
    core.rate.reset();
    if (options.latencyMs !== undefined) core.faults.add({ latency_ms: options.latencyMs });
    if (material) applyDemoSeed(core.state, core.users, material, now());
  };
  restore();

  const createToken = (input: NewToken): CreatedToken =>
    describeToken(core.state.createToken(input, now()), core.state);

  const app = new Hono<EmulatorEnv>();
  registerAuthAdminRoutes(app, core);
  registerWebhookAdminRoutes(app, core, options.webhookFetch ?? defaultWebhookFetch);
  registerAdminRoutes(app, core, { createToken, reset: restore });
  registerApiRoutes(app, core);
  registerAuthorizationRoutes(app, core);
  registerUserRoutes(app, core);
  registerWebFlowRoutes(app, core);
  app.notFound((c) => apiNotFound(core, c));
  app.onError((err, c) => {
    // Dropped connections and aborts are not answers: let them reach the caller (emulator.fetch
    // turns a drop into a network error; the Node runner destroys the socket).
    const signal = c.env?.signal ?? c.req.raw.signal;
    if (err instanceof ConnectionDropped || signal?.aborted) throw err;
    console.error('GHES emulator bug:', err);
    return c.json({ message: 'Server Error' }, 500);
  });

  return {
    app,
    fetch: createEmulatorFetch(app),
    state: core.state,
    seed: material?.seed ?? null,
    createToken,
    createApp: (input) => {
      const created = core.state.addApp(input);
      const info = appInfos(core.state).find((a) => a.client_id === created.clientId);
      if (!info) throw new Error('app vanished');
      return info;
    },
    installApp: (input) => {
      core.state.installApp(input);
    },
    revokeToken: (token) => core.state.revokeToken(token),
    apps: () => appInfos(core.state),
    calls: () => ({ ...core.calls }),
    resetCalls: () => {
      core.calls = emptyCalls();
    },
    setFaults: (...faults) => {
      for (const f of faults) {
        const parsed = parseFault(f);
        if (!parsed.ok) throw new TypeError(`invalid fault: ${parsed.error}`);
      }
      core.faults.clear();
      return faults.map((f) => core.faults.add(f));
    },
    addFault: (fault) => core.faults.add(fault),
    faults: () => core.faults.list(),
    clearFaults: () => core.faults.clear(),
    config: () => core.configView(),
    configure: (patch) => {
      const error = core.configure(patch as Record<string, unknown>);
      if (error) throw new EmulatorInputError(error);
      return core.configView();
    },
    reset: restore,
    releaseHangs: () => core.releaseHangs(),
    hangingRequests: () => core.hanging,
    bodyStreams: () => core.bodyStreams.map((b) => ({ ...b })),
  };
}
