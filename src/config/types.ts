/**
 * The parsed configuration's shape and the constant lists the schema is built from. Types and
 * constants only: the rules live in src/config/schema.ts and src/config/parse.ts.
 */

export const OPERATIONS = [
  'check',
  'reset',
  'scoped',
  'delete',
  'grant_delete',
  'introspect',
  'forward_auth',
  'code_exchange',
  'refresh',
  // The OAuth Authorizations API (src/routes/authorizations.ts), acting as a GHES user.
  'authorizations_read',
  'authorizations_write',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export const APP_KINDS = ['oauth_app', 'github_app'] as const;
export type AppKind = (typeof APP_KINDS)[number];

/**
 * The longest token the gateway accepts anywhere (request bodies, Authorization headers) and the
 * longest whose cache key it remembers (src/cache/keys.ts): longer than any GitHub token.
 */
export const MAX_TOKEN_LENGTH = 255;

/** An app name, as configured in APPS and as it appears in request paths. */
export const APP_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Asymmetric algorithms only: a shared-secret HS* key would have to live in every caller. */
export const CALLER_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'PS256',
] as const;

/** Caller clock-skew allowance is capped here (RFC 8725 does not bound it; we keep it small). */
export const MAX_CLOCK_TOLERANCE_S = 30;

/** The cache key's HMAC pepper must be at least this long. */
export const MIN_PEPPER_LENGTH = 32;

/** Scoped-token permission levels, weakest first (GitHub App permissions). */
export const PERMISSION_LEVELS = ['read', 'write', 'admin'] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

/** The only periods the Workers rate-limiting binding supports. */
export const RATE_LIMIT_PERIODS = [10, 60] as const;
export type RateLimitPeriod = (typeof RATE_LIMIT_PERIODS)[number];

/** Names of the Workers rate-limiting bindings (wrangler.toml `[[ratelimits]]`). */
export const RATE_LIMIT_BINDINGS = {
  introspection: 'INTROSPECTION_RATE_LIMITER',
  mutation: 'MUTATION_RATE_LIMITER',
  client: 'CLIENT_RATE_LIMITER',
  userLogin: 'USER_LOGIN_RATE_LIMITER',
} as const;

/** The Workers Analytics Engine binding (wrangler.toml `[[analytics_engine_datasets]]`): optional. */
export const METRICS_BINDING = 'METRICS';

/** The default PUBLIC_URL under LOCAL_DEV: where `wrangler dev` listens unless told otherwise. */
export const LOCAL_DEV_PUBLIC_URL = 'http://127.0.0.1:8787';

/**
 * The most a caller may ask for when minting a scoped token (src/auth/policy.ts
 * `checkScopedCeiling`). A field left out is not capped.
 */
export interface ScopedCeiling {
  /** Highest level per permission; a permission not listed may not be requested at all. */
  permissions?: Record<string, PermissionLevel> | undefined;
  /** Target logins (users or organizations), compared case-insensitively as GitHub does. */
  targets?: string[] | undefined;
  /** Target ids; a request naming `target_id` is allowed only through this list. */
  target_ids?: number[] | undefined;
  /** Repository names (case-insensitive); requests must then name repositories, not ids. */
  repositories?: string[] | undefined;
  /** The request must narrow the token to named repositories (names or ids). */
  require_repositories?: boolean | undefined;
}

export interface CallerPolicyEntry {
  /** App names this caller may use; `"*"` means every configured app. */
  apps: string[];
  operations: Operation[];
  /** App used by introspection and forward auth when the request names none. */
  default_app?: string | undefined;
  /** Ceiling for scoped tokens this caller mints; none means GHES's own rules only. */
  scoped?: ScopedCeiling | undefined;
  /**
   * Absolute URLs this caller may exchange authorization codes for (`code_exchange`): a code
   * exchange must name one of them. Required with `code_exchange` (src/config/parse.ts).
   */
  redirect_uris?: string[] | undefined;
  /** OAuth scopes this caller may request through the Authorizations API; none: no ceiling. */
  authorization_scopes?: string[] | undefined;
}

export interface AppConfig {
  name: string;
  clientId: string;
  kind: AppKind;
  /** Trust boundary: the client secret. Only src/ghes/request.ts may put it on the wire. */
  clientSecret: string;
  /** The OAuth Authorizations API (user passwords pass through) is served for this app. */
  authorizationsApi?: boolean | undefined;
  /**
   * Trust boundary: the GitHub App's webhook secret (HMAC key of `X-Hub-Signature-256`); only
   * src/auth/webhook-signature.ts uses it. Unset: the app's webhook route answers 404.
   */
  webhookSecret?: string | undefined;
}

