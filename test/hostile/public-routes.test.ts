/**
 * Hostile input where no caller credential is needed or none is sent: the public documents
 * (`/healthz`, `/.well-known/*`, `/openapi.json`), unknown paths, and the protected routes
 * before authentication. Public documents ignore what they are sent; everything else is a 4xx
 * problem. Caller authentication runs before any body is read, so an anonymous 8 MiB or
 * 10,000-deep body costs nothing. GHES is never called (test/hostile/harness.ts).
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

const T = unknownToken(11);
const NOT_FOUND: Expectation[] = [
  { status: 404, code: 'not-found' },
  { status: 405, code: 'method-not-allowed' },
];
const ANONYMOUS: Expectation = { status: 401, code: 'unauthorized' };
const PUBLIC = [
  '/healthz',
  '/.well-known/oauth-authorization-server',
  '/.well-known/jwks.json',
  '/openapi.json',
];

const plain =
  (path: string, init: RequestInit = {}) =>
  async (_gw: TestGateway) => ({ path, init });

describe('hostile input on public routes, unknown paths and anonymous requests', () => {
  it(
    'public documents ignore hostile query strings and headers, but refuse a token in the query',
    classTest(
      'public routes: hostile query strings',
      '200, the normal document, no GHES call',
      () =>
        PUBLIC.flatMap((path): HostileCase[] => [
          {
            // Never ignored (issue 13 §6): src/middleware/token-in-query.ts.
            name: `${path}?token=`,
            build: plain(`${path}?token=${T}&access_token=${T}`),
            expect: { status: 400, code: 'token-in-query' },
            mustNotEcho: [T],
          },
          {
            name: `${path} 8 KiB query`,
            build: plain(`${path}?q=${'%0d%0a'.repeat(1400)}`),
            expect: { ok: true },
          },
          {
            name: `${path} __proto__ query`,
            build: plain(`${path}?__proto__[polluted]=1&constructor[prototype][polluted]=1`),
            expect: { ok: true },
          },
          {
            name: `${path} with a bearer token`,
            build: plain(path, { headers: { authorization: `Bearer ${T}` } }),
            expect: { ok: true },
            mustNotEcho: [T],
          },
        ]),
    ),
  );

  it(
    'other methods and path tricks on public routes → 404/405',
    classTest(
      'public routes: other methods and path tricks',
      '404 not-found / 405, no GHES call',
      () => [
        ...PUBLIC.flatMap((path): HostileCase[] => [
          {
            name: `POST ${path}`,
            build: plain(path, {
              method: 'POST',
              body: JSON.stringify({ token: T }),
              headers: { 'content-type': 'application/json' },
            }),
            expect: NOT_FOUND,
            mustNotEcho: [T],
          },
          { name: `DELETE ${path}`, build: plain(path, { method: 'DELETE' }), expect: NOT_FOUND },
          { name: `${path} NUL suffix`, build: plain(`${path}%00`), expect: NOT_FOUND },
        ]),
        {
          name: 'well-known traversal to a token route',
          build: plain('/.well-known/..%2fv1%2fapps%2fdemo-oauth%2ftoken%2fcheck'),
          expect: NOT_FOUND,
        },
        {
          name: '%2e%2e at the root',
          build: plain('/%2e%2e/%2e%2e/etc/passwd'),
          expect: NOT_FOUND,
        },
        {
          name: 'encoded slash in /v1',
          build: plain('/v1%2fapps%2fdemo-oauth%2ftoken%2fcheck', { method: 'POST' }),
          expect: [...NOT_FOUND, ANONYMOUS],
        },
        { name: '10,000-character path', build: plain(`/${'a/'.repeat(5000)}`), expect: NOT_FOUND },
        {
          name: 'unknown path with an 8 MiB body',
          build: plain('/nowhere', { method: 'POST', body: 'x'.repeat(8 << 20) }),
          expect: NOT_FOUND,
        },
      ],
    ),
  );

  it(
    'anonymous requests with hostile bodies → 401 before the body is read',
    classTest(
      'anonymous requests with hostile bodies',
      '401 unauthorized, body never parsed, no GHES call',
      () => {
        const routes = [
          '/v1/apps/demo-oauth/token/check',
          '/v1/apps/demo-oauth/token/reset',
          '/v1/apps/demo-oauth/grant/delete',
          '/introspect',
        ];
        return routes.flatMap((path): HostileCase[] => [
          {
            name: `${path}: 8 MiB`,
            build: plain(path, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: `{"access_token":"${T}","pad":"${'x'.repeat(8 << 20)}"}`,
            }),
            expect: ANONYMOUS,
            mustNotEcho: [T],
          },
          {
            name: `${path}: 64 MiB chunked`,
            build: plain(path, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: chunkedBody(64 << 20, 16_384).stream,
            }),
            expect: ANONYMOUS,
          },
          {
            name: `${path}: 10,000-deep JSON`,
            build: plain(path, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '['.repeat(10_000) + ']'.repeat(10_000),
            }),
            expect: ANONYMOUS,
          },
          {
            name: `${path}: GitHub token as the caller credential`,
            build: plain(path, {
              method: 'POST',
              headers: { authorization: `Bearer ${T}`, 'content-type': 'application/json' },
              body: JSON.stringify({ access_token: T }),
            }),
            expect: ANONYMOUS,
            mustNotEcho: [T],
          },
        ]);
      },
    ),
  );
});
