import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { introspect, problemOf } from '../introspection/requests';

function seedToken(gw: TestGateway): string {
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('the test gateway runs the demo seed');
  return seed.tokens.octocatOauth;
}

function expectNoStore(res: Response): void {
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
}

/** A 503 problem that fails closed: never an introspection answer. */
async function expectFailClosed(
  res: Response,
  upstreamCode: string,
): Promise<Record<string, unknown>> {
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expectNoStore(res);
  const body = await problemOf(res);
  expect(body).toMatchObject({
    code: 'upstream-unavailable',
    status: 503,
    upstream_code: upstreamCode,
  });
  expect(body).not.toHaveProperty('active');
  return body;
}

describe('POST /introspect: GHES failures fail closed', () => {
  it('answers 503 when GHES keeps answering 5xx, and never caches it', async () => {
    const gw = await createTestGateway();
    const token = seedToken(gw);
    gw.emulator.setFaults({ status: 502, operation: 'check' });

    await expectFailClosed(await introspect(gw, { token }), 'upstream-error');
    expect(gw.emulator.calls().check).toBe(3);

    // GHES recovers: the next introspection asks again and gets the real answer.
    gw.emulator.clearFaults();
    const res = await introspect(gw, { token });
    expect(((await res.json()) as { active: boolean }).active).toBe(true);
  });

  it('answers 503 when GHES does not answer in time', async () => {
    const gw = await createTestGateway({ vars: { GHES_TIMEOUT_MS: '50' } });
    gw.emulator.setFaults({ hang: true, operation: 'check' });

    await expectFailClosed(await introspect(gw, { token: seedToken(gw) }), 'upstream-timeout');
  });

  it('answers 503 with Retry-After when GHES rate-limits the gateway', async () => {
    const gw = await createTestGateway();
    gw.emulator.setFaults({ status: 429, retry_after: 30, operation: 'check' });

    const res = await introspect(gw, { token: seedToken(gw) });

    await expectFailClosed(res, 'upstream-rate-limited');
    expect(res.headers.get('retry-after')).toBe('30');
  });

  it('answers 503 for a secondary rate limit (403 with retry-after)', async () => {
    const gw = await createTestGateway();
    gw.emulator.setFaults({
      status: 403,
      secondary_rate_limit: true,
      retry_after: 10,
      operation: 'check',
    });

    const res = await introspect(gw, { token: seedToken(gw) });

    await expectFailClosed(res, 'upstream-rate-limited');
    expect(res.headers.get('retry-after')).toBe('10');
  });

  it('answers 503 when GHES rejects the app credentials with 401', async () => {
    const gw = await createTestGateway({
      badCredentialsStatus: 401,
      vars: { DEMO_OAUTH_CLIENT_SECRET: 'not-the-secret' },
    });

    const body = await expectFailClosed(
      await introspect(gw, { token: seedToken(gw) }),
      'upstream-credentials-rejected',
    );
    expect(JSON.stringify(body)).not.toContain('not-the-secret');
  });

  it('answers 503 with Retry-After while the circuit breaker holds calls back', async () => {
    const gw = await createTestGateway({ vars: { BREAKER_THRESHOLD: '1' } });
    gw.emulator.setFaults({ status: 500, operation: 'check' });
    expect((await introspect(gw, { token: seedToken(gw) })).status).toBe(503);
    const callsBefore = gw.emulator.calls().check;

    const res = await introspect(gw, { token: seedToken(gw) });

    await expectFailClosed(res, 'upstream-unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(gw.emulator.calls().check).toBe(callsBefore);
  });

  it('never answers active:false for a GHES failure, even for a token it would reject', async () => {
    const gw = await createTestGateway();
    gw.emulator.setFaults({ status: 503, operation: 'check' });

    const res = await introspect(gw, { token: 'gho_' + 'u'.repeat(36) });

    await expectFailClosed(res, 'upstream-error');
  });
});

describe('POST /introspect: malformed requests', () => {
  it('refuses a missing or empty token with 400', async () => {
    const gw = await createTestGateway();
    for (const params of [{}, { token: '' }, { app: 'demo-oauth' }]) {
      const res = await introspect(gw, params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expectNoStore(res);
      expect(await problemOf(res)).toMatchObject({
        code: 'invalid-request',
        errors: [{ field: 'form.token', message: 'is required' }],
      });
    }
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('refuses a repeated token parameter with 400 (RFC 6749 §3.1) without checking either', async () => {
    const gw = await createTestGateway();
    const res = await introspect(gw, [
      ['token', seedToken(gw)],
      ['token', 'gho_' + 'z'.repeat(36)],
    ]);

    expect(res.status).toBe(400);
    const body = await problemOf(res);
    expect(body).toMatchObject({
      code: 'invalid-request',
      errors: [{ field: 'form.token', message: 'must not be sent more than once' }],
    });
    expect(JSON.stringify(body)).not.toContain(seedToken(gw));
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('refuses a malformed token_type_hint or app with 400', async () => {
    const gw = await createTestGateway();
    const token = seedToken(gw);
    for (const [params, field] of [
      [{ token, token_type_hint: 'x'.repeat(65) }, 'form.token_type_hint'],
      [{ token, token_type_hint: 'access token' }, 'form.token_type_hint'],
      [{ token, app: '../demo-oauth' }, 'form.app'],
      [{ token, app: 'Demo-OAuth' }, 'form.app'],
    ] as const) {
      const res = await introspect(gw, params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(await problemOf(res)).toMatchObject({ code: 'invalid-request', errors: [{ field }] });
    }
  });

  it('refuses JSON and multipart bodies with 415', async () => {
    const gw = await createTestGateway();
    const token = seedToken(gw);
    const json = await introspect(
      gw,
      {},
      { contentType: 'application/json', body: JSON.stringify({ token }) },
    );
    expect(json.status).toBe(415);
    expectNoStore(json);
    expect(await problemOf(json)).toMatchObject({ code: 'unsupported-media-type' });

    const form = new FormData();
    form.set('token', token);
    const multipart = await gw.request('/introspect', {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.caller()}` },
      body: form,
    });
    expect(multipart.status).toBe(415);

    const none = await introspect(gw, {}, { contentType: '', body: `token=${token}` });
    expect(none.status).toBe(415);
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('accepts a charset parameter on the form content type', async () => {
    const gw = await createTestGateway();
    const res = await introspect(
      gw,
      { token: seedToken(gw) },
      {
        contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
      },
    );
    expect(res.status).toBe(200);
  });

  it('refuses a body over MAX_BODY_BYTES with 413', async () => {
    const gw = await createTestGateway({ vars: { MAX_BODY_BYTES: '1024' } });
    const res = await introspect(gw, { token: seedToken(gw), padding: 'p'.repeat(2000) });

    expect(res.status).toBe(413);
    expectNoStore(res);
    expect(await problemOf(res)).toMatchObject({ code: 'payload-too-large' });
    expect(gw.emulator.calls().check).toBe(0);
  });

  it('answers 404 for an unknown app named by a caller allowed every app', async () => {
    const gw = await createTestGateway();
    const res = await introspect(gw, { token: seedToken(gw), app: 'no-such-app' });

    expect(res.status).toBe(404);
    expectNoStore(res);
    expect(await problemOf(res)).toMatchObject({ code: 'unknown-app' });
  });

  it('answers 400 when neither the request nor the caller policy names an app', async () => {
    const gw = await createTestGateway({
      policy: { 'svc-nodefault': { apps: ['*'], operations: ['introspect'] } },
    });
    const res = await introspect(gw, { token: seedToken(gw) }, { sub: 'svc-nodefault' });

    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({ code: 'invalid-request' });
  });

  it('answers 405 with Allow: POST for other methods on /introspect', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/introspect', {
      headers: { authorization: `Bearer ${await gw.caller()}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('POST /introspect: content types the media-type gate refuses', () => {
  it('answers 415 unsupported-media-type (never a 500) for a form type with odd parameters', async () => {
    const gw = await createTestGateway();
    const res = await introspect(
      gw,
      { token: 'gho_' + 'a'.repeat(36) },
      { contentType: 'application/x-www-form-urlencoded ;x' },
    );
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 'unsupported-media-type' });
    expect(gw.emulator.calls()['check']).toBe(0);
  });
});
