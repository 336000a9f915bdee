/**
 * The gateway's configuration: Worker vars and secrets, parsed once per isolate by one zod schema
 * (src/index.ts memoises it per `env` object). Trust boundary: everything here comes from the
 * deployment, not from callers, but it is still validated so that a typo answers a clear 500
 * problem (`misconfigured`) instead of a confusing failure deep inside a request.
 *
 * Secrets (client secrets, cache pepper, signing keys) are read here and nowhere else. The parsed
 * config must never be logged as a whole.
 */
import { z } from 'zod';
import { scopedPermissionsFor } from './ghes-releases';

export const OPERATIONS = [
  'check',
  'reset',
  'scoped',
  'delete',
  'grant_delete',
  'introspect',
  'forward_auth',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export const APP_KINDS = ['oauth_app', 'github_app'] as const;
export type AppKind = (typeof APP_KINDS)[number];

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

const APP_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const SECRET_BINDING = /^[A-Z][A-Z0-9_]{0,127}$/;

/** Vars may be given as TOML tables (already objects) or as JSON strings (dashboard, .dev.vars). */
function json<T extends z.ZodType>(schema: T) {
  return z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  }, schema);
}

/** An empty string means "not set": wrangler environments must repeat every var, even unused ones. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}

/** `''` → unset, before defaults apply: an empty var must never coerce to 0. */
function blankIsUnset<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema);
}

function intVar(def: number, min: number, max: number) {
  return blankIsUnset(z.coerce.number().int().min(min).max(max).default(def));
}

const appSchema = z.strictObject({
  name: z.string().regex(APP_NAME, 'must be lower-case letters, digits and dashes'),
  client_id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'is not a plausible client_id'),
  kind: z.enum(APP_KINDS),
  client_secret_binding: z
    .string()
    .regex(SECRET_BINDING, 'must name a Worker secret (UPPER_SNAKE_CASE)'),
});

/** Scoped-token permission levels, weakest first (GitHub App permissions). */
export const PERMISSION_LEVELS = ['read', 'write', 'admin'] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

/**
 * The most a caller may ask for when minting a scoped token (src/auth/policy.ts
 * `checkScopedCeiling`). A field left out is not capped; an empty list is refused as ambiguous
 * (remove the field to allow any, or remove the `scoped` operation to allow none).
 */
const scopedCeilingSchema = z.strictObject({
  /** Highest level per permission; a permission not listed may not be requested at all. */
  permissions: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'is not a permission name'),
      z.enum(PERMISSION_LEVELS),
    )
    .refine((p) => Object.keys(p).length > 0, 'must list at least one permission')
    .optional(),
  /** Target logins (users or organizations), compared case-insensitively as GitHub does. */
  targets: z.array(z.string().min(1).max(100)).min(1).optional(),
  /** Target ids; a request naming `target_id` is allowed only through this list. */
  target_ids: z.array(z.number().int().positive()).min(1).optional(),
  /** Repository names (case-insensitive); requests must then name repositories, not ids. */
  repositories: z.array(z.string().min(1).max(100)).min(1).optional(),
  /** The request must narrow the token to named repositories (names or ids). */
  require_repositories: z.boolean().optional(),
});
export type ScopedCeiling = z.infer<typeof scopedCeilingSchema>;

const policyEntrySchema = z.strictObject({
  /** App names this caller may use; `"*"` means every configured app. */
  apps: z.array(z.string()).min(1),
  operations: z.array(z.enum(OPERATIONS)).min(1),
  /** App used by introspection and forward auth when the request names none. */
  default_app: z.string().optional(),
  /** Ceiling for scoped tokens this caller mints; none means GHES's own rules only. */
  scoped: scopedCeilingSchema.optional(),
});
export type CallerPolicyEntry = z.infer<typeof policyEntrySchema>;

/**
 * Cloudflare Access team domain as `https://<team>.cloudflareaccess.com` (the `iss` of Access
 * JWTs); the bare host name is accepted too.
 */
const accessTeamDomainSchema = z.string().transform((value, ctx) => {
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL | undefined;
  try {
    url = new URL(candidate);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    url.protocol !== 'https:' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== '' ||
    url.port !== ''
  ) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be the team domain, e.g. https://myteam.cloudflareaccess.com',
    });
    return z.NEVER;
  }
  return url.origin;
});

