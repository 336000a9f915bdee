import { errors as joseErrors } from 'jose';
import { describe, expect, it } from 'vitest';
import { errorName } from '../../src/lib/errors';

describe('errorName (what a log line says of an unexpected error)', () => {
  it("names jose's errors by their code, which survives a bundle without function names", () => {
    expect(errorName(new joseErrors.JWTExpired('expired', {}))).toBe('ERR_JWT_EXPIRED');
    expect(errorName(new joseErrors.JOSENotSupported('no'))).toBe('ERR_JOSE_NOT_SUPPORTED');
    // What the bundle makes of a library class that names itself after its constructor.
    class minified extends Error {
      code = 'ERR_JWS_INVALID';
    }
    expect(errorName(new minified('x'))).toBe('ERR_JWS_INVALID');
  });

  it('names any other error by its name, and never by its message or an odd code', () => {
    expect(errorName(new TypeError('gho_secret in a message'))).toBe('TypeError');
    expect(errorName(new DOMException('x', 'TimeoutError'))).toBe('TimeoutError');
    const odd = Object.assign(new Error('m'), { code: 'gho_16C7e42F292c6912E7710c838347Ae178B4a' });
    expect(errorName(odd)).toBe('Error');
    expect(errorName(Object.assign(new RangeError('m'), { code: 42 }))).toBe('RangeError');
  });

  it('says non-error for anything thrown that is not an Error', () => {
    for (const thrown of ['gho_x', 42, null, undefined, { name: 'Fake' }])
      expect(errorName(thrown)).toBe('non-error');
  });
});
