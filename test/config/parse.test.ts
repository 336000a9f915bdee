/**
 * parseConfig (src/config), pure: a valid environment, every way a var can be wrong (the error
 * names the var, never its value: a value may be a secret), and the whole gateway answering a
 * misconfiguration with a 500 problem that names nothing secret.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { buildGateway, createWorker } from '../../src/index';
import { TestClock } from '../helpers/clock';
import { createTestCallerKeys, withOverrides } from '../helpers/caller';
import { TEST_PUBLIC_EC_JWK } from './fixtures';
import { executionContext } from '../helpers/execution-context';

const OAUTH_SECRET = 'oauth-client-secret-4f1c9e2b7a6d5c3e8f0a';
const GH_APP_SECRET = 'github-app-client-secret-9b8a7c6d5e4f3a2b1c0d';
const PEPPER = 'cache-pepper-value-0123456789abcdef0123456789abcdef';
const SECRETS = [OAUTH_SECRET, GH_APP_SECRET, PEPPER];

const APPS = [
  {
    name: 'demo-oauth',
    client_id: '5f2d4b8a9c1e3f607a8b',
    kind: 'oauth_app',
    client_secret_binding: 'DEMO_OAUTH_CLIENT_SECRET',
  },
  {
    name: 'demo-github-app',
    client_id: 'Iv1.9d2c5e8f1a3b4c6d',
    kind: 'github_app',
    client_secret_binding: 'DEMO_GITHUB_APP_CLIENT_SECRET',
  },
];
const POLICY = {
  'svc-demo': { apps: ['*'], operations: ['check', 'reset'], default_app: 'demo-oauth' },
  'svc-readonly': { apps: ['demo-oauth'], operations: ['check'] },
};
const JWKS = {
  keys: [{ ...TEST_PUBLIC_EC_JWK, alg: 'ES256', use: 'sig' }],
};

/** The smallest valid environment: every other var takes its default. */
function baseEnv(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const env: Record<string, unknown> = {
    GHES_BASE_URL: 'https://ghes.example.com/api/v3',
    APPS: JSON.stringify(APPS),
    DEMO_OAUTH_CLIENT_SECRET: OAUTH_SECRET,
    DEMO_GITHUB_APP_CLIENT_SECRET: GH_APP_SECRET,
    CALLER_ISSUER: 'https://callers.example.com',
    CALLER_AUDIENCE: 'ghes-token-gateway',
    CALLER_JWKS: JSON.stringify(JWKS),
    CALLER_POLICY: JSON.stringify(POLICY),
    CACHE_PEPPER: PEPPER,
    PUBLIC_URL: 'https://gateway.example.com',
  };
  return withOverrides(env, overrides);
}

function errorsOf(env: Record<string, unknown>): string[] {
  const result = parseConfig(env);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.error;
}

function parsed(env: Record<string, unknown>) {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(`expected a valid config: ${result.error.join('; ')}`);
  return result.value;
}

