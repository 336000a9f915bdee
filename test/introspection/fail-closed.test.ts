import { describe, expect, it } from 'vitest';
import { GatewayError, isGatewayError, type ErrorCode } from '../../src/lib/errors';
import { failClosed } from '../../src/introspection/fail-closed';
import { authorizationServerMetadata } from '../../src/introspection/metadata';

function caught(e: unknown): GatewayError {
  try {
    failClosed(e);
  } catch (thrown) {
    if (isGatewayError(thrown)) return thrown;
    throw thrown;
  }
  throw new Error('failClosed returned');
}

describe('failClosed', () => {
  it('turns every upstream failure into 503 upstream-unavailable, keeping Retry-After', () => {
    const codes: ErrorCode[] = [
      'upstream-error',
      'upstream-timeout',
      'upstream-rate-limited',
      'upstream-credentials-rejected',
      'upstream-validation-failed',
      'upstream-outcome-unknown',
      'upstream-unavailable',
    ];
    for (const code of codes) {
      const mapped = caught(
        new GatewayError(code, {
          reason: 'why',
          headers: { 'retry-after': '7', 'x-ratelimit-remaining': '0' },
          upstreamStatus: 429,
        }),
      );
      expect(mapped.code, code).toBe('upstream-unavailable');
      expect(mapped.headers).toStrictEqual({ 'retry-after': '7' });
      expect(mapped.extensions).toStrictEqual({ upstream_code: code });
      expect(mapped.upstreamStatus).toBe(429);
      expect(mapped.reason).toBe(`failed closed on ${code}: why`);
    }
  });

  it('rethrows anything else unchanged', () => {
    const forbidden = new GatewayError('forbidden');
    expect(() => failClosed(forbidden)).toThrow(forbidden);
    const bug = new TypeError('bug');
    expect(() => failClosed(bug)).toThrow(bug);
  });
});

describe('authorization server metadata', () => {
  it('derives every URL from the issuer', () => {
    expect(authorizationServerMetadata('https://i', ['ES256'])).toStrictEqual({
      issuer: 'https://i',
      introspection_endpoint: 'https://i/introspect',
      introspection_endpoint_auth_methods_supported: ['Bearer'],
      introspection_signing_alg_values_supported: ['ES256'],
      jwks_uri: 'https://i/.well-known/jwks.json',
      response_types_supported: [],
      grant_types_supported: [],
    });
  });
});
