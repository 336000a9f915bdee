/**
 * Hostile input on `POST /introspect` (RFC 7662), from an authenticated caller. Form errors are
 * 400 `invalid-request` (RFC 6749 §5.2); a token value no GitHub token can look like is simply
 * inactive (RFC 7662 §2.2: `{"active":false}`), answered without asking GHES. Nothing here may
 * reach GHES or produce a 5xx (test/hostile/harness.ts).
 */
import { describe, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway';
import {
  chunkedBody,
  enc,
  runHostileCases,
  unknownToken,
  type Expectation,
  type HostileCase,
  classTest,
} from './harness';
import { record } from './record';

const T = unknownToken(7);
const INVALID: Expectation = { status: 400, code: 'invalid-request' };
const TOKEN_IN_QUERY: Expectation = { status: 400, code: 'token-in-query' };
const INACTIVE: Expectation = { inactive: true };
const TOO_LARGE: Expectation = { status: 413, code: 'payload-too-large' };
const MEDIA: Expectation = { status: 415, code: 'unsupported-media-type' };

async function form(
  gw: TestGateway,
  body: BodyInit | null,
  headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' },
  path = '/introspect',
) {
  return {
    path,
    init: {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.caller()}`, ...headers },
      ...(body !== null && { body }),
    } satisfies RequestInit,
  };
}

function formCase(
  name: string,
  body: string,
  expected: Expectation | Expectation[],
  mustNotEcho: string[] = [T],
): HostileCase {
  return { name, build: (gw) => form(gw, body), expect: expected, mustNotEcho };
}

const tokenValue = (v: string) => `token=${encodeURIComponent(v)}`;

describe('hostile input on POST /introspect', () => {
  it(
    'wrong content types → 415',
    classTest('introspect: wrong content types', '415 unsupported-media-type, no GHES call', () => [
      {
        name: 'JSON body',
        build: (gw) =>
          form(gw, JSON.stringify({ token: T }), { 'content-type': 'application/json' }),
        expect: MEDIA,
        mustNotEcho: [T],
      },
      {
        name: 'text/plain',
        build: (gw) => form(gw, `token=${T}`, { 'content-type': 'text/plain' }),
        expect: MEDIA,
      },
      {
        name: 'multipart',
        build: (gw) =>
          form(gw, `--b\r\nContent-Disposition: form-data; name="token"\r\n\r\n${T}\r\n--b--\r\n`, {
            'content-type': 'multipart/form-data; boundary=b',
          }),
        expect: MEDIA,
      },
      {
        name: 'no content type',
        build: (gw) => form(gw, enc.encode(`token=${T}`), {}),
        expect: MEDIA,
      },
      {
        name: 'form type as a suffix',
        build: (gw) =>
          form(gw, `token=${T}`, { 'content-type': 'text/x-application/x-www-form-urlencoded' }),
        expect: MEDIA,
      },
    ]),
  );

  it(
    'malformed and repeated form parameters → 400',
    classTest(
      'introspect: malformed form, repeated parameters',
      '400 invalid-request, no GHES call',
      () => [
        formCase('empty body', '', INVALID),
        formCase('token without a value', 'token=', INVALID),
        formCase('token key only', 'token', INVALID),
        formCase('misspelt parameter', `tokn=${T}`, INVALID),
        formCase('token twice', `token=${T}&token=${unknownToken(8)}`, INVALID),
        formCase('token twice, same value', `token=${T}&token=${T}`, INVALID),
        formCase('token twice, second empty', `token=${T}&token=`, INVALID),
        formCase('app twice', `token=${T}&app=demo-oauth&app=demo-github-app`, INVALID),
        formCase('hint twice', `token=${T}&token_type_hint=a&token_type_hint=b`, INVALID),
        formCase(
          'hint with CRLF',
          `token=${T}&token_type_hint=${encodeURIComponent('a\r\nb')}`,
          INVALID,
        ),
        formCase('hint of 65 characters', `token=${T}&token_type_hint=${'h'.repeat(65)}`, INVALID),
        formCase('JSON text sent as a form', `{"token":"${T}"}`, INVALID),
      ],
    ),
  );

  it(
    'huge bodies, with and without Content-Length → 413',
    classTest('introspect: huge bodies', '413 payload-too-large, no GHES call', () => [
      formCase('16 KiB + 1', `token=${T}&pad=${'x'.repeat(16_385)}`, TOO_LARGE),
      formCase('8 MiB', `token=${T}&pad=${'x'.repeat(8 << 20)}`, TOO_LARGE),
      {
        name: '1 MiB chunked, no Content-Length',
        build: (gw) => form(gw, chunkedBody(1 << 20, 4096, 0x61).stream),
        expect: TOO_LARGE,
      },
      {
        name: '64 MiB chunked, no Content-Length',
        build: (gw) => form(gw, chunkedBody(64 << 20, 16_384, 0x61).stream),
        expect: TOO_LARGE,
      },
    ]),
  );

  it(
    'token values no GitHub token can look like → {"active":false} without asking GHES',
    classTest(
      'introspect: CR/LF, control, overlong and non-ASCII token values',
      '200 {"active":false}, no GHES call',
      () =>
        (
          [
            ['CRLF + header', `${T}\r\nX-Injected: yes`],
            ['trailing LF', `${T}\n`],
            ['NUL', `${T}\u0000`],
            ['inner space', `gho_ ${T.slice(4)}`],
            ['256 characters', 'gho_' + 'a'.repeat(252)],
            ['10,000 characters', 'gho_' + 'A1'.repeat(4998)],
            ['accented letters', 'gho_' + 'é'.repeat(36)],
            ['emoji', 'gho_' + '🔑'.repeat(18)],
            ['full-width look-alike', 'ｇｈｏ＿' + 'Ａ'.repeat(36)],
            ['right-to-left override', `${T}\u202e`],
            ['Cyrillic look-alike', 'gh\u043e_' + T.slice(4)],
          ] as const
        ).map(([name, value]) => formCase(`token: ${name}`, tokenValue(value), INACTIVE, [value])),
    ),
  );

  it(
    'app parameter tricks → 400/404, never another app',
    classTest(
      'introspect: app parameter tricks',
      '400 invalid-request or 404 unknown-app, no GHES call',
      () =>
        [
          '..%2fdemo-oauth',
          '%2e%2e',
          'DEMO-OAUTH',
          'a'.repeat(200),
          '__proto__',
          'demo-oauth%00',
          'demo-oauth%0d%0a',
          'd%D0%B5mo-oauth',
          'demo-oauth%20',
        ]
          .map((app) => formCase(`app=${app.slice(0, 40)}`, `token=${T}&app=${app}`, INVALID))
          .concat([
            formCase('app=constructor', `token=${T}&app=constructor`, {
              status: 404,
              code: 'unknown-app',
            }),
            formCase('app=hasOwnProperty', `token=${T}&app=hasownproperty`, {
              status: 404,
              code: 'unknown-app',
            }),
          ]),
    ),
  );

  it(
    'prototype keys in the form → no pollution, no GHES call',
    classTest(
      'introspect: __proto__ / constructor form keys',
      '400 or {"active":false}, Object.prototype untouched, no GHES call',
      () => [
        formCase('__proto__ with no token', '__proto__=x', INVALID),
        formCase('__proto__[polluted]', '__proto__[polluted]=1', INVALID),
        formCase('constructor[prototype][polluted]', 'constructor[prototype][polluted]=1', INVALID),
        formCase(
          '__proto__ next to a non-token',
          `__proto__=x&${tokenValue('bad token')}`,
          INACTIVE,
        ),
        formCase('__proto__.token', `__proto__.token=${T}`, INVALID),
      ],
    ),
  );

  it(
    'tokens in the query string are refused, never used or logged',
    classTest(
      'introspect: token in the query string',
      '400 token-in-query, query never logged, no GHES call',
      () => [
        {
          name: '?token= with an empty form',
          build: (gw) => form(gw, '', undefined, `/introspect?token=${T}`),
          expect: TOKEN_IN_QUERY,
          mustNotEcho: [T],
        },
        {
          name: '?token= with only a hint in the form',
          build: (gw) =>
            form(gw, 'token_type_hint=access_token', undefined, `/introspect?token=${T}`),
          expect: TOKEN_IN_QUERY,
          mustNotEcho: [T],
        },
      ],
    ),
  );

  it(
    'other methods → 404/405',
    classTest('introspect: other methods', '404 not-found or 405, no GHES call', () =>
      (['GET', 'PUT', 'DELETE', 'PATCH'] as const).map((method): HostileCase => ({
        name: method,
        build: async (gw) => ({
          path: `/introspect?token=${T}`,
          init: {
            method,
            headers: {
              authorization: `Bearer ${await gw.caller()}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
            ...(method !== 'GET' && { body: `token=${T}` }),
          },
        }),
        // The token in the query is refused before routing (src/middleware/token-in-query.ts).
        expect: [
          { status: 404, code: 'not-found' },
          { status: 405, code: 'method-not-allowed' },
          TOKEN_IN_QUERY,
        ],
        mustNotEcho: [T],
      })),
    ),
  );

  it('an RFC 9701 signed answer asked for without signing keys is 406 before any GHES call', async ({
    task,
  }) => {
    record(task, {
      area: 'hostile-input',
      kind: 'introspect: unsatisfiable Accept',
      cases: 1,
      expected: '406 not-acceptable, no GHES call',
    });
    await runHostileCases([
      {
        name: 'accept token-introspection+jwt only',
        build: (gw) =>
          form(gw, `token=${T}`, {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/token-introspection+jwt',
          }),
        expect: { status: 406, code: 'not-acceptable' },
        mustNotEcho: [T],
      },
    ]);
  });
});