describe('a valid environment', () => {
  it('parses with the documented defaults', () => {
    const config = parsed(baseEnv());
    expect(config.ghes).toMatchObject({
      baseUrl: 'https://ghes.example.com/api/v3',
      version: { major: 3, minor: 22, label: '3.22' },
      // `auto` is resolved here: body style wherever the version has it.
      apiStyle: 'body',
      timeoutMs: 2000,
      deadlineMs: 5000,
      maxResponseBytes: 1_048_576,
      breaker: { threshold: 5, cooldownMs: 10_000 },
    });
    expect(config.caller).toMatchObject({
      issuer: 'https://callers.example.com',
      audience: 'ghes-token-gateway',
      algorithms: ['ES256'],
      jwks: JWKS,
      jwksUrl: undefined,
      clockToleranceS: 30,
      maxTokenAgeS: 0,
      policy: POLICY,
    });
    expect(config.cache).toEqual({
      positiveTtlS: 60,
      negativeTtlS: 60,
      l1MaxEntries: 10_000,
      staleIfErrorS: 0,
      pepper: PEPPER,
    });
    expect(config.maxBodyBytes).toBe(16_384);
    expect(config.publicUrl).toBe('https://gateway.example.com');
    expect(config.introspection.signingKeys).toEqual([]);
    expect([...config.apps.values()]).toEqual([
      {
        name: 'demo-oauth',
        clientId: '5f2d4b8a9c1e3f607a8b',
        kind: 'oauth_app',
        clientSecret: OAUTH_SECRET,
      },
      {
        name: 'demo-github-app',
        clientId: 'Iv1.9d2c5e8f1a3b4c6d',
        kind: 'github_app',
        clientSecret: GH_APP_SECRET,
      },
    ]);
  });

  it('metrics and local dev hints are off unless configured', () => {
    const config = parsed(baseEnv());
    expect(config.metrics).toBeUndefined();
    expect(config.localDev).toBe(false);
    const dataset: AnalyticsEngineDataset = { writeDataPoint: () => undefined };
    const configured = parsed(baseEnv({ METRICS: dataset, LOCAL_DEV: 'true' }));
    expect(configured.metrics).toBe(dataset);
    expect(configured.localDev).toBe(true);
  });

  it('takes every var when given', () => {
    const config = parsed(
      baseEnv({
        GHES_BASE_URL: 'https://ghes.example.com/api/v3///',
        GHES_VERSION: '3.3',
        GHES_API_STYLE: 'legacy',
        GHES_TIMEOUT_MS: '1500',
        GHES_DEADLINE_MS: '4000',
        GHES_MAX_RESPONSE_BYTES: '65536',
        BREAKER_THRESHOLD: '9',
        BREAKER_COOLDOWN_MS: '2000',
        CALLER_ALGORITHMS: '["ES256","EdDSA"]',
        CALLER_CLOCK_TOLERANCE_S: '5',
        CALLER_MAX_TOKEN_AGE_S: '3600',
        CACHE_POSITIVE_TTL_S: '120',
        CACHE_NEGATIVE_TTL_S: '30',
        CACHE_L1_MAX_ENTRIES: '0',
        CACHE_STALE_IF_ERROR_S: '300',
        PUBLIC_URL: 'https://tokens.example.com/',
        MAX_BODY_BYTES: '65536',
      }),
    );
    expect(config.ghes).toMatchObject({
      baseUrl: 'https://ghes.example.com/api/v3',
      version: { major: 3, minor: 3, label: '3.3' },
      apiStyle: 'legacy',
      timeoutMs: 1500,
      deadlineMs: 4000,
      maxResponseBytes: 65_536,
      breaker: { threshold: 9, cooldownMs: 2000 },
    });
    expect(config.caller.algorithms).toEqual(['ES256', 'EdDSA']);
    expect(config.caller.clockToleranceS).toBe(5);
    expect(config.caller.maxTokenAgeS).toBe(3600);
    expect(config.cache).toMatchObject({
      positiveTtlS: 120,
      negativeTtlS: 30,
      l1MaxEntries: 0,
      staleIfErrorS: 300,
    });
    expect(config.publicUrl).toBe('https://tokens.example.com');
    expect(config.maxBodyBytes).toBe(65_536);
  });

  it('accepts APPS and CALLER_POLICY as TOML tables (objects) as well as JSON strings', () => {
    const fromJson = parsed(baseEnv());
    const fromTables = parsed(baseEnv({ APPS, CALLER_POLICY: POLICY, CALLER_JWKS: JWKS }));
    expect(fromTables).toEqual(fromJson);
  });

  it('never lets the deadline be shorter than one attempt', () => {
    const config = parsed(baseEnv({ GHES_TIMEOUT_MS: '3000', GHES_DEADLINE_MS: '1000' }));
    expect(config.ghes.deadlineMs).toBe(3000);
  });

  it.each(['2.18', '2.22', '3.0', '3.22'])('accepts GHES_VERSION %s', (version) => {
    expect(parsed(baseEnv({ GHES_VERSION: version })).ghes.version.label).toBe(version);
  });

  it('accepts CALLER_JWKS_URL instead of CALLER_JWKS', () => {
    const config = parsed(
      baseEnv({
        CALLER_JWKS: undefined,
        CALLER_JWKS_URL: 'https://callers.example.com/.well-known/jwks.json',
      }),
    );
    expect(config.caller.jwks).toBeUndefined();
    expect(config.caller.jwksUrl).toBe('https://callers.example.com/.well-known/jwks.json');
  });
});

