import { describe, expect, it } from 'vitest';
import {
  INACTIVE_L1_HIT,
  formatCacheStatus,
  inactiveCacheStatus,
} from '../../src/cache/cache-status';

describe('formatCacheStatus (RFC 9211)', () => {
  it('writes a hit', () => {
    expect(formatCacheStatus({ hit: true, ttl: 42, detail: 'l1' })).toBe(
      'ghes-token-gateway; hit; ttl=42; detail=l1',
    );
  });

  it('writes a forward with its reason, upstream status and storage', () => {
    expect(formatCacheStatus({ fwd: 'uri-miss', fwdStatus: 200, ttl: 60, stored: true })).toBe(
      'ghes-token-gateway; fwd=uri-miss; fwd-status=200; ttl=60; stored',
    );
    expect(
      formatCacheStatus({ fwd: 'stale', fwdStatus: 503, ttl: -12, detail: 'stale-if-error' }),
    ).toBe('ghes-token-gateway; fwd=stale; fwd-status=503; ttl=-12; detail=stale-if-error');
  });

  it('omits false booleans and writes collapsed bare', () => {
    expect(formatCacheStatus({ fwd: 'miss', stored: false, collapsed: true })).toBe(
      'ghes-token-gateway; fwd=miss; collapsed',
    );
  });

  it('quotes a detail that is not an sf-token', () => {
    expect(formatCacheStatus({ detail: 'two words "q" \\' })).toBe(
      'ghes-token-gateway; detail="two words \\"q\\" \\\\"',
    );
    expect(formatCacheStatus({ detail: '9lives' })).toBe('ghes-token-gateway; detail="9lives"');
  });
});

describe('inactiveCacheStatus: nothing that tells revoked from unknown', () => {
  const shown = (p: Parameters<typeof inactiveCacheStatus>[0]) =>
    formatCacheStatus(inactiveCacheStatus(p));

  it('keeps a hit and its tier, drops its ttl (a tombstone outlives a negative entry)', () => {
    expect(shown({ hit: true, ttl: 240, detail: 'kv' })).toBe('ghes-token-gateway; hit; detail=kv');
    expect(shown({ hit: true, ttl: 12, detail: 'l1' })).toBe('ghes-token-gateway; hit; detail=l1');
  });

  it.each([
    [{ fwd: 'uri-miss', fwdStatus: 404, ttl: 60, stored: true }],
    [{ fwd: 'stale', fwdStatus: 404, ttl: 60, stored: true }],
    [{ fwd: 'miss', fwdStatus: 404, ttl: 60, stored: true }],
    [{ fwd: 'uri-miss', fwdStatus: 200, stored: true, detail: 'revoked' }],
  ] as const)('forwards are all `fwd=miss`, without GHES status or detail: %o', (p) => {
    expect(shown(p)).toBe('ghes-token-gateway; fwd=miss; stored');
  });

  it('keeps collapsed and an absent stored; never a detail other than the tier', () => {
    expect(shown({ fwd: 'uri-miss', fwdStatus: 404, collapsed: true })).toBe(
      'ghes-token-gateway; fwd=miss; collapsed',
    );
    expect(shown({ hit: true, detail: 'revoked' })).toBe('ghes-token-gateway; hit');
    expect(INACTIVE_L1_HIT).toBe('ghes-token-gateway; hit; detail=l1');
  });
});
