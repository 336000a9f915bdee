/**
 * isReusableRequestId (src/lib/request-id.ts), pure: plain ids are reused; an id with a
 * credential-shaped run anywhere in it is not, however it is wrapped.
 */
import { describe, expect, it } from 'vitest';
import { isReusableRequestId } from '../../src/lib/request-id';

const HEX40 = 'e72e16c7e42f292c6912e7710c838347ae178b4a';
const BASE62_36 = '16C7e42F292c6912E7710c838347Ae178B4a';

describe('isReusableRequestId', () => {
  it.each([
    ['a UUID', '123e4567-e89b-42d3-a456-426614174000'],
    ['a ULID', '01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['a W3C trace id (32 hex)', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['a traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['a Cloudflare ray id', '8f1a2b3c4d5e6f70-FRA'],
    ['35 hex', HEX40.slice(5)],
    ['35 letters and digits', BASE62_36.slice(1)],
    ['an id with punctuation', 'edge-req.42:a_b-c'],
    ['one character', 'x'],
    ['64 characters', 'a-'.repeat(32)],
  ])('reuses %s', (_name, id) => {
    expect(isReusableRequestId(id)).toBe(true);
  });

  it.each([
    ['nothing', undefined],
    ['an empty id', ''],
    ['65 characters', 'a-'.repeat(32) + 'a'],
    ['spaces', 'has spaces'],
    ['a slash', 'a/b'],
    ['a non-ASCII letter', 'réq-1'],
    // Token-shaped at the start (refused before) ...
    ['an OAuth token', `gho_${BASE62_36}`],
    ['a classic 40-hex token', HEX40],
    ['a fine-grained PAT prefix', 'github_pat_11ABCDEFG0'],
    // ... and anywhere else (the class the start-anchored check let through).
    ['v1.<40 hex>', `v1.${HEX40}`],
    ['x<40 hex>', `x${HEX40}`],
    ['<40 hex>.1', `${HEX40}.1`],
    ['<40 HEX> in upper case', `req-${HEX40.toUpperCase()}-1`],
    ['40 hex inside a longer hex run', `${HEX40}abcdef`],
    ['a token after a prefix', `req-gho_${BASE62_36.slice(0, 20)}`],
    ['a token prefix in upper case', `req:GHU_abc`],
    ['a server-to-server token prefix in the middle', 'a.ghs_b'],
    ['a PAT prefix after a prefix', 'id-github_pat_x'],
    ['a token body without its prefix', `req.${BASE62_36}`],
    ['a long base62 run (a random secret)', `id:${'aZ09'.repeat(9)}`],
  ])('refuses %s', (_name, id) => {
    expect(isReusableRequestId(id)).toBe(false);
  });
});
