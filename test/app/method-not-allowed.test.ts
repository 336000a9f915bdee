/** RFC 9110 §15.5.6: a known path under another method is 405 with `Allow`, not 404. */
import { describe, expect, it } from 'vitest';
import { createTestGateway } from '../helpers/gateway';

describe('405 method-not-allowed', () => {
  it('GET on a POST route (authenticated) answers 405 with Allow: POST and no GHES call', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/v1/apps/demo-oauth/token/check', {
      method: 'GET',
      headers: { authorization: `Bearer ${await gw.caller()}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'method-not-allowed', status: 405 });
    expect(Object.values(gw.emulator.calls()).every((n) => n === 0)).toBe(true);
  });

  it('caller auth still comes first: an unauthenticated GET on a POST route is 401', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/v1/apps/demo-oauth/token/check', { method: 'GET' });
    expect(res.status).toBe(401);
  });

  it('POST on a GET-only public route answers 405 with Allow: GET', async () => {
    const gw = await createTestGateway();
    for (const path of ['/healthz', '/openapi.json', '/.well-known/jwks.json']) {
      const res = await gw.request(path, { method: 'POST' });
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow'), path).toBe('GET');
    }
  });

  it('an unknown path is still 404 not-found', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/v2/nothing', { method: 'GET' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'not-found' });
  });
});