/** One Access application AUD tag, or a JSON array of them. */
const accessAudienceSchema = z.preprocess(
  (value, ctx) => {
    if (typeof value !== 'string' || !value.trim().startsWith('['))
      return typeof value === 'string' ? [value] : value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  },
  z.array(z.string().regex(/^[A-Za-z0-9._:-]{1,256}$/, 'is not an Access AUD tag')).min(1),
);

/** SHA-256 (64 hex) or SHA-1 (40 hex) certificate fingerprint, with or without colons, any case. */
export function normalizeFingerprint(value: string): string {
  return value.replace(/:/g, '').toLowerCase();
}
const FINGERPRINT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A rate-limiting binding's period: the binding only supports 10 or 60 seconds. */
function periodVar() {
  return z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce
      .number()
      .refine(
        (p) => p === 10 || p === 60,
        'must be 10 or 60, the period of the rate-limiting binding',
      )
      .default(60),
  );
}

/** Names of the Workers rate-limiting bindings (wrangler.toml `[[ratelimits]]`). */
export const RATE_LIMIT_BINDINGS = {
  introspection: 'INTROSPECTION_RATE_LIMITER',
  mutation: 'MUTATION_RATE_LIMITER',
  client: 'CLIENT_RATE_LIMITER',
} as const;

/**
 * Headers that carry credentials: never a client address. A rate-limit key built from one would
 * put a token into the limiter's keys and into logged reasons.
 */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-gateway-authorization',
  'cookie',
  'cf-access-jwt-assertion',
  'cf-access-client-secret',
]);

/** Where the caller's proxy reports the end-user client address (src/lib/client-address.ts). */
const clientAddressHeaderSchema = blankIsUnset(
  z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be an HTTP header name')
    .transform((h) => h.toLowerCase())
    .refine((h) => !CREDENTIAL_HEADERS.has(h), 'must not be a header that carries credentials')
    .default('x-forwarded-for'),
);

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) });

/**
 * Loopback hosts as the WHATWG URL parser writes them (it lower-cases names and canonicalises
 * IPv4 and IPv6 literals first, so `0x7f.1` arrives as `127.0.0.1` and `[0::1]` as `[::1]`):
 * `localhost` exactly, 127.0.0.0/8, and `[::1]`. Nothing else: `localhost.evil.com` and
 * `127.0.0.1.nip.io` are names anyone can point anywhere.
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  const quad = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  return quad !== null && quad.slice(1).every((o) => Number(o) <= 255);
}

/**
 * A URL the gateway calls or publishes (GHES, the caller JWKS, its own public URL). Trust
 * boundary: plain `http://` would let anyone on the path read client secrets and tokens or swap
 * the keys callers are checked with, so only `https:` is accepted, and `http:` only for a loopback
 * host (local development against the emulator). No user name or password: fetch would send them
 * as Basic credentials, and they would end up wherever the URL is logged or published.
 */
function secureUrl(options: { issuer?: boolean } = {}) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a valid URL' });
      return;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
      ctx.addIssue({
        code: 'custom',
        message: 'must be an https:// URL (http:// only for localhost, 127.0.0.0/8 or [::1])',
      });
    else if (url.username !== '' || url.password !== '')
      ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
    // RFC 8414 §2: the issuer has no query or fragment (an empty `?` or `#` counts too).
    else if (options.issuer === true && /[?#]/.test(value))
      ctx.addIssue({
        code: 'custom',
        message: 'must have no query or fragment (it is the issuer)',
      });
  });
}

/**
 * Values wrangler.toml's [env.*] templates ship with, that must be replaced before a deploy:
 * `REPLACE_WITH_…` (and the usual `REPLACE_ME` / `CHANGE_ME` spellings), and the template's
 * placeholder domain `example.internal`. Checked on every string var and secret, so a template
 * deployed as it is answers `misconfigured` instead of calling a made-up GHES.
 */
const PLACEHOLDERS: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /REPLACE[_-]?(?:WITH|ME)|CHANGE[_-]?ME/i, what: 'a REPLACE_WITH_… placeholder' },
  {
    pattern: /(?:^|[^a-z0-9-])example\.internal(?![a-z0-9-]|\.[a-z0-9])/i,
    what: 'the placeholder domain example.internal',
  },
];