describe('GHES_API_STYLE against GHES_VERSION', () => {
  it.each([
    ['2.19', 'auto', 'legacy'],
    ['3.3', 'auto', 'body'],
    ['2.20', 'auto', 'body'],
    ['2.20', 'legacy', 'legacy'],
  ])('GHES %s with %s calls %s style', (version, style, resolved) => {
    expect(parsed(baseEnv({ GHES_VERSION: version, GHES_API_STYLE: style })).ghes.apiStyle).toBe(
      resolved,
    );
  });

  it.each([
    ['3.4', 'legacy', 'GHES_API_STYLE: GHES 3.4 has no legacy path-style token endpoints (≤ 3.3)'],
    ['2.19', 'body', 'GHES_API_STYLE: GHES 2.19 has no body-style token endpoints (2.20+)'],
  ])('GHES %s refuses %s style', (version, style, message) => {
    expect(errorsOf(baseEnv({ GHES_VERSION: version, GHES_API_STYLE: style }))).toEqual([message]);
  });
});

describe('a wrong var: the error names it and never its value', () => {
  const cases: [string, unknown][] = [
    ['GHES_BASE_URL', 'ftp://ghes.example.com/api/v3'],
    ['GHES_BASE_URL', 'https://ghes.example.com/api/v4'],
    ['GHES_BASE_URL', 'not a url at all, really'],
    ['GHES_BASE_URL', undefined],
    ['GHES_VERSION', '3.23'],
    ['GHES_VERSION', '2.17'],
    ['GHES_VERSION', '4.0'],
    ['GHES_VERSION', 'three-twenty-two'],
    ['GHES_VERSION', '3.22.1'],
    ['GHES_API_STYLE', 'graphql-please'],
    ['GHES_TIMEOUT_MS', '10'],
    ['GHES_TIMEOUT_MS', 'a-while-longer'],
    ['GHES_TIMEOUT_MS', '1500.5'],
    ['GHES_TIMEOUT_MS', '99999999'],
    ['GHES_DEADLINE_MS', '50'],
    ['GHES_MAX_RESPONSE_BYTES', '1024'],
    ['GHES_MAX_RESPONSE_BYTES', 'one-megabyte'],
    ['GHES_MAX_RESPONSE_BYTES', '134217728'],
    ['BREAKER_THRESHOLD', '0'],
    ['BREAKER_COOLDOWN_MS', '1'],
    ['APPS', '[]'],
    ['APPS', undefined],
    ['APPS', '{"name":"demo-oauth"}'],
    ['CALLER_ISSUER', ''],
    ['CALLER_ISSUER', undefined],
    ['CALLER_AUDIENCE', ''],
    ['CALLER_ALGORITHMS', '["HS256"]'],
    ['CALLER_ALGORITHMS', '["none"]'],
    ['CALLER_ALGORITHMS', 'ES256-not-json'],
    ['CALLER_ALGORITHMS', '[]'],
    ['CALLER_JWKS', '{"keys":[]}'],
    ['CALLER_JWKS', '{"keys": not json'],
    ['CALLER_CLOCK_TOLERANCE_S', '31'],
    ['CALLER_CLOCK_TOLERANCE_S', '-1'],
    ['CALLER_MAX_TOKEN_AGE_S', '-5'],
    ['CALLER_POLICY', '{"svc-x":{"apps":[],"operations":["check"]}}'],
    ['CALLER_POLICY', '{"svc-x":{"apps":["*"],"operations":["administer"]}}'],
    ['CALLER_POLICY', '{"svc-x":{"apps":["*"],"operations":["check"],"superuser":true}}'],
    ['CALLER_POLICY', undefined],
    ['CACHE_POSITIVE_TTL_S', '0'],
    ['CACHE_NEGATIVE_TTL_S', '100000'],
    ['CACHE_L1_MAX_ENTRIES', '-1'],
    ['CACHE_STALE_IF_ERROR_S', '3601'],
    ['PUBLIC_URL', 'javascript:alert(1)'],
    ['MAX_BODY_BYTES', '100'],
    // A binding, not a var: a dataset or nothing (src/middleware/metrics.ts).
    ['METRICS', 'ghes_token_gateway'],
    ['METRICS', {}],
  ];
  it.each(cases)('%s = %j', (name, value) => {
    const errors = errorsOf(baseEnv({ [name]: value }));
    expect(errors.length).toBeGreaterThan(0);
    expect(
      errors.some((e) => e.startsWith(`${name}:`) || e.startsWith(`${name}.`)),
      errors.join('\n'),
    ).toBe(true);
    const text = errors.join('\n');
    // Values long enough to be recognisable are not quoted back.
    if (typeof value === 'string' && value.length >= 5) expect(text).not.toContain(value);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('a secret value put in the wrong var is not quoted back', () => {
    const errors = errorsOf(
      baseEnv({
        GHES_BASE_URL: OAUTH_SECRET,
        GHES_VERSION: GH_APP_SECRET,
        GHES_API_STYLE: PEPPER,
        CALLER_ALGORITHMS: OAUTH_SECRET,
      }),
    );
    expect(errors.map((e) => e.split(':')[0])).toEqual(
      expect.arrayContaining([
        'GHES_BASE_URL',
        'GHES_VERSION',
        'GHES_API_STYLE',
        'CALLER_ALGORITHMS',
      ]),
    );
    for (const secret of SECRETS) expect(errors.join('\n')).not.toContain(secret);
  });

  it('a client secret pasted into APPS (an unknown field) is named by field, not value', () => {
    const apps = [{ ...APPS[0], client_secret: OAUTH_SECRET }, APPS[1]];
    const errors = errorsOf(baseEnv({ APPS: JSON.stringify(apps) }));
    expect(errors.some((e) => e.startsWith('APPS.0') && e.includes('client_secret'))).toBe(true);
    for (const secret of SECRETS) expect(errors.join('\n')).not.toContain(secret);
  });

  it('APPS that is not JSON: "is not valid JSON", without quoting it', () => {
    const raw = `[{"name":"demo-oauth","client_secret":"${OAUTH_SECRET}"`;
    expect(errorsOf(baseEnv({ APPS: raw }))).toEqual(['APPS: is not valid JSON']);
  });

  it.each([
    ['an upper-case name', { name: 'Demo-OAuth' }, 'APPS.0.name'],
    ['a name with a slash', { name: 'demo/oauth' }, 'APPS.0.name'],
    ['an unknown kind', { kind: 'saml_app' }, 'APPS.0.kind'],
    [
      'a lower-case secret binding',
      { client_secret_binding: 'demo_secret' },
      'APPS.0.client_secret_binding',
    ],
    ['an implausible client_id', { client_id: 'has spaces in it' }, 'APPS.0.client_id'],
  ])('an app with %s is refused at %s', (_name, patch, path) => {
    const apps = [{ ...APPS[0], ...patch }, APPS[1]];
    const errors = errorsOf(baseEnv({ APPS: JSON.stringify(apps) }));
    expect(
      errors.some((e) => e.startsWith(`${path}:`)),
      errors.join('\n'),
    ).toBe(true);
  });

  it('a duplicate app name', () => {
    const apps = [APPS[0], { ...APPS[1], name: 'demo-oauth' }];
    expect(errorsOf(baseEnv({ APPS: JSON.stringify(apps) }))).toContain(
      'APPS.1.name: duplicate app name',
    );
  });

  it('a duplicate client_id', () => {
    const apps = [APPS[0], { ...APPS[1], client_id: APPS[0]?.client_id }];
    expect(errorsOf(baseEnv({ APPS: JSON.stringify(apps) }))).toContain(
      'APPS.1.client_id: duplicate client_id',
    );
  });

  it.each([
    ['DEMO_OAUTH_CLIENT_SECRET', undefined],
    ['DEMO_OAUTH_CLIENT_SECRET', ''],
    ['DEMO_OAUTH_CLIENT_SECRET', 42],
  ])('a missing app secret (%s = %j) names the app and the binding', (binding, value) => {
    const errors = errorsOf(baseEnv({ [binding]: value }));
    expect(errors).toEqual(['APPS.demo-oauth: secret DEMO_OAUTH_CLIENT_SECRET is not set']);
  });

  it('every missing secret is reported at once, without the ones that are set', () => {
    const errors = errorsOf(
      baseEnv({
        DEMO_OAUTH_CLIENT_SECRET: undefined,
        DEMO_GITHUB_APP_CLIENT_SECRET: undefined,
        CACHE_PEPPER: undefined,
      }),
    );
    expect(errors).toEqual([
      'APPS.demo-oauth: secret DEMO_OAUTH_CLIENT_SECRET is not set',
      'APPS.demo-github-app: secret DEMO_GITHUB_APP_CLIENT_SECRET is not set',
      'CACHE_PEPPER: secret must be set to at least 32 characters',
    ]);
  });

  it('a short CACHE_PEPPER is named, not quoted', () => {
    const short = 'short-pepper-value';
    const errors = errorsOf(baseEnv({ CACHE_PEPPER: short }));
    expect(errors).toEqual(['CACHE_PEPPER: secret must be set to at least 32 characters']);
  });

  it('a policy naming an unknown app', () => {
    const policy = {
      ...POLICY,
      'svc-x': { apps: ['demo-oauth', 'no-such-app'], operations: ['check'] },
    };
    const errors = errorsOf(baseEnv({ CALLER_POLICY: JSON.stringify(policy) }));
    expect(errors).toEqual(['CALLER_POLICY.svc-x.apps: unknown app "no-such-app"']);
  });

  it('a default_app the caller may not use, or that does not exist', () => {
    const policy = {
      'svc-a': { apps: ['demo-oauth'], operations: ['check'], default_app: 'demo-github-app' },
      'svc-b': { apps: ['*'], operations: ['check'], default_app: 'no-such-app' },
    };
    const errors = errorsOf(baseEnv({ CALLER_POLICY: JSON.stringify(policy) }));
    expect(errors.map((e) => e.split(':')[0])).toEqual([
      'CALLER_POLICY.svc-a.default_app',
      'CALLER_POLICY.svc-b.default_app',
    ]);
  });

  it('both JWKS sources', () => {
    const errors = errorsOf(baseEnv({ CALLER_JWKS_URL: 'https://callers.example.com/jwks.json' }));
    expect(errors).toEqual([
      'CALLER_JWKS: set exactly one of CALLER_JWKS (inline JSON) and CALLER_JWKS_URL',
    ]);
  });

  it('neither JWKS source', () => {
    const errors = errorsOf(baseEnv({ CALLER_JWKS: undefined }));
    expect(errors).toEqual([
      'CALLER_JWKS: set exactly one of CALLER_JWKS (inline JSON) and CALLER_JWKS_URL',
    ]);
  });

  it('a JWKS URL that is not http(s)', () => {
    const errors = errorsOf(
      baseEnv({ CALLER_JWKS: undefined, CALLER_JWKS_URL: 'file:///etc/jwks.json' }),
    );
    expect(errors.some((e) => e.startsWith('CALLER_JWKS_URL:'))).toBe(true);
  });

  it.each(['2.17', '3.23', '1.0', '10.0'])('GHES_VERSION %s is out of range', (version) => {
    expect(errorsOf(baseEnv({ GHES_VERSION: version }))).toEqual([
      'GHES_VERSION: must be a GHES version from 2.18 to 3.22',
    ]);
  });

  it('INTROSPECTION_SIGNING_KEYS without a private part is named, not quoted', () => {
    const publicOnly = JSON.stringify({
      kty: 'EC',
      crv: 'P-256',
      kid: 'sig-1',
      x: JWKS.keys[0]?.x,
      y: JWKS.keys[0]?.y,
    });
    expect(errorsOf(baseEnv({ INTROSPECTION_SIGNING_KEYS: publicOnly }))).toEqual([
      'INTROSPECTION_SIGNING_KEYS.0: needs "kid" and the private part "d"',
    ]);
    expect(
      errorsOf(baseEnv({ INTROSPECTION_SIGNING_KEYS: '{"d": "private-key-material-xyz"' })),
    ).toEqual(['INTROSPECTION_SIGNING_KEYS: must be a private JWK or a JWK set (JSON)']);
  });
});

describe('empty-string vars are treated as unset', () => {
  // wrangler environments do not inherit [vars], so every environment repeats every var; an
  // operator who means "default" writes "". That must behave exactly like leaving the var out.
  const OPTIONAL_VARS = [
    'GHES_VERSION',
    'GHES_API_STYLE',
    'GHES_TIMEOUT_MS',
    'GHES_DEADLINE_MS',
    'GHES_MAX_RESPONSE_BYTES',
    'BREAKER_THRESHOLD',
    'BREAKER_COOLDOWN_MS',
    'CALLER_ALGORITHMS',
    'CALLER_JWKS_URL',
    'CALLER_CLOCK_TOLERANCE_S',
    'CALLER_MAX_TOKEN_AGE_S',
    'CACHE_POSITIVE_TTL_S',
    'CACHE_NEGATIVE_TTL_S',
    'CACHE_L1_MAX_ENTRIES',
    'CACHE_STALE_IF_ERROR_S',
    'MAX_BODY_BYTES',
    'LOCAL_DEV',
  ];
  it.each(OPTIONAL_VARS)('%s = ""', (name) => {
    const unset = parseConfig(baseEnv({ [name]: undefined }));
    const empty = parseConfig(baseEnv({ [name]: '' }));
    expect(empty).toEqual(unset);
    expect(empty.ok).toBe(true);
  });

  it('the inline JWKS with CALLER_JWKS_URL = "" (as wrangler.toml writes it)', () => {
    expect(parsed(baseEnv({ CALLER_JWKS_URL: '' })).caller.jwksUrl).toBeUndefined();
  });

  it('CALLER_JWKS = "" with a JWKS URL', () => {
    const config = parsed(
      baseEnv({ CALLER_JWKS: '', CALLER_JWKS_URL: 'https://callers.example.com/jwks.json' }),
    );
    expect(config.caller.jwks).toBeUndefined();
  });
});

describe('the gateway with a bad configuration', () => {
  const ctx = executionContext();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function bindings(overrides: Record<string, unknown>): Promise<Record<string, unknown>> {
    const keys = await createTestCallerKeys();
    return {
      TOKEN_CACHE: {} as KVNamespace,
      ...baseEnv({ CALLER_JWKS: JSON.stringify(keys.jwks), ...overrides }),
    };
  }

  it.each([
    [
      'a missing app secret',
      { DEMO_GITHUB_APP_CLIENT_SECRET: undefined },
      'DEMO_GITHUB_APP_CLIENT_SECRET',
    ],
    ['APPS that is not JSON', { APPS: `[{"client_secret":"${OAUTH_SECRET}"` }, 'APPS'],
    ['a short pepper', { CACHE_PEPPER: 'too-short-pepper' }, 'CACHE_PEPPER'],
    [
      'legacy calls on GHES 3.4',
      { GHES_VERSION: '3.4', GHES_API_STYLE: 'legacy' },
      'GHES_API_STYLE',
    ],
    [
      'body-style calls on GHES 2.19',
      { GHES_VERSION: '2.19', GHES_API_STYLE: 'body' },
      'GHES_API_STYLE',
    ],
    [
      'a symmetric key in CALLER_JWKS',
      {
        CALLER_JWKS: JSON.stringify({
          keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: 'h' }],
        }),
      },
      '',
    ],
  ])(
    '%s: buildGateway refuses and every request is a 500 misconfigured problem naming nothing secret',
    async (_name, overrides, named) => {
      const env = await bindings(overrides);
      const built = buildGateway(env as Parameters<typeof buildGateway>[0]);
      expect(built.ok).toBe(false);
      if (built.ok) return;
      expect(built.error.join('\n')).toContain(named);

      const lines: string[] = [];
      vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
      vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
      for (const [path, init] of [
        [
          '/v1/apps/demo-oauth/token/check',
          {
            method: 'POST',
            body: '{"access_token":"gho_x"}',
            headers: { 'content-type': 'application/json' },
          },
        ],
        ['/healthz', {}],
      ] as const) {
        const res = await createWorker({ clock: new TestClock(Date.UTC(2026, 10, 21)) }).fetch(
          new Request(`https://gateway.test${path}`, init),
          env as Parameters<typeof buildGateway>[0],
          ctx,
        );
        const text = await res.text();
        expect(res.status).toBe(500);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const problem = JSON.parse(text) as { code: string; detail: string };
        expect(problem.code).toBe('misconfigured');
        // The caller is told where to look, not what is wrong.
        expect(text).not.toContain(named === '' ? 'oct' : named);
        for (const secret of [...SECRETS, 'c2VjcmV0LXNlY3JldC1zZWNyZXQ'])
          expect(text).not.toContain(secret);
      }
      // Operators get the reason in the log, without secrets.
      expect(lines.some((l) => l.includes('config.invalid'))).toBe(true);
      if (named !== '') expect(lines.some((l) => l.includes(named))).toBe(true);
      for (const secret of [...SECRETS, 'c2VjcmV0LXNlY3JldC1zZWNyZXQ'])
        for (const l of lines) expect(l).not.toContain(secret);
    },
  );
});
