/**
 * Legacy path-style calls (GHES 2.18 – 3.3): the token travels in the URL path, so it must be
 * percent-encoded into exactly one path segment, and logs must only ever see `{access_token}`.
 * Each call's own legacy behaviour (retries, answers) is tested beside its body style.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/lib/errors';
import { checkToken } from '../../src/ghes/check-token';
import { deleteGrant } from '../../src/ghes/delete-grant';
import { deleteToken } from '../../src/ghes/delete-token';
import type { GhesContext } from '../../src/ghes/request';
import { resetToken } from '../../src/ghes/reset-token';
import {
  BASE_URL,
  CLIENT_ID,
  TOKEN,
  authorization,
  errorText,
  expectGatewayError,
  expectWireRequest,
  expectedBasic,
  harness,
  json,
  leakIn,
  reply,
  type Step,
} from './harness';

const CALLS: ReadonlyArray<{
  name: string;
  fn: (ctx: GhesContext, token: string) => Promise<unknown>;
  method: 'GET' | 'POST' | 'DELETE';
  collection: 'tokens' | 'grants';
  /** A success answer; a check's is about `token`, as GHES's is. */
  ok: (token?: string) => Step;
}> = [
  {
    name: 'checkToken',
    fn: (ctx, token) => checkToken(ctx, token, 'legacy'),
    method: 'GET',
    collection: 'tokens',
    ok: (token = TOKEN) => json(200, authorization({ token, token_last_eight: token.slice(-8) })),
  },
  {
    name: 'resetToken',
    fn: (ctx, token) => resetToken(ctx, token, 'legacy'),
    method: 'POST',
    collection: 'tokens',
    ok: () => json(200, authorization()),
  },
  {
    name: 'deleteToken',
    fn: (ctx, token) => deleteToken(ctx, token, 'legacy'),
    method: 'DELETE',
    collection: 'tokens',
    ok: () => reply(204),
  },
  {
    name: 'deleteGrant',
    fn: (ctx, token) => deleteGrant(ctx, token, 'legacy'),
    method: 'DELETE',
    collection: 'grants',
    ok: () => reply(204),
  },
];

/** What GHES accepts as a token and the gateway lets through: printable ASCII without spaces. */
const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 16,
  maxLength: 80,
});

describe.each(CALLS)('$name', ({ fn, method, collection, ok }) => {
  it(`sends ${method} /${collection}/<token> with no body and Basic auth`, async () => {
    const h = harness([ok()]);
    await fn(h.ctx, TOKEN);
    expect(h.calls).toHaveLength(1);
    expectWireRequest(h.calls[0], { method, path: `/${collection}/${TOKEN}` });
  });

  it('percent-encodes the token into a single path segment', async () => {
    const token = 'a/b?c#d%e&f=g h+i';
    const h = harness([ok(token)]);
    await fn(h.ctx, token);
    expect(h.calls[0]?.url).toBe(
      `${BASE_URL}/applications/${CLIENT_ID}/${collection}/a%2Fb%3Fc%23d%25e%26f%3Dg%20h%2Bi`,
    );
  });

  it('maps 404 on the first attempt to token-not-found', async () => {
    const h = harness([json(404, { message: 'Not Found' })]);
    await expectGatewayError(fn(h.ctx, TOKEN), 'token-not-found');
    expect(h.calls).toHaveLength(1);
  });

  it('logs the path as {access_token}, never the token', async () => {
    const h = harness([json(401, { message: 'Bad credentials' })]);
    await expectGatewayError(fn(h.ctx, TOKEN), 'upstream-credentials-rejected');
    expect(h.logs.length).toBeGreaterThan(0);
    for (const record of h.logs) expect(record['path']).toBe(`/${collection}/{access_token}`);
    expect(leakIn(h.logs, [TOKEN])).toBeUndefined();
  });
});

