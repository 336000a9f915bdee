/** src/lib/media-type.ts: a Content-Type is the media type only with well-formed parameters. */
import { describe, expect, it } from 'vitest';
import { isMediaType } from '../../src/lib/media-type';

describe('isMediaType', () => {
  it.each([
    'application/json',
    'APPLICATION/JSON',
    'application/json; charset=utf-8',
    'application/json;charset="utf-8"',
    'application/json ; charset=utf-8 ; x=y',
    'application/json\t;\tcharset=UTF-8',
  ])('%j is application/json', (header) => {
    expect(isMediaType(header, 'application/json')).toBe(true);
  });

  it.each([
    undefined,
    '',
    'application/jsonx',
    'application/json ;x',
    'application/json; charset',
    'application/json; charset=',
    'application/json, text/plain',
    'application/json; charset="utf-8',
    'text/json',
    'application/x-www-form-urlencoded',
  ])('%j is not', (header) => {
    expect(isMediaType(header, 'application/json')).toBe(false);
  });

  it('escapes the type: a dot or plus in it is literal', () => {
    expect(
      isMediaType('application/token-introspection+jwt', 'application/token-introspection+jwt'),
    ).toBe(true);
    expect(
      isMediaType('application/token-introspectionnjwt', 'application/token-introspection+jwt'),
    ).toBe(false);
  });
});
