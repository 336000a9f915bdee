/**
 * POST /v1/apps/{app}/oauth/token: every refusal, from the gateway (policy, validation) before
 * GHES is called, and from GHES (its HTTP-200 `error` answers), each with its own problem code.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, TEST_REDIRECT_URI, type TestGateway } from '../helpers/gateway';
import {
  GH_APP,
  OAUTH,
  codeGrant,
  issueCode,
  refreshGrant,
  signIn,
  tokenPath,
  webCalls,
} from './oauth-token.harness';

const OTHER_REDIRECT = 'https://svc-demo.test/other-callback';

async function problemOf(res: Response) {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as { code: string; detail?: string; upstream_error?: string };
}

describe('refused by GHES', () => {
  it('a wrong code → 400 code-invalid', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(tokenPath(OAUTH), codeGrant('0123456789abcdef0123'));
    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({
      code: 'code-invalid',
      upstream_error: 'bad_verification_code',
    });
  });

  it('a code works once', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH);
    expect((await gw.post(tokenPath(OAUTH), codeGrant(code))).status).toBe(200);
    const again = await gw.post(tokenPath(OAUTH), codeGrant(code));
    expect(again.status).toBe(400);
    expect((await problemOf(again)).code).toBe('code-invalid');
  });

  it('a code expires after 10 minutes', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH);
    gw.clock.advance(10 * 60 * 1000 + 1);
    expect((await problemOf(await gw.post(tokenPath(OAUTH), codeGrant(code)))).code).toBe(
      'code-invalid',
    );
  });

  it('a code of another app → code-invalid', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, GH_APP);
    expect((await problemOf(await gw.post(tokenPath(OAUTH), codeGrant(code)))).code).toBe(
      'code-invalid',
    );
  });

  it('a redirect_uri the caller may use, but not the one the code was issued for → 400 redirect-uri-mismatch', async () => {
    const gw = await createTestGateway({
      policy: {
        'svc-demo': {
          apps: ['*'],
          operations: ['code_exchange'],
          redirect_uris: [TEST_REDIRECT_URI, OTHER_REDIRECT],
        },
      },
    });
    const code = await issueCode(gw, OAUTH, { redirect_uri: TEST_REDIRECT_URI });
    const res = await gw.post(tokenPath(OAUTH), codeGrant(code, { redirect_uri: OTHER_REDIRECT }));
    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({
      code: 'redirect-uri-mismatch',
      upstream_error: 'redirect_uri_mismatch',
    });
  });

  it('a wrong refresh token → 400 refresh-token-invalid', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(
      tokenPath(GH_APP),
      refreshGrant('ghr_notarealrefreshtoken0000000000000000'),
    );
    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({
      code: 'refresh-token-invalid',
      upstream_error: 'bad_refresh_token',
    });
  });

  it('a refresh token works once', async () => {
    const gw = await createTestGateway();
    const first = await signIn(gw, GH_APP);
    const r = first.refresh_token ?? '';
    expect((await gw.post(tokenPath(GH_APP), refreshGrant(r))).status).toBe(200);
    const again = await gw.post(tokenPath(GH_APP), refreshGrant(r));
    expect((await problemOf(again)).code).toBe('refresh-token-invalid');
  });

  it('a wrong client secret → 502 upstream-credentials-rejected, logged for operators', async () => {
    const gw = await createTestGateway({
      vars: { DEMO_OAUTH_CLIENT_SECRET: 'not-the-secret-0123456789abcdef' },
    });
    const code = await issueCode(gw, OAUTH);
    const res = await gw.post(tokenPath(OAUTH), codeGrant(code));
    expect(res.status).toBe(502);
    expect((await problemOf(res)).code).toBe('upstream-credentials-rejected');
    expect(
      gw.logs.some(
        (l) => l['event'] === 'ghes.call_failed' && l['reason'] === 'credentials rejected',
      ),
    ).toBe(true);
  });

  it('a GHES failure after the call may have been received → 502 upstream-outcome-unknown, one call', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH);
    gw.emulator.addFault({ operation: 'oauth_access_token', status: 503 });
    const res = await gw.post(tokenPath(OAUTH), codeGrant(code));
    expect(res.status).toBe(502);
    expect((await problemOf(res)).code).toBe('upstream-outcome-unknown');
    expect(webCalls(gw)).toBe(1);
  });

  it('a committed exchange whose answer is lost is never retried', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH);
    gw.emulator.addFault({ operation: 'oauth_access_token', commit_then_fail: true, drop: true });
    const res = await gw.post(tokenPath(OAUTH), codeGrant(code));
    expect((await problemOf(res)).code).toBe('upstream-outcome-unknown');
    expect(webCalls(gw)).toBe(1);
  });
});

/** Refused before GHES is called. */
async function expectNoGhes(gw: TestGateway, res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect((await problemOf(res)).code).toBe(code);
  expect(webCalls(gw)).toBe(0);
}