// "." and ".." are dot segments the URL parser removes (WHATWG URL; "%2e" counts too): sent as
// a token they would take the app's Basic credentials to another endpoint. No GitHub token is a
// dot segment, so they are refused before any request.
describe('dot-segment tokens', () => {
  it('never send a request outside /applications/{client_id}/{tokens|grants}/<token>', async () => {
    const misrouted: string[] = [];
    for (const { name, fn, collection } of CALLS) {
      for (const token of ['.', '..']) {
        const h = harness([json(404, { message: 'Not Found' })]);
        await expect(fn(h.ctx, token)).rejects.toBeInstanceOf(GatewayError);
        const wanted = `/api/v3/applications/${CLIENT_ID}/${collection}/`;
        for (const call of h.calls) {
          const path = new URL(call.url).pathname;
          const rest = path.startsWith(wanted) ? path.slice(wanted.length) : '';
          if (rest === '' || rest.includes('/'))
            misrouted.push(`${name}("${token}") → ${call.method} ${path}`);
        }
      }
    }
    expect(misrouted).toEqual([]);
  });
});

/** Failure answers that make the client log and throw. */
const FAILURES: ReadonlyArray<[string, (token: string, secret: string) => Step]> = [
  ['401', () => json(401, { message: 'Bad credentials' })],
  ['403', () => json(403, { message: 'Must have admin rights to Repository.' })],
  ['404', () => json(404, { message: 'Not Found' })],
  [
    '422 echoing token and secret',
    (t, s) => json(422, { message: `bad ${t} ${s}`, errors: [{ field: t, message: s }] }),
  ],
  ['429', () => reply(429, '{}', { 'retry-after': '120', 'x-ratelimit-remaining': '0' })],
  ['500', () => reply(500, 'Internal Server Error')],
  ['302', (t) => reply(302, null, { location: `${BASE_URL}/elsewhere/${encodeURIComponent(t)}` })],
  [
    'network error',
    () => async () => {
      throw new TypeError('Network connection lost.');
    },
  ],
];

describe('legacy paths never leak the token or the client secret', () => {
  it('whatever the token, the URL is exact and nothing logged or thrown contains a secret', async () => {
    await fc.assert(
      fc.asyncProperty(
        printable,
        printable,
        fc.constantFrom(...CALLS),
        fc.constantFrom(...FAILURES),
        async (token, secret, call, [, failure]) => {
          fc.pre(!token.includes(secret) && !secret.includes(token));
          const app = {
            name: 'docs',
            clientId: CLIENT_ID,
            kind: 'oauth_app' as const,
            clientSecret: secret,
          };
          // Up to three attempts for idempotent calls; the same failure each time.
          const h = harness(
            [failure(token, secret), failure(token, secret), failure(token, secret)],
            { app },
          );
          let thrown: unknown;
          try {
            await call.fn(h.ctx, token);
          } catch (e) {
            thrown = e;
          }
          expect(thrown).toBeInstanceOf(GatewayError);
          expect(h.calls.length).toBeGreaterThan(0);
          for (const c of h.calls) {
            expect(c.url).toBe(
              `${BASE_URL}/applications/${CLIENT_ID}/${call.collection}/${encodeURIComponent(token)}`,
            );
            expect(c.headers['authorization']).toBe(expectedBasic(CLIENT_ID, secret));
          }
          const basic = expectedBasic(CLIENT_ID, secret).slice('Basic '.length);
          const forbidden = [
            token,
            encodeURIComponent(token),
            secret,
            basic,
            h.calls[0]?.url ?? '',
          ];
          expect(leakIn(h.logs, forbidden)).toBeUndefined();
          for (const record of h.logs) {
            if ('path' in record) expect(record['path']).toBe(`/${call.collection}/{access_token}`);
          }
          expect(leakIn(JSON.parse(errorText(thrown as GatewayError)), forbidden)).toBeUndefined();
        },
      ),
      { numRuns: 150 },
    );
  });
});
