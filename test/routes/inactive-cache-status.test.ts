/**
 * An inactive answer's Cache-Status does not tell a token revoked through the gateway from one
 * that never existed: on /introspect, /forward-auth and /v1 check, at each tier (this isolate's
 * memory, KV with memory off, and right after the revocation's tombstone has outlived a negative
 * entry's freshness), the headers of the two answers are the same.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway, seedTokens } from '../helpers/gateway';
import { forwardAuth, introspect } from '../introspection/requests';

const APP = 'demo-oauth';
const UNKNOWN = 'gho_' + 'U'.repeat(36);

type Ask = (gw: TestGateway, token: string) => Promise<Response>;

const ENDPOINTS: [string, Ask][] = [
  ['/introspect', (gw, token) => introspect(gw, { token, app: APP })],
  ['/forward-auth', (gw, token) => forwardAuth(gw, `/forward-auth?app=${APP}`, token)],
  ['/v1 check', (gw, token) => gw.post(`/v1/apps/${APP}/token/check`, { access_token: token })],
];

/** Status, every header but the request id, and the body without the request id. */
async function shape(res: Response) {
  const text = await res.text();
  const id = res.headers.get('x-request-id') ?? '';
  return {
    status: res.status,
    headers: [...res.headers].filter(([name]) => name !== 'x-request-id'),
    body: id === '' ? text : text.replaceAll(id, '<request id>'),
  };
}

/** Forward auth's 401 carries no Cache-Status; the others carry this one. */
function expectStatus(endpoint: string, res: Response, value: string): void {
  expect(res.headers.get('cache-status')).toBe(endpoint === '/forward-auth' ? null : value);
}

async function revokedAndUnknown(gw: TestGateway, ask: Ask): Promise<[Response, Response]> {
  const revoked = seedTokens(gw).monalisaOauth;
  // Both were seen before: the revoked one as active, the unknown one as a GHES 404.
  expect((await ask(gw, revoked)).headers.get('cache-status')).toMatch(/fwd-status=200/);
  await ask(gw, UNKNOWN);
  const deleted = await gw.post(`/v1/apps/${APP}/token/delete`, { access_token: revoked });
  expect(deleted.status).toBe(204);
  await gw.settle();
  return [await ask(gw, revoked), await ask(gw, UNKNOWN)];
}

describe('inactive answers: revoked looks like unknown', () => {
  it.each(ENDPOINTS)('%s, answered from memory (tombstone vs negative entry)', async (n, ask) => {
    const gw = await createTestGateway();
    const [revoked, unknown] = await revokedAndUnknown(gw, ask);
    expectStatus(n, revoked, 'ghes-token-gateway; hit; detail=l1');
    expect(await shape(revoked)).toEqual(await shape(unknown));
  });

  it.each(ENDPOINTS)('%s, answered from KV (memory off)', async (n, ask) => {
    const gw = await createTestGateway({ vars: { CACHE_L1_MAX_ENTRIES: '0' } });
    const [revoked, unknown] = await revokedAndUnknown(gw, ask);
    expectStatus(n, revoked, 'ghes-token-gateway; hit; detail=kv');
    expect(await shape(revoked)).toEqual(await shape(unknown));
  });

  it.each(ENDPOINTS)(
    '%s, once a negative entry would have expired but the tombstone has not',
    async (n, ask) => {
      const gw = await createTestGateway();
      const [, first] = await revokedAndUnknown(gw, ask);
      expectStatus(n, first, 'ghes-token-gateway; hit; detail=l1');
      // CACHE_NEGATIVE_TTL_S is 60: the unknown token's entry has run out, the tombstone not.
      gw.clock.advance(90);
      const revoked = await ask(gw, seedTokens(gw).monalisaOauth);
      const unknown = await ask(gw, UNKNOWN);
      // The shapes differ in where the answer came from (the timing would tell anyway), never
      // in a ttl, a GHES status or a `revoked` detail.
      for (const res of [revoked, unknown])
        expect(res.headers.get('cache-status') ?? 'ghes-token-gateway; hit; detail=l1').toMatch(
          /^ghes-token-gateway(?:; hit; detail=l1|; fwd=miss; stored)$/,
        );
    },
  );

  it('a token whose grant was deleted forwards like an unknown token, not as an unusable entry', async () => {
    const gw = await createTestGateway({ vars: { CACHE_L1_MAX_ENTRIES: '0' } });
    const token = seedTokens(gw).octocatOauth;
    await introspect(gw, { token, app: APP });
    await gw.settle();
    const deleted = await gw.post(`/v1/apps/${APP}/grant/delete`, { access_token: token });
    expect(deleted.status).toBe(204);
    await gw.settle();
    gw.clock.advance(700); // past the tombstone: the KV positive is now only undone by the epoch
    const revoked = await introspect(gw, { token, app: 'demo-oauth' });
    const unknown = await introspect(gw, { token: 'gho_' + 'V'.repeat(36), app: APP });
    expect(await revoked.json()).toEqual({ active: false });
    expect(revoked.headers.get('cache-status')).toBe(unknown.headers.get('cache-status'));
  });
});