describe('refused by the gateway, before GHES', () => {
  it('a redirect_uri outside the caller policy → 403', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH, { redirect_uri: 'https://evil.test/cb' });
    const res = await gw.post(
      tokenPath(OAUTH),
      codeGrant(code, { redirect_uri: 'https://evil.test/cb' }),
    );
    await expectNoGhes(gw, res, 403, 'forbidden');
  });

  it('a code exchange without redirect_uri → 403 (it would unlock codes of any callback)', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH, { redirect_uri: null });
    const res = await gw.post(tokenPath(OAUTH), { grant_type: 'authorization_code', code });
    await expectNoGhes(gw, res, 403, 'forbidden');
  });

  it('a caller without code_exchange or refresh → 403', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH);
    await expectNoGhes(
      gw,
      await gw.post(tokenPath(OAUTH), codeGrant(code), 'svc-readonly'),
      403,
      'forbidden',
    );
    await expectNoGhes(
      gw,
      await gw.post(tokenPath(OAUTH), refreshGrant('ghr_x'), 'svc-readonly'),
      403,
      'forbidden',
    );
  });

  it('refresh for an OAuth app → 422 grant-type-unsupported', async () => {
    const gw = await createTestGateway();
    await expectNoGhes(
      gw,
      await gw.post(tokenPath(OAUTH), refreshGrant('ghr_x')),
      422,
      'grant-type-unsupported',
    );
  });

  it('an unknown app → 404', async () => {
    const gw = await createTestGateway();
    await expectNoGhes(
      gw,
      await gw.post(tokenPath('nope'), refreshGrant('ghr_x')),
      404,
      'unknown-app',
    );
  });

  it.each([
    ['no grant_type', { code: 'abc' }],
    ['an unknown grant_type', { grant_type: 'password', username: 'u', password: 'p' }],
    ['client_credentials', { grant_type: 'client_credentials' }],
    [
      'a code grant without code',
      { grant_type: 'authorization_code', redirect_uri: TEST_REDIRECT_URI },
    ],
    ['an extra member', { ...codeGrant('abc'), client_secret: 'x' }],
    ['a code with spaces', codeGrant('a b')],
    ['a code_verifier too short (RFC 7636: 43–128)', codeGrant('abc', { code_verifier: 'short' })],
    ['a refresh grant with a code', { grant_type: 'refresh_token', refresh_token: 'r', code: 'c' }],
    ['an empty refresh token', refreshGrant('')],
  ])('%s → 422 validation-failed', async (_what, body) => {
    const gw = await createTestGateway();
    await expectNoGhes(gw, await gw.post(tokenPath(GH_APP), body), 422, 'validation-failed');
  });

  it('a form body → 415', async () => {
    const gw = await createTestGateway();
    const res = await gw.request(tokenPath(OAUTH), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await gw.caller()}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=authorization_code&code=abc',
    });
    await expectNoGhes(gw, res, 415, 'unsupported-media-type');
  });

  it('GET → 405 naming POST', async () => {
    const gw = await createTestGateway();
    const res = await gw.request(tokenPath(OAUTH), {
      headers: { authorization: `Bearer ${await gw.caller()}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});
