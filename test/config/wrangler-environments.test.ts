/**
 * wrangler.toml: every environment declares the metrics binding (Analytics Engine bindings are
 * not inherited into [env.*]) with a dataset of its own, and states its own [observability]
 * (inherited, but only as a whole table: each environment says what it logs in one place).
 * Vars and rate limits: test/middleware/rate-limit.config.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { METRICS_BINDING } from '../../src/config/types';
import wranglerToml from '../../wrangler.toml?raw';
import { wranglerTables, type WranglerTable } from '../helpers/wrangler-toml';

const ENVIRONMENTS = ['(top level)', 'staging', 'production'] as const;

const tables = wranglerTables(wranglerToml);
const of = (env: string, path: string) => tables.filter((t) => t.env === env && t.path === path);

describe('wrangler.toml: metrics and observability in every environment', () => {
  it.each(ENVIRONMENTS)('%s binds METRICS to one Analytics Engine dataset', (env) => {
    const datasets = of(env, 'analytics_engine_datasets');
    expect(datasets).toHaveLength(1);
    const dataset = datasets[0] as WranglerTable;
    expect(dataset.values.get('binding')).toBe(`"${METRICS_BINDING}"`);
    expect(dataset.values.get('dataset')).toMatch(/^"[a-z][a-z0-9_]*"$/);
  });

  it('gives every environment its own dataset', () => {
    const names = ENVIRONMENTS.map((env) =>
      of(env, 'analytics_engine_datasets')[0]?.values.get('dataset'),
    );
    expect(new Set(names).size).toBe(ENVIRONMENTS.length);
  });

  it.each(ENVIRONMENTS)('%s has its own [observability], logs on, nothing sampled out', (env) => {
    const observability = of(env, 'observability');
    expect(observability).toHaveLength(1);
    expect(Object.fromEntries((observability[0] as WranglerTable).values)).toEqual({
      enabled: 'true',
      head_sampling_rate: '1',
    });
  });
});
