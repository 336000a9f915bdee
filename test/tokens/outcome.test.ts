/** The one decision behind every revocation: src/tokens/outcome.ts. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatewayError } from '../../src/lib/errors';
import { mayHaveApplied, mustInvalidateAfter, saysTokenGone } from '../../src/tokens/outcome';

describe('mayHaveApplied', () => {
  it('is true for every code once request.ts marked an attempt ambiguous', () => {
    for (const code of ERROR_CODES) {
      expect(mayHaveApplied(new GatewayError(code, { mayHaveApplied: true })), code).toBe(true);
    }
  });

  it('is true for upstream-outcome-unknown even unmarked', () => {
    expect(mayHaveApplied(new GatewayError('upstream-outcome-unknown'))).toBe(true);
  });

  it('is true for anything that is not a GatewayError (the gateway broke while GHES answered)', () => {
    for (const e of [new TypeError("Cannot read properties of null (reading 'app')"), 'x', null]) {
      expect(mayHaveApplied(e)).toBe(true);
    }
  });

  it("is false for a refusal on GHES's first answer: a plain 429 applied nothing", () => {
    for (const code of [
      'upstream-rate-limited',
      'upstream-credentials-rejected',
      'upstream-validation-failed',
      'upstream-unavailable',
      'upstream-error',
      'upstream-timeout',
      'token-not-found',
      'unsupported-operation',
    ] as const) {
      expect(mayHaveApplied(new GatewayError(code)), code).toBe(false);
    }
  });
});

describe('mustInvalidateAfter', () => {
  it('also when GHES says the token does not exist', () => {
    const gone = new GatewayError('token-not-found', { upstreamStatus: 404 });
    expect(saysTokenGone(gone)).toBe(true);
    expect(mustInvalidateAfter(gone)).toBe(true);
  });

  it('not after a plain rate limit or a credentials failure', () => {
    expect(mustInvalidateAfter(new GatewayError('upstream-rate-limited'))).toBe(false);
    expect(mustInvalidateAfter(new GatewayError('upstream-credentials-rejected'))).toBe(false);
  });

  it('after a rate limit that followed an ambiguous attempt', () => {
    const e = new GatewayError('upstream-rate-limited', { mayHaveApplied: true });
    expect(mustInvalidateAfter(e)).toBe(true);
  });
});
