/**
 * Template placeholders fail the config (src/config/urls.ts `placeholderErrors`): a var or secret
 * that still holds `REPLACE_WITH_…` (or `REPLACE_ME` / `CHANGE_ME`) or a host under the template's
 * domain `example.internal` is refused with a message naming the var, never its value. And
 * wrangler.toml itself: its top level (local dev) parses, and each [env.*] template is refused
 * for exactly its placeholders, and parses once they are filled in.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { placeholderErrors } from '../../src/config/urls';
import wranglerToml from '../../wrangler.toml?raw';
import { TEST_PUBLIC_EC_JWK } from './fixtures';

const SECRET = 'client-secret-value-0123456789abcdef';
const PEPPER = 'cache-pepper-value-0123456789abcdef0123456789abcdef';
const JWKS = JSON.stringify({
  keys: [TEST_PUBLIC_EC_JWK],
});
const APPS = [
  {
    name: 'octo',
    client_id: 'Iv1.0123456789abcdef',
    kind: 'github_app',
    client_secret_binding: 'OCTO_SECRET',
  },
];
const POLICY = { 'svc-a': { apps: ['*'], operations: ['check'] } };

function baseEnv(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    GHES_BASE_URL: 'https://ghes.example.com/api/v3',
    APPS: JSON.stringify(APPS),
    OCTO_SECRET: SECRET,
    CALLER_ISSUER: 'https://callers.example.com',
    CALLER_AUDIENCE: 'ghes-token-gateway',
    CALLER_JWKS: JWKS,
    CALLER_POLICY: JSON.stringify(POLICY),
    CACHE_PEPPER: PEPPER,
    PUBLIC_URL: 'https://gateway.example.com',
    ...overrides,
  };
}

function errorsOf(env: Record<string, unknown>): string[] {
  const result = parseConfig(env);
  return result.ok ? [] : result.error;
}

const REPLACE = /still holds a REPLACE_WITH_… placeholder from the wrangler\.toml template/;
const DOMAIN = /still holds the placeholder domain example\.internal/;

describe('placeholders in vars and secrets', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'a client_id',
      { APPS: JSON.stringify([{ ...APPS[0], client_id: 'REPLACE_WITH_CLIENT_ID' }]) },
      'APPS',
      REPLACE,
    ],
    [
      'a client_id in APPS written as a TOML table',
      { APPS: [{ ...APPS[0], client_id: 'REPLACE_WITH_CLIENT_ID' }] },
      'APPS',
      REPLACE,
    ],
    [
      'the GHES host',
      { GHES_BASE_URL: 'https://ghes.example.internal/api/v3' },
      'GHES_BASE_URL',
      DOMAIN,
    ],
    [
      'a staging GHES host',
      { GHES_BASE_URL: 'https://ghes.staging.example.internal/api/v3' },
      'GHES_BASE_URL',
      DOMAIN,
    ],
    [
      'the caller issuer',
      { CALLER_ISSUER: 'https://sts.example.internal' },
      'CALLER_ISSUER',
      DOMAIN,
    ],
    [
      'the caller JWKS URL',
      { CALLER_JWKS: '', CALLER_JWKS_URL: 'https://sts.example.internal/.well-known/jwks.json' },
      'CALLER_JWKS_URL',
      DOMAIN,
    ],
    ['the public URL', { PUBLIC_URL: 'https://example.internal' }, 'PUBLIC_URL', DOMAIN],
    ['the audience', { CALLER_AUDIENCE: 'replace-with-audience' }, 'CALLER_AUDIENCE', REPLACE],
    [
      'a policy sub',
      { CALLER_POLICY: JSON.stringify({ REPLACE_ME: POLICY['svc-a'] }) },
      'CALLER_POLICY',
      REPLACE,
    ],
    ['a client secret', { OCTO_SECRET: 'CHANGE_ME-0123456789abcdef' }, 'OCTO_SECRET', REPLACE],
    ['the cache pepper', { CACHE_PEPPER: `changeme${'x'.repeat(40)}` }, 'CACHE_PEPPER', REPLACE],
    [
      'an Access subject',
      {
        ACCESS_TEAM_DOMAIN: 'acme.cloudflareaccess.com',
        ACCESS_AUD: 'a1b2c3',
        ACCESS_SUBJECTS: JSON.stringify({ 'ops@example.internal': 'svc-a' }),
      },
      'ACCESS_SUBJECTS',
      DOMAIN,
    ],
  ])('%s is refused, naming the var and not its value', (_why, overrides, name, message) => {
    const errors = errorsOf(baseEnv(overrides));
    expect(errors[0]).toMatch(new RegExp(`^${name}: ${message.source}`));
    const text = errors.join('\n');
    for (const value of Object.values(overrides))
      if (typeof value === 'string' && value !== '') expect(text).not.toContain(value);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(PEPPER);
  });

  it('reports every var that holds one, alongside the other errors', () => {
    const errors = errorsOf(
      baseEnv({
        GHES_BASE_URL: 'https://ghes.example.internal/api/v3',
        CALLER_ISSUER: 'REPLACE_WITH_ISSUER',
        CALLER_AUDIENCE: '',
      }),
    );
    expect(errors.map((e) => e.split(':')[0])).toEqual([
      'GHES_BASE_URL',
      'CALLER_ISSUER',
      'CALLER_AUDIENCE',
    ]);
  });

  it.each([
    ['a different domain that ends in example.internal', 'https://myexample.internal/api/v3'],
    ['example.internal as a label of another domain', 'https://example.internal.corp.com/api/v3'],
    ['example.internals', 'https://ghes.example.internals/api/v3'],
    ['example.com (RFC 2606)', 'https://ghes.example.com/api/v3'],
  ])('does not mistake %s for the placeholder', (_why, url) => {
    expect(placeholderErrors({ GHES_BASE_URL: url })).toEqual([]);
  });

  it('ignores bindings that are not vars (KV, rate limiters)', () => {
    expect(
      placeholderErrors({ TOKEN_CACHE: new Map([['REPLACE_WITH_X', 1]]), N: 42, B: true }),
    ).toEqual([]);
  });
});

/**
 * Just enough TOML for wrangler.toml's [vars] tables: `KEY = "basic"`, `KEY = 'literal'` and
 * `KEY = '''multi-line literal'''` (no escapes are used in the file).
 */
