/**
 * looksSecret / echoable (src/lib/secret-shaped.ts), pure: what may be repeated of caller text in
 * answers and logs. Every credential shape is withheld wherever it stands in the value.
 */
import { describe, expect, it } from 'vitest';
import { WITHHELD, echoable, looksSecret } from '../../src/lib/secret-shaped';

const HEX40 = 'e72e16c7e42f292c6912e7710c838347ae178b4a';
const BASE62_36 = '16C7e42F292c6912E7710c838347Ae178B4a';

describe('looksSecret', () => {
  it.each([
    ['a gho_ token', `gho_${BASE62_36}`],
    ['a lower-case ghu_ token', `ghu_${'q'.repeat(36)}`],
    ['an upper-case prefix', `GHS_${BASE62_36}`],
    ['a future prefix letter', 'ghz_x'],
    ['a fine-grained PAT', 'github_pat_11ABC'],
    ['40 hex', HEX40],
    ['40 hex inside a name', `app-${HEX40}-x`],
    ['36 letters and digits', BASE62_36],
  ])('finds %s', (_name, value) => {
    expect(looksSecret(value)).toBe(true);
  });

  it.each([
    ['a field name', 'access_token'],
    ['an app name', 'demo-github-app'],
    ['a UUID', '123e4567-e89b-42d3-a456-426614174000'],
    ['35 hex', HEX40.slice(5)],
    ['35 letters and digits', BASE62_36.slice(1)],
    ['a scope', 'read:org'],
  ])('passes %s', (_name, value) => {
    expect(looksSecret(value)).toBe(false);
  });
});

describe('echoable', () => {
  it('withholds credential-shaped text and cuts long text', () => {
    expect(echoable(`x${HEX40}`)).toBe(WITHHELD);
    expect(echoable('octo-app')).toBe('octo-app');
    expect(echoable('a-'.repeat(60), 10)).toBe('a-a-a-a-a-…');
  });
});
