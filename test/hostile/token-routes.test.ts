/**
 * Hostile input on the internal JSON API (`POST /v1/apps/{app}/token/*`, `/grant/delete`), every
 * route, from an authenticated caller: malformed and huge bodies (with and without
 * Content-Length), 10,000-deep JSON, duplicate keys, `__proto__` / `constructor` keys, wrong
 * content types, CR/LF and control characters in fields, overlong and non-ASCII tokens, `{app}`
 * tricks and tokens in the query string. Each gets a 4xx problem with a stable code, never a 5xx,
 * and GHES is never called (test/hostile/harness.ts).
 */
import { describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway';
import {
  GH_APP,
  OAUTH,
  chunkedBody,
  enc,
  runHostileCase,
  runHostileCases,
  unknownToken,
  type Expectation,
  type HostileCase,
} from './harness';
import { record } from './record';

type Op = 'token/check' | 'token/reset' | 'token/scoped' | 'token/delete' | 'grant/delete';
const OPS: readonly Op[] = [
  'token/check',
  'token/reset',
  'token/scoped',
  'token/delete',
  'grant/delete',
];

const appFor = (op: Op) => (op === 'token/scoped' ? GH_APP : OAUTH);
const pathOf = (op: Op, app = appFor(op)) => `/v1/apps/${app}/${op}`;

/** The rest of a valid body: scoped tokens also need a target. */
const extra = (op: Op): Record<string, unknown> =>
  op === 'token/scoped' ? { target: 'octocat', permissions: { contents: 'read' } } : {};

const T = unknownToken(1);

async function jsonRequest(
  gw: TestGateway,
  path: string,
  body: BodyInit | null,
  headers: Record<string, string> = { 'content-type': 'application/json' },
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

const INVALID: Expectation = { status: 400, code: 'invalid-request' };
const UNPROCESSABLE: Expectation = { status: 422, code: 'validation-failed' };
const TOKEN_IN_QUERY: Expectation = { status: 400, code: 'token-in-query' };
const TOO_LARGE: Expectation = { status: 413, code: 'payload-too-large' };
const MEDIA: Expectation = { status: 415, code: 'unsupported-media-type' };
/** A `__proto__` key may be refused as a malformed body or as an invalid one; never dropped. */
const PROTO_REFUSED: Expectation[] = [
  { status: 400, code: 'invalid-request' },
  { status: 422, code: 'validation-failed' },
];
const NO_APP: Expectation[] = [
  { status: 404, code: 'unknown-app' },
  { status: 404, code: 'not-found' },
];

/** A text body sent as application/json to `op`. */
function textCase(op: Op, name: string, text: string, expected: Expectation | Expectation[]) {
  return {
    name: `${op}: ${name}`,
    build: (gw: TestGateway) => jsonRequest(gw, pathOf(op), text),
    expect: expected,
  } satisfies HostileCase;
}

/** A JSON value merged over a valid body for `op`. */
function bodyCase(
  op: Op,
  name: string,
  body: Record<string, unknown>,
  expected: Expectation | Expectation[],
  mustNotEcho: string[] = [],
): HostileCase {
  return {
    name: `${op}: ${name}`,
    build: (gw) => jsonRequest(gw, pathOf(op), JSON.stringify({ ...extra(op), ...body })),
    expect: expected,
    mustNotEcho,
  };
}

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Runs `cases` for every op, recording how many requests the class made. */
function perRoute(
  kind: string,
  expected: string,
  casesFor: (op: Op) => HostileCase[],
): (ctx: { task: Parameters<typeof record>[0] }) => Promise<void> {
  return async ({ task }) => {
    const cases = OPS.flatMap(casesFor);
    record(task, { area: 'hostile-input', kind, cases: cases.length, expected });
    await runHostileCases(cases);
  };
}

describe('hostile input on the /v1 token routes', () => {
  it(
    'malformed JSON → 400 invalid-request',
    perRoute('token API: malformed JSON', '400 invalid-request, no GHES call', (op) => [
      textCase(op, 'unterminated object', '{"access_token":', INVALID),
      textCase(op, 'missing value', '{"access_token":}', INVALID),
      textCase(op, 'trailing comma', `{"access_token":"${T}",}`, INVALID),
      textCase(op, 'single quotes', `{'access_token':'${T}'}`, INVALID),
      textCase(op, 'trailing garbage', `{"access_token":"${T}"} x`, INVALID),
      textCase(op, 'two documents', `{"access_token":"${T}"}{"access_token":"${T}"}`, INVALID),
      // (A leading byte order mark is not here: RFC 8259 §8.1 lets parsers ignore it, and they do.)
      {
        name: `${op}: invalid UTF-8`,
        build: (gw) => jsonRequest(gw, pathOf(op), new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])),
        expect: INVALID,
      },
      textCase(op, 'empty body', '', INVALID),
      textCase(op, 'NaN', 'NaN', INVALID),
      textCase(op, 'raw NUL inside a string', `{"access_token":"gho_\u0000x"}`, INVALID),
      textCase(op, 'lone surrogate escape kept as text', `{"access_token":"\\ud800`, INVALID),
      textCase(op, 'comment', `{"access_token":"${T}" /* hi */}`, INVALID),
    ]),
  );

  it(
    'well-formed JSON of the wrong shape → 422 validation-failed',
    perRoute('token API: JSON of the wrong shape', '422 validation-failed, no GHES call', (op) => [
      textCase(op, 'null', 'null', UNPROCESSABLE),
      textCase(op, 'array', `["${T}"]`, UNPROCESSABLE),
      textCase(op, 'string', `"${T}"`, UNPROCESSABLE),
      textCase(op, 'number', '1e309', UNPROCESSABLE),
      textCase(op, 'true', 'true', UNPROCESSABLE),
      textCase(op, 'empty object', '{}', UNPROCESSABLE),
      bodyCase(op, 'token is a number', { access_token: 12345678901234567890 }, UNPROCESSABLE),
      bodyCase(op, 'token is null', { access_token: null }, UNPROCESSABLE),
      bodyCase(op, 'token is an array', { access_token: [T] }, UNPROCESSABLE, [T]),
      bodyCase(op, 'token is an operator object', { access_token: { $ne: '' } }, UNPROCESSABLE),
      bodyCase(op, 'unknown extra member', { access_token: T, admin: true }, UNPROCESSABLE, [T]),
      bodyCase(op, 'key differs in case', { Access_Token: T }, UNPROCESSABLE, [T]),
    ]),
  );

  it('huge bodies, with and without Content-Length → 413, reading stops at the limit', async ({
    task,
  }) => {
    const padded = (bytes: number) =>
      JSON.stringify({ access_token: T, pad: 'x'.repeat(Math.max(0, bytes - 40)) });
    const streams: Array<{ pulled: () => number }> = [];
    const cases = OPS.flatMap((op): HostileCase[] => [
      textCase(op, '16 KiB + 1 (Content-Length)', padded(16_385), TOO_LARGE),
      textCase(op, '1 MiB (Content-Length)', padded(1 << 20), TOO_LARGE),
      textCase(op, '8 MiB (Content-Length)', padded(8 << 20), TOO_LARGE),
      {
        name: `${op}: 1 MiB chunked, no Content-Length`,
        build: (gw) => {
          const body = chunkedBody(1 << 20);
          streams.push(body);
          return jsonRequest(gw, pathOf(op), body.stream);
        },
        expect: TOO_LARGE,
      },
      {
        name: `${op}: 64 MiB chunked, no Content-Length (must stop reading early)`,
        build: (gw) => {
          const body = chunkedBody(64 << 20, 16_384);
          streams.push(body);
          return jsonRequest(gw, pathOf(op), body.stream);
        },
        expect: TOO_LARGE,
      },
      {
        name: `${op}: just under the limit, chunked, not JSON`,
        build: (gw) => jsonRequest(gw, pathOf(op), chunkedBody(16_000, 1000, 0x61).stream),
        expect: INVALID,
      },
    ]);
    record(task, {
      area: 'hostile-input',
      kind: 'token API: huge bodies (Content-Length and chunked)',
      cases: cases.length,
      expected: '413 payload-too-large (400 under the limit), no GHES call',
    });
    await runHostileCases(cases);
    // The 64 MiB streams were abandoned long before their end (well under 1 MiB read).
    const big = streams.filter((_, i) => i % 2 === 1);
    for (const s of big) expect(s.pulled()).toBeLessThan(1 << 20);
  });

  it('10,000-deep JSON → 413 at the default size limit, 400 when the limit would let it in', async ({
    task,
  }) => {
    const BIG = { vars: { MAX_BODY_BYTES: String(1 << 20) } };
    const cases = OPS.flatMap((op): HostileCase[] => [
      textCase(op, '10,000-deep arrays', deepArray(10_000), TOO_LARGE),
      {
        ...textCase(op, '10,000-deep arrays, 1 MiB limit', deepArray(10_000), INVALID),
        gateway: BIG,
      },
      {
        ...textCase(op, '10,000-deep objects, 1 MiB limit', deepObject(10_000), INVALID),
        gateway: BIG,
      },
      {
        ...textCase(
          op,
          '10,000-deep value of access_token, 1 MiB limit',
          `{"access_token":${deepArray(10_000)}}`,
          INVALID,
        ),
        gateway: BIG,
      },
      textCase(op, '17 levels (one past the limit)', deepArray(17), INVALID),
      {
        ...textCase(op, '100,000-deep arrays, 1 MiB limit', deepArray(100_000), INVALID),
        gateway: BIG,
      },
    ]);
    record(task, {
      area: 'hostile-input',
      kind: 'token API: 10,000- and 100,000-deep JSON',
      cases: cases.length,
      expected: '413 (default limit) or 400 invalid-request, no GHES call',
    });
    await runHostileCases(cases);
  });

  it(
    'duplicate keys → 400 invalid-request',
    perRoute('token API: duplicate keys', '400 invalid-request, no GHES call', (op) => [
      textCase(
        op,
        'access_token twice',
        `{"access_token":"${unknownToken(2)}","access_token":"${T}"}`,
        INVALID,
      ),
      textCase(
        op,
        'access_token twice, one escaped',
        `{"access_token":"${unknownToken(2)}","\\u0061ccess_token":"${T}"}`,
        INVALID,
      ),
      textCase(
        op,
        'duplicate in a nested object',
        `{"access_token":"${T}","x":{"k":1,"k":2}}`,
        INVALID,
      ),
      textCase(
        op,
        'duplicate __proto__',
        `{"access_token":"${T}","__proto__":{},"__proto__":{}}`,
        INVALID,
      ),
      ...(op === 'token/scoped'
        ? [
            textCase(
              op,
              'duplicate permission',
              `{"access_token":"${T}","target":"octocat","permissions":{"contents":"read","contents":"write"}}`,
              INVALID,
            ),
          ]
        : []),
    ]),
  );

  it(
    '__proto__ / constructor / prototype keys → 400/422, nothing polluted',
    perRoute(
      'token API: __proto__ / constructor keys',
      '400 invalid-request or 422 validation-failed, Object.prototype untouched, no GHES call',
      (op) => [
        textCase(
          op,
          '__proto__ carrying the token',
          `{"__proto__":{"access_token":"${T}"}}`,
          PROTO_REFUSED,
        ),
        textCase(
          op,
          '__proto__ next to the token',
          `{"access_token":"${T}","__proto__":{"polluted":true}}`,
          PROTO_REFUSED,
        ),
        textCase(
          op,
          'constructor.prototype next to the token',
          `{"access_token":"${T}","constructor":{"prototype":{"polluted":true}}}`,
          UNPROCESSABLE,
        ),
        textCase(
          op,
          'prototype key',
          `{"access_token":"${T}","prototype":{"polluted":true}}`,
          UNPROCESSABLE,
        ),
        ...(op === 'token/scoped'
          ? [
              textCase(
                op,
                'permissions.__proto__',
                `{"access_token":"${T}","target":"octocat","permissions":{"__proto__":"write"}}`,
                PROTO_REFUSED,
              ),
              textCase(
                op,
                'permissions.__proto__ object',
                `{"access_token":"${T}","target":"octocat","permissions":{"__proto__":{"polluted":"write"}}}`,
                PROTO_REFUSED,
              ),
              textCase(
                op,
                'permissions.constructor',
                `{"access_token":"${T}","target":"octocat","permissions":{"constructor":"read"}}`,
                UNPROCESSABLE,
              ),
              textCase(
                op,
                'permissions.toString',
                `{"access_token":"${T}","target":"octocat","permissions":{"toString":"read"}}`,
                UNPROCESSABLE,
              ),
            ]
          : []),
      ],
    ),
  );

  it(
    'wrong content types → 415 unsupported-media-type',
    perRoute('token API: wrong content types', '415 unsupported-media-type, no GHES call', (op) => {
      const json = JSON.stringify({ access_token: T, ...extra(op) });
      const typed = (name: string, type: string | null, body: BodyInit): HostileCase => ({
        name: `${op}: ${name}`,
        build: (gw) =>
          jsonRequest(gw, pathOf(op), body, type === null ? {} : { 'content-type': type }),
        expect: MEDIA,
        mustNotEcho: [T],
      });
      return [
        typed('text/plain', 'text/plain', json),
        typed('no content type', null, enc.encode(json)),
        typed('form', 'application/x-www-form-urlencoded', `access_token=${T}`),
        typed(
          'multipart',
          'multipart/form-data; boundary=x',
          `--x\r\nContent-Disposition: form-data; name="access_token"\r\n\r\n${T}\r\n--x--\r\n`,
        ),
        typed('application/jsonp', 'application/jsonp', json),
        typed('application/json-patch+json', 'application/json-patch+json', json),
        typed('text/json', 'text/json', json),
        typed('application/xml', 'application/xml', `<access_token>${T}</access_token>`),
        typed('two types in one header', 'text/plain, application/json', json),
      ];
    }),
  );

  it(
    'CR/LF and control characters in fields → 422, never sent on',
    perRoute(
      'token API: CR/LF and control characters in fields',
      '422 validation-failed, no GHES call',
      (op) => {
        const bad = [
          ['CRLF + header', `${T}\r\nX-Injected: yes`],
          ['trailing LF', `${T}\n`],
          ['leading tab', `\t${T}`],
          ['NUL', `${T}\u0000`],
          ['inner space', `gho_ ${T.slice(4)}`],
          ['DEL', `${T}\u007f`],
        ] as const;
        const cases = bad.map(([name, value]) =>
          bodyCase(op, `access_token with ${name}`, { access_token: value }, UNPROCESSABLE, [T]),
        );
        if (op === 'token/scoped') {
          cases.push(
            bodyCase(
              op,
              'target with CRLF',
              { access_token: T, target: 'octo\r\ncat' },
              UNPROCESSABLE,
            ),
            bodyCase(
              op,
              'repository name with CRLF',
              { access_token: T, target: 'octocat', repositories: ['hello\r\nworld'] },
              UNPROCESSABLE,
            ),
            bodyCase(
              op,
              'permission level with CRLF',
              { access_token: T, target: 'octocat', permissions: { contents: 'read\r\n' } },
              UNPROCESSABLE,
            ),
          );
        }
        return cases;
      },
    ),
  );

  it(
    'overlong and non-ASCII tokens → 422',
    perRoute(
      'token API: overlong and non-ASCII tokens',
      '422 validation-failed, no GHES call',
      (op) => {
        const bad = [
          ['256 characters', 'gho_' + 'a'.repeat(252)],
          ['10,000 characters', 'gho_' + 'A1'.repeat(4998)],
          ['accented letters', 'gho_' + 'é'.repeat(36)],
          ['emoji', 'gho_' + '🔑'.repeat(18)],
          ['full-width look-alike', 'ｇｈｏ＿' + 'Ａ'.repeat(36)],
          ['right-to-left override', `${T}\u202e`],
          ['zero-width joiner', `gho_\u200d${T.slice(4)}`],
          ['Cyrillic look-alike', 'gh\u043e_' + T.slice(4)],
          ['empty', ''],
        ] as const;
        return bad.map(([name, value]) =>
          bodyCase(op, `access_token: ${name}`, { access_token: value }, UNPROCESSABLE, [value]),
        );
      },
    ),
  );

  it(
    '{app} tricks → 404 (or 403), never another app',
    perRoute('token API: {app} path tricks', '404 unknown-app / not-found, no GHES call', (op) => {
      const op404 = (name: string, app: string): HostileCase => ({
        name: `${op}: app ${name}`,
        build: (gw) =>
          jsonRequest(
            gw,
            `/v1/apps/${app}/${op}`,
            JSON.stringify({ access_token: T, ...extra(op) }),
          ),
        expect: NO_APP,
        mustNotEcho: [T],
      });
      return [
        op404('..%2f traversal', '..%2f..%2fv1%2fapps%2fdemo-oauth'),
        op404('%2e%2e', '%2e%2e'),
        op404('%2e%2e%2f', '%2e%2e%2fdemo-oauth'),
        op404('encoded slash inside', 'demo-oauth%2f..'),
        op404('leading encoded slash', '%2fdemo-oauth'),
        op404('double-encoded dots', '%252e%252e'),
        op404('upper case', 'DEMO-OAUTH'),
        op404('mixed case', 'Demo-OAuth'),
        op404('200 characters', 'a'.repeat(200)),
        op404('NUL suffix', 'demo-oauth%00'),
        op404('CRLF suffix', 'demo-oauth%0d%0a'),
        op404('space suffix', 'demo-oauth%20'),
        op404('Cyrillic e', 'd%D0%B5mo-oauth'),
        op404('__proto__', '__proto__'),
        op404('constructor', 'constructor'),
        op404('hasOwnProperty', 'hasOwnProperty'),
        op404('matrix parameter', 'demo-oauth;x=1'),
        op404('leading dash', '-demo-oauth'),
        op404('empty segment', ''),
        op404('encoded question mark', 'demo-oauth%3Fx=1'),
        op404('backslash', 'demo-oauth%5c..'),
      ];
    }),
  );

  it('an app the caller may not use is 403 whether or not it exists (no enumeration)', async ({
    task,
  }) => {
    const apps = ['demo-github-app', 'no-such-app', 'constructor', '__proto__'];
    record(task, {
      area: 'hostile-input',
      kind: 'token API: apps outside the caller policy',
      cases: apps.length,
      expected: '403 forbidden (404 for names that are not app names), no GHES call',
    });
    for (const app of apps) {
      await runHostileCase({
        name: `check on ${app} as svc-readonly`,
        build: async (gw) => ({
          path: `/v1/apps/${app}/token/check`,
          init: {
            method: 'POST',
            headers: {
              authorization: `Bearer ${await gw.caller('svc-readonly')}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ access_token: T }),
          },
        }),
        expect: app === '__proto__' ? NO_APP : [{ status: 403, code: 'forbidden' }],
      });
    }
  });

  it(
    'tokens in the query string are refused, never logged',
    perRoute(
      'token API: token in the query string',
      '400 token-in-query, query never logged, no GHES call',
      (op) => [
        {
          name: `${op}: ?access_token= with an empty object body`,
          build: (gw) =>
            jsonRequest(gw, `${pathOf(op)}?access_token=${T}`, JSON.stringify(extra(op))),
          expect: TOKEN_IN_QUERY,
          mustNotEcho: [T],
        },
        {
          name: `${op}: ?access_token= with no body`,
          build: (gw) => jsonRequest(gw, `${pathOf(op)}?access_token=${T}`, null),
          expect: TOKEN_IN_QUERY,
          mustNotEcho: [T],
        },
      ],
    ),
  );

  it(
    'other methods on the token routes → 404/405, never handled',
    perRoute('token API: other methods', '404 not-found or 405, no GHES call', (op) =>
      (['GET', 'PUT', 'DELETE', 'PATCH'] as const).map((method): HostileCase => ({
        name: `${op}: ${method}`,
        build: async (gw) => ({
          path: pathOf(op),
          init: {
            method,
            headers: {
              authorization: `Bearer ${await gw.caller()}`,
              'content-type': 'application/json',
            },
            ...(method !== 'GET' && { body: JSON.stringify({ access_token: T, ...extra(op) }) }),
          },
        }),
        expect: [
          { status: 404, code: 'not-found' },
          { status: 405, code: 'method-not-allowed' },
        ],
        mustNotEcho: [T],
      })),
    ),
  );
});
