/**
 * wrangler.toml does not inherit vars or bindings into [env.*]: every environment must repeat
 * them. Checks that the rate-limiting bindings and the vars of the caller-identity options are in
 * every environment, that each binding's period matches the var the 429 Retry-After comes from,
 * and that no two environments share a rate-limit namespace (staging must not eat production's
 * budget).
 */
import { describe, expect, it } from 'vitest';
import { RATE_LIMIT_BINDINGS } from '../../src/config/types';
import wranglerToml from '../../wrangler.toml?raw';
import { wranglerTables } from '../helpers/wrangler-toml';

interface RateLimitBinding {
  name: string;
  namespaceId: string;
  limit: number;
  period: number;
}

interface Environment {
  vars: Map<string, string>;
  ratelimits: RateLimitBinding[];
}

const ENVIRONMENTS = ['(top level)', 'staging', 'production'] as const;

/** Each environment's vars and `[[…ratelimits]]` tables (inline `simple = { limit, period }`). */
function readWranglerToml(text: string): Map<string, Environment> {
  const envs = new Map<string, Environment>(
    ENVIRONMENTS.map((name) => [name, { vars: new Map(), ratelimits: [] }]),
  );
  for (const table of wranglerTables(text)) {
    const env = envs.get(table.env);
    if (env === undefined) continue;
    if (table.path === 'vars') for (const [key, value] of table.values) env.vars.set(key, value);
    if (table.path !== 'ratelimits') continue;
    const quoted = (key: string): string => {
      const value = table.values.get(key);
      return value === undefined ? '' : (JSON.parse(value) as string);
    };
    const simple = table.values.get('simple') ?? '';
    env.ratelimits.push({
      name: quoted('name'),
      namespaceId: quoted('namespace_id'),
      limit: Number(/limit\s*=\s*(\d+)/.exec(simple)?.[1]),
      period: Number(/period\s*=\s*(\d+)/.exec(simple)?.[1]),
    });
  }
  return envs;
}

const envs = readWranglerToml(wranglerToml);
const PERIOD_VAR: Record<string, string> = {
  [RATE_LIMIT_BINDINGS.introspection]: 'INTROSPECTION_RATE_LIMIT_PERIOD_S',
  [RATE_LIMIT_BINDINGS.mutation]: 'MUTATION_RATE_LIMIT_PERIOD_S',
  [RATE_LIMIT_BINDINGS.client]: 'CLIENT_RATE_LIMIT_PERIOD_S',
  [RATE_LIMIT_BINDINGS.userLogin]: 'USER_LOGIN_RATE_LIMIT_PERIOD_S',
};

describe('wrangler.toml rate limits and identity vars', () => {
  it.each(ENVIRONMENTS)(
    '%s has every rate-limiting binding, periods matching their vars',
    (name) => {
      const env = envs.get(name) as Environment;
      expect(env.ratelimits.map((b) => b.name).sort()).toEqual(
        Object.values(RATE_LIMIT_BINDINGS).sort(),
      );
      for (const binding of env.ratelimits) {
        expect(binding.namespaceId).toMatch(/^[1-9][0-9]*$/);
        expect(binding.limit).toBeGreaterThan(0);
        expect([10, 60]).toContain(binding.period);
        expect(env.vars.get(PERIOD_VAR[binding.name] as string)).toBe(`"${binding.period}"`);
      }
    },
  );

  it('gives every environment its own rate-limit namespaces', () => {
    const ids = [...envs.values()].flatMap((e) => e.ratelimits.map((b) => b.namespaceId));
    const perEnvironment = Object.keys(RATE_LIMIT_BINDINGS).length;
    expect(ids).toHaveLength(ENVIRONMENTS.length * perEnvironment);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps introspection generous, one client a fraction of it, and mutations tight', () => {
    for (const env of envs.values()) {
      const byName = new Map(env.ratelimits.map((b) => [b.name, b]));
      const rate = (name: string) => {
        const b = byName.get(name) as RateLimitBinding;
        return b.limit / b.period;
      };
      expect(rate(RATE_LIMIT_BINDINGS.introspection)).toBeGreaterThan(
        rate(RATE_LIMIT_BINDINGS.mutation),
      );
      // Password guesses through the Authorizations API: no more than the mutation budget.
      expect(rate(RATE_LIMIT_BINDINGS.userLogin)).toBeLessThanOrEqual(
        rate(RATE_LIMIT_BINDINGS.mutation),
      );
      // One client must not be able to spend the caller's whole budget alone.
      expect(rate(RATE_LIMIT_BINDINGS.client)).toBeLessThan(
        rate(RATE_LIMIT_BINDINGS.introspection) / 4,
      );
    }
  });

  it.each(ENVIRONMENTS)('%s reads client addresses from X-Forwarded-For', (name) => {
    expect((envs.get(name) as Environment).vars.get('CLIENT_ADDRESS_HEADER')).toBe(
      '"X-Forwarded-For"',
    );
  });

  it.each(['staging', 'production'])('%s repeats every top-level var', (name) => {
    const top = [...(envs.get('(top level)') as Environment).vars.keys()].sort();
    expect(top).toEqual(
      expect.arrayContaining([
        'ACCESS_TEAM_DOMAIN',
        'ACCESS_AUD',
        'ACCESS_SUBJECTS',
        'MTLS_CALLERS',
        'INTROSPECTION_RATE_LIMIT_PERIOD_S',
        'MUTATION_RATE_LIMIT_PERIOD_S',
        'CLIENT_RATE_LIMIT_PERIOD_S',
        'CLIENT_ADDRESS_HEADER',
      ]),
    );
    expect([...(envs.get(name) as Environment).vars.keys()].sort()).toEqual(top);
  });
});