/** One message per var that still holds a placeholder; names the var, never its value. */
export function placeholderErrors(env: Record<string, unknown>): string[] {
  const errors: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    let text: string | undefined;
    if (typeof value === 'string') text = value;
    else if (
      Array.isArray(value) ||
      (typeof value === 'object' &&
        value !== null &&
        Object.getPrototypeOf(value) === Object.prototype)
    ) {
      // A TOML table or array (APPS, CALLER_POLICY written as tables).
      try {
        text = JSON.stringify(value);
      } catch {
        text = undefined;
      }
    }
    if (text === undefined) continue;
    const hit = PLACEHOLDERS.find((p) => p.pattern.test(text));
    if (hit !== undefined)
      errors.push(
        `${name}: still holds ${hit.what} from the wrangler.toml template; set the real value`,
      );
  }
  return errors;
}

/** The default PUBLIC_URL under LOCAL_DEV: where `wrangler dev` listens unless told otherwise. */
export const LOCAL_DEV_PUBLIC_URL = 'http://127.0.0.1:8787';

const GHES_VERSION = /^(\d+)\.(\d+)$/;

export const varsSchema = z
  .object({
    GHES_BASE_URL: secureUrl()
      .transform((u) => u.replace(/\/+$/, ''))
      .refine((u) => u.endsWith('/api/v3'), 'must end with /api/v3'),
    GHES_VERSION: blankIsUnset(
      z
        .string()
        .regex(GHES_VERSION, 'must look like 3.22')
        .refine((v) => {
          const [maj, min] = v.split('.').map(Number) as [number, number];
          return maj * 100 + min >= 218 && maj * 100 + min <= 322;
        }, 'must be a GHES version from 2.18 to 3.22')
        .default('3.22'),
    ),
    /** `auto`: body style where the version has it (2.20+), legacy path style before. */
    GHES_API_STYLE: blankIsUnset(z.enum(['auto', 'body', 'legacy']).default('auto')),
    GHES_TIMEOUT_MS: intVar(2000, 50, 60_000),
    GHES_DEADLINE_MS: intVar(5000, 100, 120_000),
    /**
     * Bytes of a GHES answer read at most; a larger one is cancelled unread (upstream-error).
     * An authorization is a few KB; an isolate has 128 MB.
     */
    GHES_MAX_RESPONSE_BYTES: intVar(1_048_576, 16_384, 16_777_216),
    BREAKER_THRESHOLD: intVar(5, 1, 1000),
    /** Consecutive GHES 404s for one app, with no valid token between, that suggest a bad secret. */
    CREDENTIAL_SUSPECT_AFTER_404S: intVar(50, 1, 100_000),
    BREAKER_COOLDOWN_MS: intVar(10_000, 100, 600_000),
    APPS: json(z.array(appSchema).min(1)),
    CALLER_ISSUER: z.string().min(1),
    CALLER_AUDIENCE: z.string().min(1),
    CALLER_ALGORITHMS: blankIsUnset(
      json(z.array(z.enum(CALLER_ALGORITHMS)).min(1)).default(['ES256']),
    ),
    CALLER_JWKS: optional(json(jwksSchema)),
    CALLER_JWKS_URL: optional(secureUrl()),
    CALLER_CLOCK_TOLERANCE_S: intVar(30, 0, 30),
    /** Maximum caller-JWT age from `iat`; 0 means no limit (long-lived API-gateway tokens). */
    CALLER_MAX_TOKEN_AGE_S: intVar(0, 0, 10 * 365 * 86_400),
    CALLER_POLICY: json(z.record(z.string().min(1), policyEntrySchema)),
    /** Cloudflare Access as a caller identity source: off unless the team domain is set. */
    ACCESS_TEAM_DOMAIN: optional(accessTeamDomainSchema),
    ACCESS_AUD: optional(accessAudienceSchema),
    /** Access identity (email, service-token common_name, or sub) → CALLER_POLICY sub. */
    ACCESS_SUBJECTS: optional(json(z.record(z.string().min(1).max(320), z.string().min(1)))),
    /** mTLS client-certificate fingerprint → CALLER_POLICY sub; off unless set. */
    MTLS_CALLERS: optional(json(z.record(z.string().min(1).max(200), z.string().min(1)))),
    /** Must equal `simple.period` of the matching `[[ratelimits]]` binding: sent as Retry-After. */
    INTROSPECTION_RATE_LIMIT_PERIOD_S: periodVar(),
    MUTATION_RATE_LIMIT_PERIOD_S: periodVar(),
    CLIENT_RATE_LIMIT_PERIOD_S: periodVar(),
    /** The header whose last hop is the end-user client address (default X-Forwarded-For). */
    CLIENT_ADDRESS_HEADER: clientAddressHeaderSchema,
    CACHE_POSITIVE_TTL_S: intVar(60, 1, 86_400),
    CACHE_NEGATIVE_TTL_S: intVar(60, 1, 86_400),
    CACHE_L1_MAX_ENTRIES: intVar(10_000, 0, 1_000_000),
    CACHE_STALE_IF_ERROR_S: intVar(0, 0, 3600),
    /**
     * The gateway's own origin: the RFC 8414 / RFC 9701 issuer, the discovery URLs and the OpenAPI
     * server. Never taken from the request (its Host header is the client's to choose).
     */
    PUBLIC_URL: optional(secureUrl({ issuer: true })),
    /**
     * `true` only in wrangler.toml's top level (wrangler dev, `npm start`, local tests): PUBLIC_URL
     * may then be left empty (it defaults to LOCAL_DEV_PUBLIC_URL) unless signing keys are set.
     */
    LOCAL_DEV: z
      .preprocess(
        // A TOML boolean arrives as one; '' means unset, as for every var.
        (v) => (typeof v === 'boolean' ? String(v) : v === '' ? undefined : v),
        z.enum(['true', 'false'], 'must be "true" or "false"').default('false'),
      )
      .transform((v) => v === 'true'),
    MAX_BODY_BYTES: intVar(16_384, 1024, 1_048_576),
  })
  .superRefine((v, ctx) => {
    if (v.PUBLIC_URL === undefined && !v.LOCAL_DEV)
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message:
          'must be set to the gateway\'s public https origin: the issuer and published URLs never follow the Host header (only LOCAL_DEV = "true" may leave it empty)',
      });
    if ((v.CALLER_JWKS === undefined) === (v.CALLER_JWKS_URL === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['CALLER_JWKS'],
        message: 'set exactly one of CALLER_JWKS (inline JSON) and CALLER_JWKS_URL',
      });
    }
    const names = new Set<string>();
    const ids = new Set<string>();
    v.APPS.forEach((app, i) => {
      if (names.has(app.name))
        ctx.addIssue({ code: 'custom', path: ['APPS', i, 'name'], message: 'duplicate app name' });
      if (ids.has(app.client_id))
        ctx.addIssue({
          code: 'custom',
          path: ['APPS', i, 'client_id'],
          message: 'duplicate client_id',
        });
      names.add(app.name);
      ids.add(app.client_id);
    });
    const knownPermissions = scopedPermissionsFor(v.GHES_VERSION);
    for (const [sub, entry] of Object.entries(v.CALLER_POLICY)) {
      const ceiling = entry.scoped;
      if (ceiling?.permissions !== undefined && knownPermissions !== undefined) {
        for (const name of Object.keys(ceiling.permissions)) {
          if (!Object.hasOwn(knownPermissions, name))
            ctx.addIssue({
              code: 'custom',
              path: ['CALLER_POLICY', sub, 'scoped', 'permissions', name],
              message: `is not a scoped-token permission of GHES ${v.GHES_VERSION}`,
            });
        }
      }
      if (ceiling?.repositories !== undefined && ceiling.require_repositories === false)
        ctx.addIssue({
          code: 'custom',
          path: ['CALLER_POLICY', sub, 'scoped', 'require_repositories'],
          message:
            'cannot be false when repositories is set (a repository ceiling always requires repositories)',
        });
      for (const app of entry.apps) {
        if (app !== '*' && !names.has(app))
          ctx.addIssue({
            code: 'custom',
            path: ['CALLER_POLICY', sub, 'apps'],
            message: `unknown app "${app}"`,
          });
      }
      if (entry.default_app !== undefined) {
        const allowed = entry.apps.includes('*') || entry.apps.includes(entry.default_app);
        if (!names.has(entry.default_app) || !allowed)
          ctx.addIssue({
            code: 'custom',
            path: ['CALLER_POLICY', sub, 'default_app'],
            message: `default_app "${entry.default_app}" is not a configured app this caller may use`,
          });
      }
    }
    const hasPolicy = (sub: string) => Object.hasOwn(v.CALLER_POLICY, sub);
    const accessParts = [v.ACCESS_TEAM_DOMAIN, v.ACCESS_AUD, v.ACCESS_SUBJECTS];
    if (accessParts.some((p) => p !== undefined) && accessParts.some((p) => p === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ACCESS_TEAM_DOMAIN'],
        message:
          'set all of ACCESS_TEAM_DOMAIN, ACCESS_AUD and ACCESS_SUBJECTS, or none (Access off)',
      });
    }
    if (v.ACCESS_SUBJECTS !== undefined) {
      if (Object.keys(v.ACCESS_SUBJECTS).length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['ACCESS_SUBJECTS'],
          message: 'maps no identity; leave it empty to turn Access off',
        });
      for (const [identity, sub] of Object.entries(v.ACCESS_SUBJECTS)) {
        if (!hasPolicy(sub))
          ctx.addIssue({
            code: 'custom',
            path: ['ACCESS_SUBJECTS', identity],
            message: `"${sub}" has no CALLER_POLICY entry`,
          });
      }
    }
    if (v.MTLS_CALLERS !== undefined) {
      if (Object.keys(v.MTLS_CALLERS).length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['MTLS_CALLERS'],
          message: 'maps no certificate; leave it empty to turn mTLS off',
        });
      const seen = new Set<string>();
      for (const [fingerprint, sub] of Object.entries(v.MTLS_CALLERS)) {
        const normalized = normalizeFingerprint(fingerprint);
        if (!FINGERPRINT.test(normalized))
          ctx.addIssue({
            code: 'custom',
            path: ['MTLS_CALLERS', fingerprint],
            message: 'is not a SHA-256 (64 hex) or SHA-1 (40 hex) fingerprint',
          });
        else if (seen.has(normalized))
          ctx.addIssue({
            code: 'custom',
            path: ['MTLS_CALLERS', fingerprint],
            message: 'repeats a fingerprint',
          });
        seen.add(normalized);
        if (!hasPolicy(sub))
          ctx.addIssue({
            code: 'custom',
            path: ['MTLS_CALLERS', fingerprint],
            message: `"${sub}" has no CALLER_POLICY entry`,
          });
      }
    }
  });