function varsOf(text: string): Map<string, Record<string, string>> {
  const envs = new Map<string, Record<string, string>>();
  let vars: Record<string, string> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header !== null) {
      const path = (header[1] as string).split('.');
      if (path.at(-1) === 'vars') {
        const name = path[0] === 'env' ? (path[1] as string) : '(top level)';
        vars = {};
        envs.set(name, vars);
      } else vars = undefined;
      continue;
    }
    if (/^\[\[/.test(line)) vars = undefined;
    const kv = /^([A-Z_][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (vars === undefined || kv === null) continue;
    const [, key, raw] = kv as unknown as [string, string, string];
    if (raw.startsWith("'''")) {
      let value = raw.slice(3);
      while (!value.includes("'''")) value += '\n' + (lines[++i] as string);
      vars[key] = value.slice(0, value.indexOf("'''")).replace(/^\n/, '');
    } else if (raw.startsWith("'")) vars[key] = raw.slice(1, raw.lastIndexOf("'"));
    else vars[key] = JSON.parse(raw) as string;
  }
  return envs;
}

const ENVS = varsOf(wranglerToml);

/** Stand-ins for the secrets `wrangler secret put` would set. */
function secretsFor(vars: Record<string, string>): Record<string, string> {
  const secrets: Record<string, string> = { CACHE_PEPPER: PEPPER };
  const apps = JSON.parse(vars['APPS'] as string) as {
    client_secret_binding: string;
    webhook_secret_binding?: string;
  }[];
  for (const app of apps) {
    secrets[app.client_secret_binding] = SECRET;
    if (app.webhook_secret_binding !== undefined) secrets[app.webhook_secret_binding] = SECRET;
  }
  return secrets;
}

describe('wrangler.toml', () => {
  it('has a top level and the staging and production templates', () => {
    expect([...ENVS.keys()].sort()).toEqual(['(top level)', 'production', 'staging']);
  });

  it('top level: local dev, parses without PUBLIC_URL and without placeholders', () => {
    const vars = ENVS.get('(top level)') as Record<string, string>;
    expect(vars['LOCAL_DEV']).toBe('true');
    const result = parseConfig({ ...vars, ...secretsFor(vars) });
    expect(result.ok ? [] : result.error).toEqual([]);
  });

  it.each(['staging', 'production'])(
    '[env.%s] is not local dev and is refused for its placeholders until they are replaced',
    (name) => {
      const vars = ENVS.get(name) as Record<string, string>;
      expect(vars['LOCAL_DEV']).toBe('false');
      const errors = errorsOf({ ...vars, ...secretsFor(vars) });
      expect(errors.map((e) => e.split(':')[0]).sort()).toEqual(
        ['APPS', 'CALLER_ISSUER', 'CALLER_JWKS_URL', 'GHES_BASE_URL', 'PUBLIC_URL'].sort(),
      );
      for (const e of errors) expect(e).toMatch(/still holds .* from the wrangler\.toml template/);

      // Filled in, the same template is a valid production configuration.
      let n = 0;
      const filled = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [
          k,
          v
            .replace(/REPLACE_WITH_[A-Z_]+/g, () => `Iv1.filled${(n += 1)}`)
            .replace(/example\.internal/g, 'corp.example.com'),
        ]),
      );
      const result = parseConfig({ ...filled, ...secretsFor(filled) });
      expect(result.ok ? [] : result.error).toEqual([]);
      expect(result.ok && result.value.publicUrl).toMatch(/^https:\/\/token-gateway\./);
    },
  );
});
