import { describe, expect, it } from 'vitest';
import { formatCacheStatus } from '../../src/cache/cache-status';

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
