/** What each GHES version offers (../shared/ghes-openapi/README.md), at the boundaries. */
import { describe, expect, it } from 'vitest';
import type { GhesVersion } from '../../src/config/types';
import {
  hasBodyStyle,
  hasLegacyStyle,
  hasScopedToken,
  parseGhesVersion,
  resolveApiStyle,
  scopedPermissions,
} from '../../src/config/ghes-releases';
import { ghesContract } from '../helpers/ghes-contract';

function v(label: string): GhesVersion {
  const parsed = parseGhesVersion(label);
  if (!parsed.ok) throw new Error(`${label}: ${parsed.error}`);
  return parsed.value;
}

const ALL = [
  '2.18',
  '2.19',
  '2.20',
  '2.21',
  '2.22',
  ...Array.from({ length: 23 }, (_, i) => `3.${i}`),
];

describe('parseGhesVersion', () => {
  it('reads major and minor numerically, keeping the label', () => {
    expect(parseGhesVersion('3.10')).toEqual({
      ok: true,
      value: { major: 3, minor: 10, label: '3.10' },
    });
    expect(parseGhesVersion('2.18')).toEqual({
      ok: true,
      value: { major: 2, minor: 18, label: '2.18' },
    });
  });

  it.each(['2.17', '3.23', '4.0'])('refuses %s, outside 2.18 – 3.22', (label) => {
    expect(parseGhesVersion(label)).toEqual({
      ok: false,
      error: 'must be a GHES version from 2.18 to 3.22',
    });
  });

  it.each(['3', '3.22.1', 'v3.22', ' 3.22', ''])('refuses %j as not a version', (label) => {
    expect(parseGhesVersion(label)).toEqual({ ok: false, error: 'must look like 3.22' });
  });
});

describe('feature boundaries', () => {
  it('body-style endpoints exist from 2.20', () => {
    expect(hasBodyStyle(v('2.19'))).toBe(false);
    expect(hasBodyStyle(v('2.20'))).toBe(true);
    expect(hasBodyStyle(v('3.22'))).toBe(true);
  });

  it('legacy path-style endpoints exist up to 3.3', () => {
    expect(hasLegacyStyle(v('2.18'))).toBe(true);
    expect(hasLegacyStyle(v('3.3'))).toBe(true);
    expect(hasLegacyStyle(v('3.4'))).toBe(false);
    expect(hasLegacyStyle(v('3.22'))).toBe(false);
  });

  it('scoped tokens exist from 3.0', () => {
    expect(hasScopedToken(v('2.22'))).toBe(false);
    expect(hasScopedToken(v('3.0'))).toBe(true);
  });

  it('compares minor versions numerically (3.10 is after 3.9)', () => {
    expect(hasLegacyStyle(v('3.10'))).toBe(false);
    expect(hasBodyStyle(v('3.10'))).toBe(true);
  });
});

describe('resolveApiStyle', () => {
  it('auto picks body style from 2.20, legacy before', () => {
    expect(resolveApiStyle(v('2.19'), 'auto')).toEqual({ ok: true, value: 'legacy' });
    expect(resolveApiStyle(v('2.20'), 'auto')).toEqual({ ok: true, value: 'body' });
    expect(resolveApiStyle(v('3.22'), 'auto')).toEqual({ ok: true, value: 'body' });
  });

  it('accepts an explicit style the version has', () => {
    expect(resolveApiStyle(v('3.3'), 'legacy')).toEqual({ ok: true, value: 'legacy' });
    expect(resolveApiStyle(v('2.20'), 'legacy')).toEqual({ ok: true, value: 'legacy' });
    expect(resolveApiStyle(v('2.20'), 'body')).toEqual({ ok: true, value: 'body' });
  });

  it('refuses legacy on 3.4 and body on 2.19, naming the version', () => {
    const legacy = resolveApiStyle(v('3.4'), 'legacy');
    expect(legacy.ok).toBe(false);
    if (!legacy.ok) expect(legacy.error).toContain('3.4');
    const body = resolveApiStyle(v('2.19'), 'body');
    expect(body.ok).toBe(false);
    if (!body.ok) expect(body.error).toContain('2.19');
  });

  it('every supported version resolves auto to a style it has', () => {
    for (const label of ALL) {
      const r = resolveApiStyle(v(label), 'auto');
      expect(r.ok, label).toBe(true);
      if (r.ok)
        expect(r.value === 'body' ? hasBodyStyle(v(label)) : hasLegacyStyle(v(label)), label).toBe(
          true,
        );
    }
  });
});

describe('scopedPermissions', () => {
  it('has no table before 3.0', () => {
    expect(scopedPermissions(v('2.22'))).toBeUndefined();
  });

  it('3.22 accepts more permission names than 3.0, and every 3.0 name', () => {
    const old = scopedPermissions(v('3.0'));
    const now = scopedPermissions(v('3.22'));
    expect(old).toBeDefined();
    expect(now).toBeDefined();
    const oldNames = Object.keys(old ?? {});
    const newNames = Object.keys(now ?? {});
    expect(newNames.length).toBeGreaterThan(oldNames.length);
    expect(oldNames).toContain('contents');
    expect(old?.['organization_projects']).toEqual(['read', 'write', 'admin']);
    expect(old?.['workflows']).toEqual(['write']);
  });

  it('has a table for exactly the versions with a scoped-token endpoint', () => {
    for (const label of ALL) {
      expect(scopedPermissions(v(label)) !== undefined, label).toBe(hasScopedToken(v(label)));
    }
  });
});

// The generated table against GitHub's own descriptions (test/helpers/ghes-contract.ts): every
// release with a scoped-token endpoint that npm or ../shared describes, but where only an older
// revision of the description is at hand (npm's 3.5, without ../shared).
const contract = ghesContract();
describe('scopedPermissions matches GHES’s app-permissions schema', () => {
  type Schema = { properties?: Record<string, { enum?: string[] }> };
  const described = ALL.filter(
    (label) => hasScopedToken(v(label)) && label in contract.versions && !(label in contract.older),
  );
  it('compares every release with a scoped-token endpoint, on any clone 3.4 and 3.6 – 3.19', () => {
    const npmOnly = ['3.4', ...Array.from({ length: 14 }, (_, i) => `3.${i + 6}`)];
    expect(described).toEqual(
      contract.shared === null ? npmOnly : ALL.filter((label) => hasScopedToken(v(label))),
    );
  });
  it.each(described)('GHES %s', (label) => {
    const doc = contract.versions[label] as
      { components?: { schemas?: Record<string, Schema> } } | undefined;
    const schema = doc?.components?.schemas?.['app-permissions'];
    expect(schema?.properties).toBeDefined();
    const expected = Object.fromEntries(
      Object.entries(schema?.properties ?? {}).map(([name, p]) => [name, p.enum]),
    );
    expect(scopedPermissions(v(label))).toEqual(expected);
  });
});