export interface AppConfig {
  name: string;
  clientId: string;
  kind: AppKind;
  /** Trust boundary: the client secret. Only src/ghes/request.ts may put it on the wire. */
  clientSecret: string;
}

export interface GhesVersion {
  major: number;
  minor: number;
  /** As configured, e.g. "3.22". */
  label: string;
}

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
  periodS: 10 | 60;
}

export interface ClientRateLimitConfig extends RateLimitConfig {
  /** Lower-case header name whose last hop is the end-user client address. */
  header: string;
}

export interface GatewayConfig {
  ghes: {
    baseUrl: string;
    version: GhesVersion;
    apiStyle: 'auto' | 'body' | 'legacy';
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
}

export type ConfigResult = { ok: true; value: GatewayConfig } | { ok: false; error: string[] };

function describe(issues: readonly z.core.$ZodIssue[]): string[] {
  // Messages name the var and what is wrong, never the value (a value may be a secret).
  return issues.map((i) => `${i.path.map(String).join('.') || '(env)'}: ${i.message}`);
}

const signingKeysSchema = json(
  z.union([
    z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }),
    z.record(z.string(), z.unknown()),
  ]),
);

/** Pure: parse vars and secrets from a Worker `env`. */
export function parseConfig(env: Record<string, unknown>): ConfigResult {
  const placeholders = placeholderErrors(env);
  const parsed = varsSchema.safeParse(env);
  if (!parsed.success)
    return { ok: false, error: [...placeholders, ...describe(parsed.error.issues)] };
  const v = parsed.data;
  const errors: string[] = [...placeholders];

  const apps = new Map<string, AppConfig>();
  for (const app of v.APPS) {
    const secret = env[app.client_secret_binding];
    if (typeof secret !== 'string' || secret.length === 0) {
      errors.push(`APPS.${app.name}: secret ${app.client_secret_binding} is not set`);
      continue;
    }
    apps.set(app.name, {
      name: app.name,
      clientId: app.client_id,
      kind: app.kind,
      clientSecret: secret,
    });
  }

  const pepper = env['CACHE_PEPPER'];
  if (typeof pepper !== 'string' || pepper.length < 32) {
    errors.push('CACHE_PEPPER: secret must be set to at least 32 characters');
  }

  let signingKeys: Record<string, unknown>[] = [];
  if (env['INTROSPECTION_SIGNING_KEYS'] !== undefined) {
    const keys = signingKeysSchema.safeParse(env['INTROSPECTION_SIGNING_KEYS']);
    if (!keys.success) {
      errors.push('INTROSPECTION_SIGNING_KEYS: must be a private JWK or a JWK set (JSON)');
    } else {
      const list =
        'keys' in keys.data && Array.isArray(keys.data.keys) ? keys.data.keys : [keys.data];
      signingKeys = list as Record<string, unknown>[];
      signingKeys.forEach((k, i) => {
        if (typeof k['kid'] !== 'string' || typeof k['d'] !== 'string')
          errors.push(`INTROSPECTION_SIGNING_KEYS.${i}: needs "kid" and the private part "d"`);
      });
    }
  }

  // RFC 9701 §5: signed answers carry `iss`; it must be the name verifiers were configured with,
  // even on a dev server.
  if (signingKeys.length > 0 && v.PUBLIC_URL === undefined)
    errors.push(
      "PUBLIC_URL: must be set when INTROSPECTION_SIGNING_KEYS is (the signed answers' issuer)",
    );

  if (errors.length > 0) return { ok: false, error: errors };
  const [major, minor] = v.GHES_VERSION.split('.').map(Number) as [number, number];
  return {
    ok: true,
    value: {
      ghes: {
        baseUrl: v.GHES_BASE_URL,
        version: { major, minor, label: v.GHES_VERSION },
        apiStyle: v.GHES_API_STYLE,
        timeoutMs: v.GHES_TIMEOUT_MS,
        deadlineMs: Math.max(v.GHES_DEADLINE_MS, v.GHES_TIMEOUT_MS),
        maxResponseBytes: v.GHES_MAX_RESPONSE_BYTES,
        breaker: { threshold: v.BREAKER_THRESHOLD, cooldownMs: v.BREAKER_COOLDOWN_MS },
        credentialSuspectAfter404s: v.CREDENTIAL_SUSPECT_AFTER_404S,
      },
      apps,
      caller: {
        issuer: v.CALLER_ISSUER,
        audience: v.CALLER_AUDIENCE,
        algorithms: v.CALLER_ALGORITHMS,
        jwks: v.CALLER_JWKS,
        jwksUrl: v.CALLER_JWKS_URL,
        clockToleranceS: v.CALLER_CLOCK_TOLERANCE_S,
        maxTokenAgeS: v.CALLER_MAX_TOKEN_AGE_S,
        policy: v.CALLER_POLICY,
        access:
          v.ACCESS_TEAM_DOMAIN !== undefined &&
          v.ACCESS_AUD !== undefined &&
          v.ACCESS_SUBJECTS !== undefined
            ? {
                teamDomain: v.ACCESS_TEAM_DOMAIN,
                audience: v.ACCESS_AUD,
                subjects: v.ACCESS_SUBJECTS,
              }
            : undefined,
        mtls:
          v.MTLS_CALLERS !== undefined
            ? {
                callers: new Map(
                  Object.entries(v.MTLS_CALLERS).map(([fingerprint, sub]) => [
                    normalizeFingerprint(fingerprint),
                    sub,
                  ]),
                ),
              }
            : undefined,
      },
      rateLimits: {
        introspection: {
          binding: RATE_LIMIT_BINDINGS.introspection,
          periodS: v.INTROSPECTION_RATE_LIMIT_PERIOD_S as 10 | 60,
        },
        mutation: {
          binding: RATE_LIMIT_BINDINGS.mutation,
          periodS: v.MUTATION_RATE_LIMIT_PERIOD_S as 10 | 60,
        },
        client: {
          binding: RATE_LIMIT_BINDINGS.client,
          periodS: v.CLIENT_RATE_LIMIT_PERIOD_S as 10 | 60,
          header: v.CLIENT_ADDRESS_HEADER,
        },
      },
      cache: {
        positiveTtlS: v.CACHE_POSITIVE_TTL_S,
        negativeTtlS: v.CACHE_NEGATIVE_TTL_S,
        l1MaxEntries: v.CACHE_L1_MAX_ENTRIES,
        staleIfErrorS: v.CACHE_STALE_IF_ERROR_S,
        pepper: pepper as string,
      },
      introspection: { signingKeys },
      publicUrl: (v.PUBLIC_URL ?? LOCAL_DEV_PUBLIC_URL).replace(/\/+$/, ''),
      maxBodyBytes: v.MAX_BODY_BYTES,
    },
  };
}

/** Bindings the Worker is deployed with. Secrets and per-app secret names are dynamic. */
export interface Bindings {
  TOKEN_CACHE: KVNamespace;
  /** Workers rate-limiting bindings; when absent the matching limit is off (warned once). */
  INTROSPECTION_RATE_LIMITER?: RateLimit;
  MUTATION_RATE_LIMITER?: RateLimit;
  CLIENT_RATE_LIMITER?: RateLimit;
  [name: string]: unknown;
}
