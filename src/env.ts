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

function intVar(def: number, min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).default(def);
}

const appSchema = z.strictObject({
  name: z.string().regex(APP_NAME, 'must be lower-case letters, digits and dashes'),
  client_id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'is not a plausible client_id'),
  kind: z.enum(APP_KINDS),
  client_secret_binding: z
    .string()
    .regex(SECRET_BINDING, 'must name a Worker secret (UPPER_SNAKE_CASE)'),
});

const policyEntrySchema = z.strictObject({
  /** App names this caller may use; `"*"` means every configured app. */
  apps: z.array(z.string()).min(1),
  operations: z.array(z.enum(OPERATIONS)).min(1),
  /** App used by introspection and forward auth when the request names none. */
  default_app: z.string().optional(),
});
export type CallerPolicyEntry = z.infer<typeof policyEntrySchema>;

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) });

const GHES_VERSION = /^(\d+)\.(\d+)$/;

export const varsSchema = z
  .object({
    GHES_BASE_URL: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .refine((u) => u.endsWith('/api/v3'), 'must end with /api/v3'),
    GHES_VERSION: z
      .string()
      .regex(GHES_VERSION, 'must look like 3.22')
      .refine((v) => {
        const [maj, min] = v.split('.').map(Number) as [number, number];
        return maj * 100 + min >= 218 && maj * 100 + min <= 322;
      }, 'must be a GHES version from 2.18 to 3.22')
      .default('3.22'),
    /** `auto`: body style where the version has it (2.20+), legacy path style before. */
    GHES_API_STYLE: z.enum(['auto', 'body', 'legacy']).default('auto'),
    GHES_TIMEOUT_MS: intVar(2000, 50, 60_000),
    GHES_DEADLINE_MS: intVar(5000, 100, 120_000),
    BREAKER_THRESHOLD: intVar(5, 1, 1000),
    /** Consecutive GHES 404s for one app, with no valid token between, that suggest a bad secret. */
    CREDENTIAL_SUSPECT_AFTER_404S: intVar(50, 1, 100_000),
    BREAKER_COOLDOWN_MS: intVar(10_000, 100, 600_000),
    APPS: json(z.array(appSchema).min(1)),
    CALLER_ISSUER: z.string().min(1),
    CALLER_AUDIENCE: z.string().min(1),
    CALLER_ALGORITHMS: json(z.array(z.enum(CALLER_ALGORITHMS)).min(1)).default(['ES256']),
    CALLER_JWKS: optional(json(jwksSchema)),
    CALLER_JWKS_URL: optional(z.url({ protocol: /^https?$/ })),
    CALLER_CLOCK_TOLERANCE_S: intVar(30, 0, 30),
    /** Maximum caller-JWT age from `iat`; 0 means no limit (long-lived API-gateway tokens). */
    CALLER_MAX_TOKEN_AGE_S: intVar(0, 0, 10 * 365 * 86_400),
    CALLER_POLICY: json(z.record(z.string().min(1), policyEntrySchema)),
    CACHE_POSITIVE_TTL_S: intVar(60, 1, 86_400),
    CACHE_NEGATIVE_TTL_S: intVar(60, 1, 86_400),
    CACHE_L1_MAX_ENTRIES: intVar(10_000, 0, 1_000_000),
    CACHE_STALE_IF_ERROR_S: intVar(0, 0, 3600),
    PUBLIC_URL: optional(z.url({ protocol: /^https?$/ })),
    MAX_BODY_BYTES: intVar(16_384, 1024, 1_048_576),
  })
  .superRefine((v, ctx) => {
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
    for (const [sub, entry] of Object.entries(v.CALLER_POLICY)) {
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

export interface GatewayConfig {
  ghes: {
    baseUrl: string;
    version: GhesVersion;
    apiStyle: 'auto' | 'body' | 'legacy';
    timeoutMs: number;
    deadlineMs: number;
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
  publicUrl: string | undefined;
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
  const parsed = varsSchema.safeParse(env);
  if (!parsed.success) return { ok: false, error: describe(parsed.error.issues) };
  const v = parsed.data;
  const errors: string[] = [];

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
      },
      cache: {
        positiveTtlS: v.CACHE_POSITIVE_TTL_S,
        negativeTtlS: v.CACHE_NEGATIVE_TTL_S,
        l1MaxEntries: v.CACHE_L1_MAX_ENTRIES,
        staleIfErrorS: v.CACHE_STALE_IF_ERROR_S,
        pepper: pepper as string,
      },
      introspection: { signingKeys },
      publicUrl: v.PUBLIC_URL?.replace(/\/+$/, ''),
      maxBodyBytes: v.MAX_BODY_BYTES,
    },
  };
}

/** Bindings the Worker is deployed with. Secrets and per-app secret names are dynamic. */
export interface Bindings {
  TOKEN_CACHE: KVNamespace;
  [name: string]: unknown;
}
