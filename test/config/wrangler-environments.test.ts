/**
 * wrangler.toml: every environment declares the metrics binding (Analytics Engine bindings are
 * not inherited into [env.*]) with a dataset of its own, and states its own [observability]
 * (inherited, but only as a whole table: each environment says what it logs in one place).
 * Vars and rate limits: test/middleware/rate-limit.config.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { METRICS_BINDING } from '../../src/config/types';
import wranglerToml from '../../wrangler.toml?raw';

const ENVIRONMENTS = ['(top level)', 'staging', 'production'] as const;

interface Table {
  /** The table's path without the `env.<name>.` prefix, e.g. `observability`. */
  path: string;
  env: string;
  values: Map<string, string>;
}

/** Just enough TOML for these tables: headers and `key = value` lines, multi-line strings skipped. */
function tablesOf(text: string): Table[] {
  const tables: Table[] = [{ path: '', env: '(top level)', values: new Map() }];
  let inMultiline = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (inMultiline) {
      if (line.includes("'''")) inMultiline = false;
      continue;
    }
    const header = /^\[\[?([^\]]+)\]\]?$/.exec(line);
    if (header !== null) {
      const path = (header[1] as string).split('.');
      const scoped = path[0] === 'env';
      tables.push({
        env: scoped ? (path[1] as string) : '(top level)',
        path: (scoped ? path.slice(2) : path).join('.'),
        values: new Map(),
      });
      continue;
    }
    const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (kv === null) continue;
    const value = kv[2] as string;
    if (value.startsWith("'''") && !value.slice(3).includes("'''")) inMultiline = true;
    (tables.at(-1) as Table).values.set(kv[1] as string, value);
  }
  return tables;
}

const tables = tablesOf(wranglerToml);
const of = (env: string, path: string) => tables.filter((t) => t.env === env && t.path === path);

describe('wrangler.toml: metrics and observability in every environment', () => {
  it.each(ENVIRONMENTS)('%s binds METRICS to one Analytics Engine dataset', (env) => {
    const datasets = of(env, 'analytics_engine_datasets');
    expect(datasets).toHaveLength(1);
    const dataset = datasets[0] as Table;
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
    expect(Object.fromEntries((observability[0] as Table).values)).toEqual({
      enabled: 'true',
      head_sampling_rate: '1',
    });
  });
});
