/**
 * parseConfig: the gateway's configuration from a Worker `env`, parsed once per isolate
 * (src/index.ts) and checked completely here, so that a typo answers a clear `misconfigured`
 * instead of failing deep inside a request. Secrets are read here and nowhere else; the parsed
 * config must never be logged as a whole.
 */
import type { z } from 'zod';
import { err, ok, type Result } from '../lib/result';
import { resolveApiStyle, scopedPermissions } from './ghes-releases';
import {
  FINGERPRINT,
  normalizeFingerprint,
  signingKeysSchema,
  varsSchema,
  type Vars,
} from './schema';
import {
  LOCAL_DEV_PUBLIC_URL,
  METRICS_BINDING,
  MIN_PEPPER_LENGTH,
  MIN_WEBHOOK_SECRET_LENGTH,
  RATE_LIMIT_BINDINGS,
  type AppConfig,
  type GatewayConfig,
} from './types';
import { placeholderErrors } from './urls';

type Issue = (path: (string | number)[], message: string) => void;

/** Rules between vars: what one var names must exist in another. */
function checkRelations(v: Vars, issue: Issue): void {
  if (v.PUBLIC_URL === undefined && !v.LOCAL_DEV)
    issue(
      ['PUBLIC_URL'],
      'must be set to the gateway\'s public https origin: the issuer and published URLs never follow the Host header (only LOCAL_DEV = "true" may leave it empty)',
    );
  if ((v.CALLER_JWKS === undefined) === (v.CALLER_JWKS_URL === undefined))
    issue(['CALLER_JWKS'], 'set exactly one of CALLER_JWKS (inline JSON) and CALLER_JWKS_URL');

  const names = new Set<string>();
  const ids = new Set<string>();
  v.APPS.forEach((app, i) => {
    if (names.has(app.name)) issue(['APPS', i, 'name'], 'duplicate app name');
    if (ids.has(app.client_id)) issue(['APPS', i, 'client_id'], 'duplicate client_id');
    // GHES's Authorizations API takes an OAuth app's client key; GitHub Apps have no such tokens.
    if (app.authorizations_api === true && app.kind !== 'oauth_app')
      issue(['APPS', i, 'authorizations_api'], 'is only for OAuth apps (kind "oauth_app")');
    names.add(app.name);
    ids.add(app.client_id);
  });

  const knownPermissions = scopedPermissions(v.GHES_VERSION);
  for (const [sub, entry] of Object.entries(v.CALLER_POLICY)) {
    const ceiling = entry.scoped;
    if (ceiling?.permissions !== undefined && knownPermissions !== undefined)
      for (const name of Object.keys(ceiling.permissions))
        if (!Object.hasOwn(knownPermissions, name))
          issue(
            ['CALLER_POLICY', sub, 'scoped', 'permissions', name],
            `is not a scoped-token permission of GHES ${v.GHES_VERSION.label}`,
          );
    if (ceiling?.repositories !== undefined && ceiling.require_repositories === false)
      issue(
        ['CALLER_POLICY', sub, 'scoped', 'require_repositories'],
        'cannot be false when repositories is set (a repository ceiling always requires repositories)',
      );
    // Without its own list a caller could exchange codes sent to any service's callback.
    if (entry.operations.includes('code_exchange') && entry.redirect_uris === undefined)
      issue(
        ['CALLER_POLICY', sub, 'redirect_uris'],
        'must list the redirect URIs this caller may exchange codes for (it has code_exchange)',
      );
    for (const app of entry.apps)
      if (app !== '*' && !names.has(app))
        issue(['CALLER_POLICY', sub, 'apps'], `unknown app "${app}"`);
    const fallback = entry.default_app;
    if (
      fallback !== undefined &&
      (!names.has(fallback) || !(entry.apps.includes('*') || entry.apps.includes(fallback)))
    )
      issue(
        ['CALLER_POLICY', sub, 'default_app'],
        `default_app "${fallback}" is not a configured app this caller may use`,
      );
  }

  const hasPolicy = (sub: string) => Object.hasOwn(v.CALLER_POLICY, sub);
  const accessParts = [v.ACCESS_TEAM_DOMAIN, v.ACCESS_AUD, v.ACCESS_SUBJECTS];
  if (accessParts.some((p) => p !== undefined) && accessParts.some((p) => p === undefined))
    issue(
      ['ACCESS_TEAM_DOMAIN'],
      'set all of ACCESS_TEAM_DOMAIN, ACCESS_AUD and ACCESS_SUBJECTS, or none (Access off)',
    );
  if (v.ACCESS_SUBJECTS !== undefined) {
    if (Object.keys(v.ACCESS_SUBJECTS).length === 0)
      issue(['ACCESS_SUBJECTS'], 'maps no identity; leave it empty to turn Access off');
    for (const [identity, sub] of Object.entries(v.ACCESS_SUBJECTS))
      if (!hasPolicy(sub))
        issue(['ACCESS_SUBJECTS', identity], `"${sub}" has no CALLER_POLICY entry`);
  }
  if (v.MTLS_CALLERS !== undefined) {
    if (Object.keys(v.MTLS_CALLERS).length === 0)
      issue(['MTLS_CALLERS'], 'maps no certificate; leave it empty to turn mTLS off');
    const seen = new Set<string>();
    for (const [fingerprint, sub] of Object.entries(v.MTLS_CALLERS)) {
      const normalized = normalizeFingerprint(fingerprint);
      if (!FINGERPRINT.test(normalized))
        issue(
          ['MTLS_CALLERS', fingerprint],
          'is not a SHA-256 (64 hex) or SHA-1 (40 hex) fingerprint',
        );
      else if (seen.has(normalized)) issue(['MTLS_CALLERS', fingerprint], 'repeats a fingerprint');
      seen.add(normalized);
      if (!hasPolicy(sub))
        issue(['MTLS_CALLERS', fingerprint], `"${sub}" has no CALLER_POLICY entry`);
    }
  }
}

