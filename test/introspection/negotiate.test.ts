import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  negotiateIntrospectionFormat as negotiate,
  negotiateParsed,
} from '../../src/introspection/negotiate';

const JWT = 'application/token-introspection+jwt';

describe('negotiateIntrospectionFormat', () => {
  it('answers JSON when the client does not name the JWT type', () => {
    for (const accept of [
      undefined,
      '',
      'application/json',
      '*/*',
      'application/*',
      'text/html',
      'application/jwt',
    ]) {
      expect(negotiate(accept, true), String(accept)).toBe('json');
      expect(negotiate(accept, false), String(accept)).toBe('json');
    }
  });

  it('answers the JWT when it is named and at least as preferred as JSON', () => {
    expect(negotiate(JWT, true)).toBe('jwt');
    expect(negotiate(`${JWT}, application/json`, true)).toBe('jwt');
    expect(negotiate(`application/json;q=0.9, ${JWT}`, true)).toBe('jwt');
    expect(negotiate(`APPLICATION/TOKEN-INTROSPECTION+JWT`, true)).toBe('jwt');
    expect(negotiate(`${JWT};q=0.5, */*;q=0.1`, true)).toBe('jwt');
  });

  it('answers JSON when JSON is preferred or the JWT is refused', () => {
    expect(negotiate(`${JWT};q=0.5, application/json`, true)).toBe('json');
    expect(negotiate(`${JWT};q=0`, true)).toBe('json');
    expect(negotiate(`${JWT};q=abc`, true)).toBe('json');
  });

  it('is not acceptable when only the JWT would do and nothing can sign', () => {
    expect(negotiate(JWT, false)).toBe('not-acceptable');
    expect(negotiate(`${JWT}, text/html`, false)).toBe('not-acceptable');
    expect(negotiate(`${JWT}, application/json;q=0`, false)).toBe('not-acceptable');
    expect(negotiate(`${JWT}, application/json;q=0.1`, false)).toBe('json');
    expect(negotiate(`${JWT}, */*;q=0.1`, false)).toBe('json');
  });

  it('ignores an oversized Accept header', () => {
    expect(negotiate(`${JWT}, ${'x/y, '.repeat(300)}`, false)).toBe('json');
  });

  it('decides as the full parse does, the shortcut for headers without the JWT type included', () => {
    const range = fc.constantFrom(
      JWT,
      'APPLICATION/Token-Introspection+JWT',
      'application/json',
      'application/*',
      '*/*',
      'text/html',
      'application/jwt',
      'application/token-introspection',
      '',
    );
    const param = fc.constantFrom(
      '',
      ';q=0',
      ';q=0.5',
      ';q=1',
      ';q=1.0',
      ';q=2',
      '; level=1',
      ';q=',
    );
    const header = fc
      .array(fc.tuple(range, param), { maxLength: 4 })
      .map((parts) => parts.map(([r, p]) => r + p).join(', '));
    fc.assert(
      fc.property(header, fc.boolean(), (accept, canSign) => {
        const expected = accept.trim() === '' ? 'json' : negotiateParsed(accept, canSign);
        expect(negotiate(accept, canSign)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
