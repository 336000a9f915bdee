/**
 * The zod schema of the Worker's vars and secrets, one field at a time. Rules that relate fields
 * to each other, and the secrets named by other vars, are checked in src/config/parse.ts.
 */
import { z } from 'zod';
import { parseGhesVersion } from './ghes-releases';
import {
  APP_KINDS,
  APP_NAME_PATTERN,
  CALLER_ALGORITHMS,
  MAX_CLOCK_TOLERANCE_S,
  OPERATIONS,
  PERMISSION_LEVELS,
  RATE_LIMIT_PERIODS,
  type CallerPolicyEntry,
} from './types';
import { accessTeamDomainSchema, secureUrl } from './urls';

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

/** `''` → unset, before defaults apply: wrangler environments repeat every var, and an empty
 * one must never coerce to 0. */
function blankIsUnset<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema);
}

function optional<T extends z.ZodType>(schema: T) {
  return blankIsUnset(schema.optional());
}

function intVar(def: number, min: number, max: number) {
  return blankIsUnset(z.coerce.number().int().min(min).max(max).default(def));
}

/** A rate-limiting binding's period; it must equal the binding's, as it is sent as Retry-After. */
function periodVar() {
  return blankIsUnset(
    z.coerce
      .number()
      .pipe(
        z.literal(RATE_LIMIT_PERIODS, 'must be 10 or 60, the period of the rate-limiting binding'),
      )
      .default(60),
  );
}

const appSchema = z.strictObject({
  name: z.string().regex(APP_NAME_PATTERN, 'must be lower-case letters, digits and dashes'),
  client_id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'is not a plausible client_id'),
  kind: z.enum(APP_KINDS),
  client_secret_binding: z
    .string()
    .regex(SECRET_BINDING, 'must name a Worker secret (UPPER_SNAKE_CASE)'),
  /** Serve the OAuth Authorizations API for this app (OAuth apps only; it handles passwords). */
  authorizations_api: z.boolean().optional(),
  /** The Worker secret holding the GitHub App's webhook secret (docs/webhooks.md). */
  webhook_secret_binding: z
    .string()
    .regex(SECRET_BINDING, 'must name a Worker secret (UPPER_SNAKE_CASE)')
    .optional(),
});

/** An empty list is refused as ambiguous: remove the field to allow any. */
const scopedCeilingSchema = z.strictObject({
  permissions: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'is not a permission name'),
      z.enum(PERMISSION_LEVELS),
    )
    .refine((p) => Object.keys(p).length > 0, 'must list at least one permission')
    .optional(),
  targets: z.array(z.string().min(1).max(100)).min(1).optional(),
  target_ids: z.array(z.number().int().positive()).min(1).optional(),
  repositories: z.array(z.string().min(1).max(100)).min(1).optional(),
  require_repositories: z.boolean().optional(),
});

/**
 * A redirect URI a caller may exchange codes for: absolute, no fragment (RFC 6749 §3.1.2), no
 * userinfo. Kept as written: GHES compares the `redirect_uri` it is sent as a string.
 */
const redirectUriSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.href === value && url.hash === '' && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must be an absolute URL in canonical form, without fragment or user name');

const policyEntrySchema: z.ZodType<CallerPolicyEntry> = z.strictObject({
  apps: z.array(z.string()).min(1),
  operations: z.array(z.enum(OPERATIONS)).min(1),
  default_app: z.string().optional(),
  scoped: scopedCeilingSchema.optional(),
  redirect_uris: z.array(redirectUriSchema).min(1).max(100).optional(),
  authorization_scopes: z
    .array(z.string().regex(/^[a-z][a-z0-9_:]{0,63}$/, 'is not an OAuth scope'))
    .min(1)
    .optional(),
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
export const FINGERPRINT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A rate-limit key built from one of these would put a credential into keys and logs. */
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

/** INTROSPECTION_SIGNING_KEYS: one private JWK or a JWK set. */
export const signingKeysSchema = json(z.union([jwksSchema, z.record(z.string(), z.unknown())]));

const ghesVersionSchema = blankIsUnset(
  z
    .string()
    .default('3.22')
    .transform((label, ctx) => {
      const version = parseGhesVersion(label);
      if (version.ok) return version.value;
      ctx.addIssue({ code: 'custom', message: version.error });
      return z.NEVER;
    }),
);

export const varsSchema = z.object({
  GHES_BASE_URL: secureUrl()
    .transform((u) => u.replace(/\/+$/, ''))
    .refine((u) => u.endsWith('/api/v3'), 'must end with /api/v3'),
  /** The GHES web host for `/login/oauth/access_token`; default: GHES_BASE_URL without `/api/v3`. */
  GHES_WEB_URL: optional(
    secureUrl()
      .transform((u) => u.replace(/\/+$/, ''))
      .refine((u) => !/[?#]/.test(u), 'must have no query or fragment')
      .refine((u) => !u.endsWith('/api/v3'), 'is the web host, not the API URL (no /api/v3)'),
  ),
  GHES_VERSION: ghesVersionSchema,
  /** `auto`: body style where the version has it (2.20+), legacy path style before. */
  GHES_API_STYLE: blankIsUnset(z.enum(['auto', 'body', 'legacy']).default('auto')),
  GHES_TIMEOUT_MS: intVar(2000, 50, 60_000),
  GHES_DEADLINE_MS: intVar(5000, 100, 120_000),
  /** A larger GHES answer is cancelled unread; an authorization is a few KB, an isolate 128 MB. */
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
  CALLER_CLOCK_TOLERANCE_S: intVar(MAX_CLOCK_TOLERANCE_S, 0, MAX_CLOCK_TOLERANCE_S),
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
  INTROSPECTION_RATE_LIMIT_PERIOD_S: periodVar(),
  MUTATION_RATE_LIMIT_PERIOD_S: periodVar(),
  CLIENT_RATE_LIMIT_PERIOD_S: periodVar(),
  USER_LOGIN_RATE_LIMIT_PERIOD_S: periodVar(),
  CLIENT_ADDRESS_HEADER: clientAddressHeaderSchema,
  CACHE_POSITIVE_TTL_S: intVar(60, 1, 86_400),
  CACHE_NEGATIVE_TTL_S: intVar(60, 1, 86_400),
  CACHE_L1_MAX_ENTRIES: intVar(10_000, 0, 1_000_000),
  CACHE_STALE_IF_ERROR_S: intVar(0, 0, 3600),
  /** The RFC 8414 / RFC 9701 issuer and published URLs: never the request's Host header. */
  PUBLIC_URL: optional(secureUrl({ issuer: true })),
  /** `true` only for local development: PUBLIC_URL may then default to LOCAL_DEV_PUBLIC_URL. */
  LOCAL_DEV: z
    .preprocess(
      // A TOML boolean arrives as one; '' means unset, as for every var.
      (v) => (typeof v === 'boolean' ? String(v) : v === '' ? undefined : v),
      z.enum(['true', 'false'], 'must be "true" or "false"').default('false'),
    )
    .transform((v) => v === 'true'),
  MAX_BODY_BYTES: intVar(16_384, 1024, 1_048_576),
});

export type Vars = z.infer<typeof varsSchema>;
