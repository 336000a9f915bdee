/**
 * Token-shaped request ids are never echoed or logged in any form (src/lib/request-id.ts, wired
 * in src/app.ts): property tests through the whole gateway, on a success, a problem and a 404.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ID_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-'];
const BASE62 = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
const HEX = [...'0123456789abcdef'];

const chars = (alphabet: string[], min: number, max: number) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));

/** Every credential shape the gateway sees or holds, in the case variants a client might send. */
const token = fc.oneof(
  fc
    .tuple(fc.constantFrom('gho_', 'ghu_', 'ghs_', 'ghr_', 'ghp_'), chars(BASE62, 36, 36))
    .map(([p, b]) => p + b),
  chars(HEX, 40, 40),
  chars(HEX, 40, 40).map((h) => h.toUpperCase()),
  chars(HEX, 40, 40).map((h) => `v1.${h}`),
  chars(BASE62, 22, 22).map((b) => `github_pat_${b}`),
  chars(BASE62, 36, 40),
);

/** A token somewhere inside an otherwise plain id (possibly over 64 characters in all). */
const idWithToken = fc
  .tuple(chars(ID_CHARS, 0, 12), token, chars(ID_CHARS, 0, 12))
  .map(([before, t, after]) => ({ id: `${before}${t}${after}`, token: t }));

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});

async function send(path: string, id: string, init: RequestInit = {}) {
  const before = gw.logs.length;
  const res = await gw.request(path, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), 'x-request-id': id },
  });
  const body = await res.text();
  return { res, body, logs: JSON.stringify(gw.logs.slice(before)) };
}

describe('request ids that contain a token', () => {
  it('property: are replaced by a fresh UUID, and neither the id nor the token is echoed or logged', async () => {
    const caller = await gw.caller();
    await fc.assert(
      fc.asyncProperty(
        idWithToken,
        fc.constantFrom(
          ['/healthz', {}],
          ['/no-such-route', {}],
          [
            '/v1/apps/demo-oauth/token/check',
            {
              method: 'POST',
              headers: { authorization: `Bearer ${caller}`, 'content-type': 'application/json' },
              body: '{"access_token":"not a token"}',
            },
          ],
        ),
        async ({ id, token: t }, [path, init]) => {
          const { res, body, logs } = await send(path as string, id, init as RequestInit);
          const echoed = res.headers.get('x-request-id') ?? '';
          expect(echoed).toMatch(UUID);
          for (const text of [echoed, body, logs, [...res.headers].join('\n')]) {
            expect(text).not.toContain(t);
            expect(text.toLowerCase()).not.toContain(t.toLowerCase());
          }
          // The fresh id is the one logged (routes that log a line today) and put in problems.
          if (path.startsWith('/v1/')) expect(logs).toContain(echoed);
          if (res.status >= 400)
            expect((JSON.parse(body) as { request_id: string }).request_id).toBe(echoed);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: a plain id (UUIDs, trace ids, short dotted ids) is still reused everywhere', async () => {
    const caller = await gw.caller();
    const plain = fc.oneof(
      fc.uuid(),
      chars(HEX, 32, 32).map((t) => `00-${t}-${'0'.repeat(15)}1-01`),
      fc.array(chars(BASE62, 1, 20), { minLength: 1, maxLength: 3 }).map((p) => p.join('.')),
    );
    await fc.assert(
      fc.asyncProperty(
        plain.filter((id) => !/gh[a-z]_/i.test(id)),
        async (id) => {
          const { res, body, logs } = await send('/v1/apps/demo-oauth/token/check', id, {
            method: 'POST',
            headers: { authorization: `Bearer ${caller}`, 'content-type': 'application/json' },
            body: '{"access_token":"not a token"}',
          });
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.headers.get('x-request-id')).toBe(id);
          expect((JSON.parse(body) as { request_id: string }).request_id).toBe(id);
          expect(logs).toContain(id);
        },
      ),
      { numRuns: 60 },
    );
  });
});