/** A webhook secret shorter than this is refused (GitHub: "a random string with high entropy"). */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

export interface GhesVersion {
  major: number;
  minor: number;
  /** As configured, e.g. "3.22". */
  label: string;
}

/** How token endpoints are called: token in the body (2.20+) or in the path (≤ 3.3). */
export type ApiStyle = 'body' | 'legacy';

/** Cloudflare Access as a caller identity source (src/auth/access.ts). */
export interface AccessConfig {
  /** `https://<team>.cloudflareaccess.com`: the Access JWT issuer; certs live below it. */
  teamDomain: string;
  /** Access application AUD tags accepted as `aud`. */
  audience: string[];
  /** Access identity (email, service-token common_name, or sub) → CALLER_POLICY sub. */
  subjects: Readonly<Record<string, string>>;
}

/** mTLS client certificates as a caller identity source (src/auth/mtls.ts). */
export interface MtlsConfig {
  /** Normalized fingerprint (lower-case hex, no colons; 64 = SHA-256, 40 = SHA-1) → sub. */
  callers: ReadonlyMap<string, string>;
}

export interface RateLimitConfig {
  /** Binding name in `env`. */
  binding: string;
  /** The binding's `simple.period`: the Retry-After of a 429. */
  periodS: RateLimitPeriod;
}

export interface ClientRateLimitConfig extends RateLimitConfig {
  /** Lower-case header name whose last hop is the end-user client address. */
  header: string;
}

export interface GatewayConfig {
  ghes: {
    baseUrl: string;
    /** The GHES web host (`/login/oauth/…`), no trailing slash: GHES_WEB_URL, else the API URL without `/api/v3`. */
    webUrl: string;
    version: GhesVersion;
    /** Resolved against the version: never a style the version lacks. */
    apiStyle: ApiStyle;
    timeoutMs: number;
    deadlineMs: number;
    maxResponseBytes: number;
    breaker: { threshold: number; cooldownMs: number };
    credentialSuspectAfter404s: number;
  };
  apps: ReadonlyMap<string, AppConfig>;
  caller: {
    issuer: string;
    audience: string;
    algorithms: string[];
    jwks: { keys: Record<string, unknown>[] } | undefined;
    jwksUrl: string | undefined;
    clockToleranceS: number;
    maxTokenAgeS: number;
    policy: Readonly<Record<string, CallerPolicyEntry>>;
    /** Undefined: Access identities are not accepted. */
    access: AccessConfig | undefined;
    /** Undefined: client certificates are not accepted as caller identity. */
    mtls: MtlsConfig | undefined;
  };
  rateLimits: {
    introspection: RateLimitConfig;
    mutation: RateLimitConfig;
    /** GHES-bound token checks per end-user client address of a caller. */
    client: ClientRateLimitConfig;
    /** Authorizations API calls that present a user's password, per caller and per login. */
    userLogin: RateLimitConfig;
  };
  cache: {
    positiveTtlS: number;
    negativeTtlS: number;
    l1MaxEntries: number;
    staleIfErrorS: number;
    /** Secret HMAC key for cache keys; never stored. */
    pepper: string;
  };
  introspection: {
    /** Private JWKs, first one signs; all public halves are published. Empty: RFC 9701 off. */
    signingKeys: Record<string, unknown>[];
  };
  /** No trailing slash. Never derived from a request. */
  publicUrl: string;
  maxBodyBytes: number;
  /** LOCAL_DEV: a local dev setup (`npm start`); answers may then say how to fix the setup. */
  localDev: boolean;
  /** LOG_SAMPLE_HITS: percent of successful cache hits logged; every other answer always is. */
  logSampleHitsPercent: number;
  /** One data point per request (src/middleware/metrics.ts); undefined: no metrics. */
  metrics: AnalyticsEngineDataset | undefined;
}

/** Bindings the Worker is deployed with. Secrets and per-app secret names are dynamic. */
export interface Bindings {
  TOKEN_CACHE: KVNamespace;
  /** Workers rate-limiting bindings; when absent the matching limit is off (warned once). */
  INTROSPECTION_RATE_LIMITER?: RateLimit;
  MUTATION_RATE_LIMITER?: RateLimit;
  CLIENT_RATE_LIMITER?: RateLimit;
  USER_LOGIN_RATE_LIMITER?: RateLimit;
  /** Workers Analytics Engine dataset (METRICS_BINDING); when absent no metrics are written. */
  METRICS?: AnalyticsEngineDataset;
  [name: string]: unknown;
}
