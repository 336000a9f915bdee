import { describe, expect, it } from 'vitest';
import {
  crc32,
  hashToken,
  hasValidChecksum,
  newClientSecret,
  newGithubAppClientId,
  newOauthClientId,
  newToken,
  safeEqual,
  TOKEN_PATTERN,
} from './tokens';

describe('GitHub token format', () => {
  it('prefix + 36 base62 characters with a valid CRC32 checksum, all distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const token = newToken(i % 2 ? 'gho_' : 'ghu_');
      expect(token).toMatch(TOKEN_PATTERN);
      expect(hasValidChecksum(token)).toBe(true);
      seen.add(token);
    }
    expect(seen.size).toBe(200);
  });

  it('a changed character breaks the checksum', () => {
    const token = newToken('gho_');
    const flipped = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    expect(hasValidChecksum(flipped)).toBe(false);
    expect(hasValidChecksum('ghp_' + token.slice(4))).toBe(false);
  });

  it('crc32 is the standard IEEE polynomial', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
  });
});

describe('credentials', () => {
  it('client secrets are 40 hex, OAuth client ids 20 hex, GitHub App client ids Iv1. + 16 hex', () => {
    expect(newClientSecret()).toMatch(/^[0-9a-f]{40}$/);
    expect(newOauthClientId()).toMatch(/^[0-9a-f]{20}$/);
    expect(newGithubAppClientId()).toMatch(/^Iv1\.[0-9a-f]{16}$/);
    expect(newClientSecret()).not.toBe(newClientSecret());
  });

  it('hashed_token is base64 SHA-256', async () => {
    expect(await hashToken('abc')).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
  });

  it('safeEqual compares exactly', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('é', 'e')).toBe(false);
  });
});
