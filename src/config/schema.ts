/**
 * The valibot schema of the Worker's vars and secrets, one field at a time. Rules that relate
 * fields to each other, and the secrets named by other vars, are checked in src/config/parse.ts.
 */
import * as v from 'valibot';
import { object, record, strictObject } from '../lib/schema';
import { parseGhesVersion } from './ghes-releases';
import {
  APP_KINDS,
  APP_NAME_PATTERN,
  CALLER_ALGORITHMS,
  MAX_CLOCK_TOLERANCE_S,
  OPERATIONS,
  PERMISSION_LEVELS,
  type CallerPolicyEntry,
} from './types';
import { accessTeamDomainSchema, secureUrl } from './urls';
import { blankIsUnset, intVar, json, list, optional, periodVar, table } from './vars';

const SECRET_BINDING = /^[A-Z][A-Z0-9_]{0,127}$/;

const secretBinding = v.pipe(
  v.string(),
  v.regex(SECRET_BINDING, 'must name a Worker secret (UPPER_SNAKE_CASE)'),
);

const appSchema = strictObject({
  name: v.pipe(
    v.string(),
    v.regex(APP_NAME_PATTERN, 'must be lower-case letters, digits and dashes'),
  ),
  client_id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,100}$/, 'is not a plausible client_id')),
  kind: v.picklist(APP_KINDS),
  client_secret_binding: secretBinding,
  /** Serve the OAuth Authorizations API for this app (OAuth apps only; it handles passwords). */
  authorizations_api: v.optional(v.boolean()),
  /** The Worker secret holding the GitHub App's webhook secret (docs/webhooks.md). */
  webhook_secret_binding: v.optional(secretBinding),
});

const name100 = v.pipe(v.string(), v.minLength(1), v.maxLength(100));

/** An empty list is refused as ambiguous: remove the field to allow any. */
const scopedCeilingSchema = strictObject({
  permissions: v.optional(
    v.pipe(
      table(
        v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]{0,63}$/, 'is not a permission name')),
        v.picklist(PERMISSION_LEVELS),
      ),
      v.check((p) => Object.keys(p).length > 0, 'must list at least one permission'),
    ),
  ),
  targets: v.optional(list(name100)),
  target_ids: v.optional(list(v.pipe(v.number(), v.safeInteger(), v.minValue(1)))),
  repositories: v.optional(list(name100)),
  require_repositories: v.optional(v.boolean()),
});

/**
 * A redirect URI a caller may exchange codes for: absolute, no fragment (RFC 6749 §3.1.2), no
 * userinfo. Kept as written: GHES compares the `redirect_uri` it is sent as a string.
 */
const redirectUriSchema = v.pipe(
  v.string(),
  v.maxLength(2048),
  v.check((value) => {
    try {
      const url = new URL(value);
      return url.href === value && url.hash === '' && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must be an absolute URL in canonical form, without fragment or user name'),
);

const policyEntrySchema: v.GenericSchema<unknown, CallerPolicyEntry> = strictObject({
  apps: list(v.string()),
  operations: list(v.picklist(OPERATIONS)),
  default_app: v.optional(v.string()),
  scoped: v.optional(scopedCeilingSchema),
  redirect_uris: v.optional(v.pipe(list(redirectUriSchema), v.maxLength(100))),
  authorization_scopes: v.optional(
    list(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_:]{0,63}$/, 'is not an OAuth scope'))),
  ),
});

/** One Access application AUD tag, or a JSON array of them. */
const accessAudienceSchema = v.pipe(
  v.unknown(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    if (typeof value !== 'string' || !value.trim().startsWith('['))
      return typeof value === 'string' ? [value] : value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      addIssue({ message: 'is not valid JSON' });
      return NEVER;
    }
  }),
  list(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:-]{1,256}$/, 'is not an Access AUD tag'))),
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
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be an HTTP header name'),
      v.toLowerCase(),
      v.check((h) => !CREDENTIAL_HEADERS.has(h), 'must not be a header that carries credentials'),
    ),
    'x-forwarded-for',
  ),
);

const jwksSchema = object({ keys: list(record(v.string(), v.unknown())) });

/** INTROSPECTION_SIGNING_KEYS: one private JWK or a JWK set. */
export const signingKeysSchema = json(v.union([jwksSchema, record(v.string(), v.unknown())]));

const ghesVersionSchema = blankIsUnset(
  v.optional(
    v.pipe(
      v.string(),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const version = parseGhesVersion(dataset.value);
        if (version.ok) return version.value;
        addIssue({ message: version.error });
        return NEVER;
      }),
    ),
    '3.22',
  ),
);

