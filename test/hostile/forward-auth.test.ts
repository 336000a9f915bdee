/**
 * Hostile input on forward auth (`/forward-auth` and below, any method), from an authenticated
 * API gateway (`X-Gateway-Authorization`). The end user's `Authorization` header, the `app` and
 * `scope` query parameters and the path are all attacker-controlled: malformed credentials are
 * 401 for the end user, bad parameters 400 (a gateway misconfiguration), and none of it reaches
 * GHES or produces a 5xx (test/hostile/harness.ts).
 */
import { describe, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway';
import {
  chunkedBody,
  unknownToken,
  type Expectation,
  type HostileCase,
  classTest,
} from './harness';

const T = unknownToken(9);
const INVALID: Expectation = { status: 400, code: 'invalid-request' };
/** The end user's token is missing, malformed or not active (`realm="GitHub"`). */
const DENIED: Expectation = { status: 401, code: 'invalid-token' };
const TOKEN_IN_QUERY: Expectation = { status: 400, code: 'token-in-query' };

async function forward(
  gw: TestGateway,
  path: string,
  headers: Record<string, string>,
  init: RequestInit = {},
) {
  return {
    path,
    init: {
      method: 'GET',
      ...init,
      headers: { 'x-gateway-authorization': `Bearer ${await gw.caller()}`, ...headers },
    } satisfies RequestInit,
  };
}

function credentialCase(name: string, authorization: string | undefined): HostileCase {
  return {
    name: `Authorization: ${name}`,
    build: (gw) =>
      forward(gw, '/forward-auth', authorization === undefined ? {} : { authorization }),
    expect: DENIED,
    mustNotEcho: authorization === undefined ? [] : [authorization, T],
  };
}

function queryCase(
  name: string,
  query: string,
  expected: Expectation | Expectation[],
): HostileCase {
  return {
    name: `query: ${name}`,
    build: (gw) => forward(gw, `/forward-auth?${query}`, { authorization: `Bearer ${T}` }),
    expect: expected,
    mustNotEcho: [T],
  };
}

describe('hostile input on /forward-auth', () => {
  it(
    'malformed end-user credentials → 401 without asking GHES',
    classTest(
      'forward auth: malformed, overlong and non-ASCII Authorization',
      '401 invalid-token, no GHES call',
      () => [
        credentialCase('missing', undefined),
        credentialCase('empty', ''),
        credentialCase('scheme only', 'Bearer'),
        credentialCase('Basic', `Basic ${btoa(`user:${T}`)}`),
        credentialCase('two tokens', `Bearer ${T}, Bearer ${unknownToken(10)}`),
        credentialCase('inner space', `Bearer gho_ ${T.slice(4)}`),
        credentialCase('tab instead of space', `Bearer\t${T}`),
        credentialCase('256-character token', `Bearer gho_${'a'.repeat(252)}`),
        credentialCase('10,000-character token', `Bearer gho_${'A1'.repeat(4998)}`),
        credentialCase('DEL character', `Bearer ${T}\u007f`),
      ],
    ),
  );

  it(
    'app and scope parameter tricks → 400 (or 404 for a well-formed unknown app)',
    classTest(
      'forward auth: app / scope query tricks',
      '400 invalid-request or 404 unknown-app, no GHES call',
      () => [
        queryCase('app=..%2f', 'app=..%2fdemo-oauth', INVALID),
        queryCase('app=%2e%2e', 'app=%2e%2e', INVALID),
        queryCase('app upper case', 'app=DEMO-OAUTH', INVALID),
        // A run of 36+ letters is credential-shaped (src/lib/secret-shaped.ts): refused as one.
        queryCase('app of 200 characters', `app=${'a'.repeat(200)}`, [INVALID, TOKEN_IN_QUERY]),
        queryCase('app=__proto__', 'app=__proto__', INVALID),
        queryCase('app with CRLF', 'app=demo-oauth%0d%0a', INVALID),
        queryCase('app with NUL', 'app=demo-oauth%00', INVALID),
        queryCase('app twice', 'app=demo-oauth&app=demo-github-app', INVALID),
        queryCase('app twice, same value', 'app=demo-oauth&app=demo-oauth', INVALID),
        queryCase('app=constructor', 'app=constructor', { status: 404, code: 'unknown-app' }),
        queryCase('scope with CRLF', 'scope=repo%0d%0aX-Injected:%20yes', INVALID),
        queryCase('scope with a double quote', 'scope=re%22po', INVALID),
        queryCase('scope with a backslash', 'scope=re%5cpo', INVALID),
        queryCase('scope of 101 characters', `scope=${'s'.repeat(101)}`, [INVALID, TOKEN_IN_QUERY]),
        queryCase(
          '21 scopes',
          Array.from({ length: 21 }, (_, i) => `scope=s${i}`).join('&'),
          INVALID,
        ),
        queryCase('non-ASCII scope', 'scope=r%C3%A9po', INVALID),
      ],
    ),
  );

  it(
    'tokens in the query string are refused, never used or logged',
    classTest(
      'forward auth: token in the query string',
      '400 token-in-query, query never logged, no GHES call',
      () => [
        {
          name: '?access_token=',
          build: (gw) => forward(gw, `/forward-auth?access_token=${T}`, {}),
          expect: TOKEN_IN_QUERY,
          mustNotEcho: [T],
        },
        {
          name: '?token=',
          build: (gw) => forward(gw, `/forward-auth/api/x?token=${T}`, {}),
          expect: TOKEN_IN_QUERY,
          mustNotEcho: [T],
        },
      ],
    ),
  );

  it(
    'paths and bodies under /forward-auth cannot reach other routes',
    classTest(
      'forward auth: path tricks and bodies',
      '401 invalid-token (no end-user token), no GHES call',
      () => [
        {
          name: 'encoded traversal to a token route',
          build: (gw) =>
            forward(
              gw,
              '/forward-auth/..%2f..%2fv1%2fapps%2fdemo-oauth%2ftoken%2freset',
              { 'content-type': 'application/json' },
              { method: 'POST', body: JSON.stringify({ access_token: T }) },
            ),
          expect: DENIED,
          mustNotEcho: [T],
        },
        {
          // The URL standard reads `%2e%2e` as `..`, so this is GET /introspect by the time it
          // arrives: refused there for want of a caller credential in Authorization.
          name: '%2e%2e segments',
          build: (gw) => forward(gw, '/forward-auth/%2e%2e/%2e%2e/introspect', {}),
          expect: [DENIED, { status: 401, code: 'unauthorized' }],
        },
        {
          name: '10,000-character path',
          build: (gw) => forward(gw, `/forward-auth/${'p/'.repeat(5000)}`, {}),
          expect: DENIED,
        },
        {
          name: '8 MiB body (never read)',
          build: (gw) =>
            forward(gw, '/forward-auth', {}, { method: 'POST', body: 'x'.repeat(8 << 20) }),
          expect: DENIED,
        },
        {
          name: '64 MiB chunked body (never read)',
          build: (gw) =>
            forward(gw, '/forward-auth', {}, { method: 'PUT', body: chunkedBody(64 << 20).stream }),
          expect: DENIED,
        },
      ],
    ),
  );
});
