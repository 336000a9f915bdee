/**
 * parseConfig: the gateway's configuration from a Worker `env`, parsed once per isolate
 * (src/index.ts) and checked completely here, so that a typo answers a clear `misconfigured`
 * instead of failing deep inside a request. Secrets are read here and nowhere else; the parsed
 * config must never be logged as a whole.
 */
import * as v from 'valibot';
import { err, ok, type Result } from '../lib/result';
import { withoutValue } from '../lib/schema';
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
function checkRelations(vars: Vars, issue: Issue): void {
  if (vars.PUBLIC_URL === undefined && !vars.LOCAL_DEV)
    issue(
      ['PUBLIC_URL'],
      'must be set to the gateway\'s public https origin: the issuer and published URLs never follow the Host header (only LOCAL_DEV = "true" may leave it empty)',
    );
  if ((vars.CALLER_JWKS === undefined) === (vars.CALLER_JWKS_URL === undefined))
    issue(['CALLER_JWKS'], 'set exactly one of CALLER_JWKS (inline JSON) and CALLER_JWKS_URL');

  const names = new Set<string>();
  const ids = new Set<string>();
  vars.APPS.forEach((app, i) => {
    if (names.has(app.name)) issue(['APPS', i, 'name'], 'duplicate app name');
    if (ids.has(app.client_id)) issue(['APPS', i, 'client_id'], 'duplicate client_id');
    // GHES's Authorizations API takes an OAuth app's client key; GitHub Apps have no such tokens.
    if (app.authorizations_api === true && app.kind !== 'oauth_app')
      issue(['APPS', i, 'authorizations_api'], 'is only for OAuth apps (kind "oauth_app")');
    names.add(app.name);
    ids.add(app.client_id);
  });

  const knownPermissions = scopedPermissions(vars.GHES_VERSION);
  for (const [sub, entry] of Object.entries(vars.CALLER_POLICY)) {
    const ceiling = entry.scoped;
    if (ceiling?.permissions !== undefined && knownPermissions !== undefined)
      for (const name of Object.keys(ceiling.permissions))
        if (!Object.hasOwn(knownPermissions, name))
          issue(
            ['CALLER_POLICY', sub, 'scoped', 'permissions', name],
            `is not a scoped-token permission of GHES ${vars.GHES_VERSION.label}`,
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

  const hasPolicy = (sub: string) => Object.hasOwn(vars.CALLER_POLICY, sub);
  const accessParts = [vars.ACCESS_TEAM_DOMAIN, vars.ACCESS_AUD, vars.ACCESS_SUBJECTS];
  if (accessParts.some((p) => p !== undefined) && accessParts.some((p) => p === undefined))
    issue(
      ['ACCESS_TEAM_DOMAIN'],
      'set all of ACCESS_TEAM_DOMAIN, ACCESS_AUD and ACCESS_SUBJECTS, or none (Access off)',
    );
  if (vars.ACCESS_SUBJECTS !== undefined) {
    if (Object.keys(vars.ACCESS_SUBJECTS).length === 0)
      issue(['ACCESS_SUBJECTS'], 'maps no identity; leave it empty to turn Access off');
    for (const [identity, sub] of Object.entries(vars.ACCESS_SUBJECTS))
      if (!hasPolicy(sub))
        issue(['ACCESS_SUBJECTS', identity], `"${sub}" has no CALLER_POLICY entry`);
  }
  if (vars.MTLS_CALLERS !== undefined) {
    if (Object.keys(vars.MTLS_CALLERS).length === 0)
      issue(['MTLS_CALLERS'], 'maps no certificate; leave it empty to turn mTLS off');
    const seen = new Set<string>();
    for (const [fingerprint, sub] of Object.entries(vars.MTLS_CALLERS)) {
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

function describe(issues: readonly v.BaseIssue<unknown>[]): string[] {
  // Messages name the var and what is wrong, never the value (a value may be a secret).
  return issues.map(
    (i) => `${i.path?.map((p) => String(p.key)).join('.') || '(env)'}: ${i.message}`,
  );
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
function readSecrets(vars: Vars, env: Record<string, unknown>, errors: string[]) {
  const apps = new Map<string, AppConfig>();
  for (const app of vars.APPS) {
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
    const keys = v.safeParse(signingKeysSchema, env['INTROSPECTION_SIGNING_KEYS']);
    if (!keys.success) {
      errors.push('INTROSPECTION_SIGNING_KEYS: must be a private JWK or a JWK set (JSON)');
    } else {
      const list =
        'keys' in keys.output && Array.isArray(keys.output.keys) ? keys.output.keys : [keys.output];
      signingKeys = list as Record<string, unknown>[];
      signingKeys.forEach((k, i) => {
        if (typeof k['kid'] !== 'string' || typeof k['d'] !== 'string')
          errors.push(`INTROSPECTION_SIGNING_KEYS.${i}: needs "kid" and the private part "d"`);
      });
    }
  }
  // RFC 9701 §5: signed answers carry `iss`; it must be the name verifiers were configured with,
  // even on a dev server.
  if (signingKeys.length > 0 && vars.PUBLIC_URL === undefined)
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
  const parsed = v.safeParse(varsSchema, env, { message: withoutValue });
  if (!parsed.success) return err([...placeholders, ...describe(parsed.issues)]);
  const vars = parsed.output;
  const related: string[] = [];
  checkRelations(vars, (path, message) => related.push(`${path.join('.')}: ${message}`));
  if (related.length > 0) return err([...placeholders, ...related]);
  const errors: string[] = [...placeholders];
  const { apps, pepper, signingKeys } = readSecrets(vars, env, errors);
  const metrics = readMetrics(env, errors);
  const apiStyle = resolveApiStyle(vars.GHES_VERSION, vars.GHES_API_STYLE);
  if (!apiStyle.ok) errors.push(`GHES_API_STYLE: ${apiStyle.error}`);
  if (errors.length > 0 || !apiStyle.ok) return err(errors);
  const { ACCESS_TEAM_DOMAIN: teamDomain, ACCESS_AUD: audience, ACCESS_SUBJECTS: subjects } = vars;
  return ok({
    ghes: {
      baseUrl: vars.GHES_BASE_URL,
      webUrl: vars.GHES_WEB_URL ?? vars.GHES_BASE_URL.slice(0, -'/api/v3'.length),
      version: vars.GHES_VERSION,
      apiStyle: apiStyle.value,
      timeoutMs: vars.GHES_TIMEOUT_MS,
      deadlineMs: Math.max(vars.GHES_DEADLINE_MS, vars.GHES_TIMEOUT_MS),
      maxResponseBytes: vars.GHES_MAX_RESPONSE_BYTES,
      breaker: { threshold: vars.BREAKER_THRESHOLD, cooldownMs: vars.BREAKER_COOLDOWN_MS },
      credentialSuspectAfter404s: vars.CREDENTIAL_SUSPECT_AFTER_404S,
    },
    apps,
    caller: {
      issuer: vars.CALLER_ISSUER,
      audience: vars.CALLER_AUDIENCE,
      algorithms: vars.CALLER_ALGORITHMS,
      jwks: vars.CALLER_JWKS,
      jwksUrl: vars.CALLER_JWKS_URL,
      clockToleranceS: vars.CALLER_CLOCK_TOLERANCE_S,
      maxTokenAgeS: vars.CALLER_MAX_TOKEN_AGE_S,
      policy: vars.CALLER_POLICY,
      access:
        teamDomain !== undefined && audience !== undefined && subjects !== undefined
          ? { teamDomain, audience, subjects }
          : undefined,
      mtls:
        vars.MTLS_CALLERS !== undefined
          ? {
              callers: new Map(
                Object.entries(vars.MTLS_CALLERS).map(([fingerprint, sub]) => [
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
        periodS: vars.INTROSPECTION_RATE_LIMIT_PERIOD_S,
      },
      mutation: {
        binding: RATE_LIMIT_BINDINGS.mutation,
        periodS: vars.MUTATION_RATE_LIMIT_PERIOD_S,
      },
      client: {
        binding: RATE_LIMIT_BINDINGS.client,
        periodS: vars.CLIENT_RATE_LIMIT_PERIOD_S,
        header: vars.CLIENT_ADDRESS_HEADER,
      },
      userLogin: {
        binding: RATE_LIMIT_BINDINGS.userLogin,
        periodS: vars.USER_LOGIN_RATE_LIMIT_PERIOD_S,
      },
    },
    cache: {
      positiveTtlS: vars.CACHE_POSITIVE_TTL_S,
      negativeTtlS: vars.CACHE_NEGATIVE_TTL_S,
      l1MaxEntries: vars.CACHE_L1_MAX_ENTRIES,
      staleIfErrorS: vars.CACHE_STALE_IF_ERROR_S,
      pepper,
    },
    introspection: { signingKeys },
    publicUrl: (vars.PUBLIC_URL ?? LOCAL_DEV_PUBLIC_URL).replace(/\/+$/, ''),
    maxBodyBytes: vars.MAX_BODY_BYTES,
    logSampleHitsPercent: vars.LOG_SAMPLE_HITS,
    localDev: vars.LOCAL_DEV,
    metrics,
  });
}