/** An https URL without trailing slashes. */
const baseUrl = v.pipe(
  secureUrl(),
  v.transform((u) => u.replace(/\/+$/, '')),
);

/** An identity → CALLER_POLICY sub map. */
function subjects(keyMax: number) {
  return json(
    table(
      v.pipe(v.string(), v.minLength(1), v.maxLength(keyMax)),
      v.pipe(v.string(), v.minLength(1)),
    ),
  );
}

export const varsSchema = v.object({
  GHES_BASE_URL: v.pipe(
    baseUrl,
    v.check((u) => u.endsWith('/api/v3'), 'must end with /api/v3'),
  ),
  /** The GHES web host for `/login/oauth/access_token`; default: GHES_BASE_URL without `/api/v3`. */
  GHES_WEB_URL: optional(
    v.pipe(
      baseUrl,
      v.check((u) => !/[?#]/.test(u), 'must have no query or fragment'),
      v.check((u) => !u.endsWith('/api/v3'), 'is the web host, not the API URL (no /api/v3)'),
    ),
  ),
  GHES_VERSION: ghesVersionSchema,
  /** `auto`: body style where the version has it (2.20+), legacy path style before. */
  GHES_API_STYLE: blankIsUnset(v.optional(v.picklist(['auto', 'body', 'legacy']), 'auto')),
  GHES_TIMEOUT_MS: intVar(2000, 50, 60_000),
  GHES_DEADLINE_MS: intVar(5000, 100, 120_000),
  /** A larger GHES answer is cancelled unread; an authorization is a few KB, an isolate 128 MB. */
  GHES_MAX_RESPONSE_BYTES: intVar(1_048_576, 16_384, 16_777_216),
  BREAKER_THRESHOLD: intVar(5, 1, 1000),
  /** Consecutive GHES 404s for one app, with no valid token between, that suggest a bad secret. */
  CREDENTIAL_SUSPECT_AFTER_404S: intVar(50, 1, 100_000),
  BREAKER_COOLDOWN_MS: intVar(10_000, 100, 600_000),
  APPS: json(list(appSchema)),
  CALLER_ISSUER: v.pipe(v.string(), v.minLength(1)),
  CALLER_AUDIENCE: v.pipe(v.string(), v.minLength(1)),
  CALLER_ALGORITHMS: blankIsUnset(
    v.optional(json(list(v.picklist(CALLER_ALGORITHMS))), () => ['ES256' as const]),
  ),
  CALLER_JWKS: optional(json(jwksSchema)),
  CALLER_JWKS_URL: optional(secureUrl()),
  CALLER_CLOCK_TOLERANCE_S: intVar(MAX_CLOCK_TOLERANCE_S, 0, MAX_CLOCK_TOLERANCE_S),
  /** Maximum caller-JWT age from `iat`; 0 means no limit (long-lived API-gateway tokens). */
  CALLER_MAX_TOKEN_AGE_S: intVar(0, 0, 10 * 365 * 86_400),
  CALLER_POLICY: json(table(v.pipe(v.string(), v.minLength(1)), policyEntrySchema)),
  /** Cloudflare Access as a caller identity source: off unless the team domain is set. */
  ACCESS_TEAM_DOMAIN: optional(accessTeamDomainSchema),
  ACCESS_AUD: optional(accessAudienceSchema),
  /** Access identity (email, service-token common_name, or sub) → CALLER_POLICY sub. */
  ACCESS_SUBJECTS: optional(subjects(320)),
  /** mTLS client-certificate fingerprint → CALLER_POLICY sub; off unless set. */
  MTLS_CALLERS: optional(subjects(200)),
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
  LOCAL_DEV: v.optional(
    v.pipe(
      v.unknown(),
      // A TOML boolean arrives as one; '' means unset, as for every var.
      v.transform((x) => (typeof x === 'boolean' ? String(x) : x === '' ? undefined : x)),
      v.optional(v.picklist(['true', 'false'], 'must be "true" or "false"'), 'false'),
      v.transform((x) => x === 'true'),
    ),
    '',
  ),
  MAX_BODY_BYTES: intVar(16_384, 1024, 1_048_576),
  /** Percent of successful cache hits that get their log line (src/middleware/audit.ts). */
  LOG_SAMPLE_HITS: intVar(100, 1, 100),
});

export type Vars = v.InferOutput<typeof varsSchema>;