const configSchema = varsSchema.superRefine((v, ctx) =>
  checkRelations(v, (path, message) => ctx.addIssue({ code: 'custom', path, message })),
);

function describe(issues: readonly z.core.$ZodIssue[]): string[] {
  // Messages name the var and what is wrong, never the value (a value may be a secret).
  return issues.map((i) => `${i.path.map(String).join('.') || '(env)'}: ${i.message}`);
}

/** A GitHub App's webhook secret; GHES sends OAuth apps no webhooks (docs/webhooks.md). */
function readWebhookSecret(
  app: Vars['APPS'][number],
  env: Record<string, unknown>,
  errors: string[],
): string | undefined {
  const binding = app.webhook_secret_binding;
  if (binding === undefined) return undefined;
  if (app.kind !== 'github_app') {
    errors.push(`APPS.${app.name}: webhook_secret_binding is for GitHub Apps only`);
    return undefined;
  }
  const secret = env[binding];
  if (typeof secret !== 'string' || secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    errors.push(
      `APPS.${app.name}: secret ${binding} must be set to at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`,
    );
    return undefined;
  }
  return secret;
}

/** The secrets named by vars or fixed by name. */
function readSecrets(v: Vars, env: Record<string, unknown>, errors: string[]) {
  const apps = new Map<string, AppConfig>();
  for (const app of v.APPS) {
    const secret = env[app.client_secret_binding];
    if (typeof secret !== 'string' || secret.length === 0) {
      errors.push(`APPS.${app.name}: secret ${app.client_secret_binding} is not set`);
      continue;
    }
    const webhookSecret = readWebhookSecret(app, env, errors);
    apps.set(app.name, {
      name: app.name,
      clientId: app.client_id,
      kind: app.kind,
      clientSecret: secret,
      ...(app.authorizations_api === true && { authorizationsApi: true }),
      ...(webhookSecret !== undefined && { webhookSecret }),
    });
  }

  const pepper = env['CACHE_PEPPER'];
  if (typeof pepper !== 'string' || pepper.length < MIN_PEPPER_LENGTH)
    errors.push(`CACHE_PEPPER: secret must be set to at least ${MIN_PEPPER_LENGTH} characters`);

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
  return { apps, pepper: typeof pepper === 'string' ? pepper : '', signingKeys };
}

/** The optional Analytics Engine binding: absent is fine, anything but a dataset is not. */
function readMetrics(env: Record<string, unknown>, errors: string[]) {
  const binding = env[METRICS_BINDING];
  if (binding === undefined) return undefined;
  const dataset = binding as Partial<AnalyticsEngineDataset> | null;
  if (typeof dataset?.writeDataPoint === 'function') return binding as AnalyticsEngineDataset;
  errors.push(`${METRICS_BINDING}: must be an Analytics Engine dataset binding, or left out`);
  return undefined;
}

/** Pure: the whole configuration, or every error found (each names a var, never a value). */
export function parseConfig(env: Record<string, unknown>): Result<GatewayConfig, string[]> {
  const placeholders = placeholderErrors(env);
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) return err([...placeholders, ...describe(parsed.error.issues)]);
  const v = parsed.data;
  const errors: string[] = [...placeholders];
  const { apps, pepper, signingKeys } = readSecrets(v, env, errors);
  const metrics = readMetrics(env, errors);
  const apiStyle = resolveApiStyle(v.GHES_VERSION, v.GHES_API_STYLE);
  if (!apiStyle.ok) errors.push(`GHES_API_STYLE: ${apiStyle.error}`);
  if (errors.length > 0 || !apiStyle.ok) return err(errors);
  const { ACCESS_TEAM_DOMAIN: teamDomain, ACCESS_AUD: audience, ACCESS_SUBJECTS: subjects } = v;
  return ok({
    ghes: {
      baseUrl: v.GHES_BASE_URL,
      webUrl: v.GHES_WEB_URL ?? v.GHES_BASE_URL.slice(0, -'/api/v3'.length),
      version: v.GHES_VERSION,
      apiStyle: apiStyle.value,
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
        teamDomain !== undefined && audience !== undefined && subjects !== undefined
          ? { teamDomain, audience, subjects }
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
        periodS: v.INTROSPECTION_RATE_LIMIT_PERIOD_S,
      },
      mutation: {
        binding: RATE_LIMIT_BINDINGS.mutation,
        periodS: v.MUTATION_RATE_LIMIT_PERIOD_S,
      },
      client: {
        binding: RATE_LIMIT_BINDINGS.client,
        periodS: v.CLIENT_RATE_LIMIT_PERIOD_S,
        header: v.CLIENT_ADDRESS_HEADER,
      },
      userLogin: {
        binding: RATE_LIMIT_BINDINGS.userLogin,
        periodS: v.USER_LOGIN_RATE_LIMIT_PERIOD_S,
      },
    },
    cache: {
      positiveTtlS: v.CACHE_POSITIVE_TTL_S,
      negativeTtlS: v.CACHE_NEGATIVE_TTL_S,
      l1MaxEntries: v.CACHE_L1_MAX_ENTRIES,
      staleIfErrorS: v.CACHE_STALE_IF_ERROR_S,
      pepper,
    },
    introspection: { signingKeys },
    publicUrl: (v.PUBLIC_URL ?? LOCAL_DEV_PUBLIC_URL).replace(/\/+$/, ''),
    maxBodyBytes: v.MAX_BODY_BYTES,
    localDev: v.LOCAL_DEV,
    metrics,
  });
}
