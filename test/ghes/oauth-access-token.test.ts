/**
 * exchangeCode / refreshUserToken: POST /login/oauth/access_token on the GHES web host, the
 * client credentials in a form body, `Accept: application/json`; never retried; GitHub's
 * HTTP-200 `error` answers each mapped to their own problem code.
 */
import { describe, expect, it } from 'vitest';
import { exchangeCode, refreshUserToken } from '../../src/ghes/oauth-access-token';
import { problemShape, type ErrorCode } from '../../src/lib/errors';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  GITHUB_APP,
  errorText,
  expectGatewayError,
  hang,
  hangBody,
  harness,
  json,
  networkError,
  reply,
  type Harness,
  type RecordedCall,
} from './harness';

const WEB_URL = 'https://ghes.example.test';
const CODE = 'c0de5ecret0123456789';
const VERIFIER = 'v'.repeat(20) + '-._~' + 'V'.repeat(30);
const REFRESH = 'ghr_1B4a2e77838347a7E420ce178F2E7c6912E1';
const USER_TOKEN = 'ghu_16C7e42F292c6912E7710c838347Ae178B4a';
const NEW_REFRESH = 'ghr_NEWa2e77838347a7E420ce178F2E7c6912E1';

const TOKEN_ANSWER = {
  access_token: 'gho_16C7e42F292c6912E7710c838347Ae178B4a',
  token_type: 'bearer',
  scope: 'repo,gist',
};
const EXPIRING_ANSWER = {
  access_token: USER_TOKEN,
  token_type: 'bearer',
  scope: '',
  expires_in: 28800,
  refresh_token: NEW_REFRESH,
  refresh_token_expires_in: 15811200,
};

function web(
  steps: Parameters<typeof harness>[0],
  options: Parameters<typeof harness>[1] = {},
): Harness {
  const h = harness(steps, options);
  h.ctx.webUrl = WEB_URL;
  return h;
}

function form(call: RecordedCall | undefined): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(call?.body ?? ''));
}

/** The wire contract of the web-flow endpoint (GitHub docs, "Authorizing OAuth apps", step 2). */
function expectWebRequest(call: RecordedCall | undefined, clientId = CLIENT_ID): void {
  expect(call, 'no request was sent').toBeDefined();
  const c = call as RecordedCall;
  expect(c.url).toBe(`${WEB_URL}/login/oauth/access_token`);
  expect(c.method).toBe('POST');
  expect(c.headers['accept']).toBe('application/json');
  expect(c.headers['content-type']).toBe('application/x-www-form-urlencoded');
  expect(c.headers['authorization']).toBeUndefined();
  expect(c.headers['user-agent']).toBeTruthy();
  expect(form(c)['client_id']).toBe(clientId);
  expect(c.redirect).toBe('manual');
  expect(c.signal).toBeInstanceOf(AbortSignal);
}

describe('exchangeCode', () => {
  it('POSTs the code, redirect_uri, verifier and client credentials as a form to the web host', async () => {
    const h = web([json(200, TOKEN_ANSWER)]);
    const out = await exchangeCode(h.ctx, {
      code: CODE,
      redirect_uri: 'https://app.example.test/callback?x=1',
      code_verifier: VERIFIER,
    });
    expect(out).toEqual(TOKEN_ANSWER);
    expect(h.calls).toHaveLength(1);
    expectWebRequest(h.calls[0]);
    expect(form(h.calls[0])).toEqual({
      grant_type: 'authorization_code',
      code: CODE,
      redirect_uri: 'https://app.example.test/callback?x=1',
      code_verifier: VERIFIER,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    // Nothing secret in the URL, where access logs keep it.
    for (const s of [CODE, VERIFIER, CLIENT_SECRET]) expect(h.calls[0]?.url).not.toContain(s);
  });

  it('leaves out what the caller did not give', async () => {
    const h = web([json(200, TOKEN_ANSWER)]);
    await exchangeCode(h.ctx, { code: CODE });
    expect(Object.keys(form(h.calls[0])).sort()).toEqual([
      'client_id',
      'client_secret',
      'code',
      'grant_type',
    ]);
  });

  it('a caller cannot override the client credentials through its fields', async () => {
    const h = web([json(200, TOKEN_ANSWER)]);
    await exchangeCode(h.ctx, { code: CODE, redirect_uri: 'https://a.test/cb&client_id=evil' });
    expect(form(h.calls[0])['client_id']).toBe(CLIENT_ID);
    expect(new URLSearchParams(h.calls[0]?.body).getAll('client_id')).toEqual([CLIENT_ID]);
  });

  it('an expiring GitHub-App token comes with its refresh token; second counts as strings are read', async () => {
    const h = web([
      json(200, { ...EXPIRING_ANSWER, expires_in: '28800', refresh_token_expires_in: '15811200' }),
    ]);
    expect(await exchangeCode(h.ctx, { code: CODE })).toEqual(EXPIRING_ANSWER);
  });

  it('a missing scope is read as empty; unknown members are dropped', async () => {
    const h = web([json(200, { access_token: USER_TOKEN, token_type: 'bearer', extra: 'x' })]);
    expect(await exchangeCode(h.ctx, { code: CODE })).toEqual({
      access_token: USER_TOKEN,
      token_type: 'bearer',
      scope: '',
    });
  });
});

describe('refreshUserToken', () => {
  it('POSTs grant_type=refresh_token with the refresh token and client credentials', async () => {
    const h = web([json(200, EXPIRING_ANSWER)], { app: GITHUB_APP });
    const out = await refreshUserToken(h.ctx, REFRESH);
    expect(out).toEqual(EXPIRING_ANSWER);
    expectWebRequest(h.calls[0], GITHUB_APP.clientId);
    expect(form(h.calls[0])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
      client_id: GITHUB_APP.clientId,
      client_secret: GITHUB_APP.clientSecret,
    });
    expect(h.calls[0]?.url).not.toContain(REFRESH);
  });
});

type Call = (h: Harness) => Promise<unknown>;
const CALLS: Array<[string, Call]> = [
  ['exchangeCode', (h) => exchangeCode(h.ctx, { code: CODE, code_verifier: VERIFIER })],
  ['refreshUserToken', (h) => refreshUserToken(h.ctx, REFRESH)],
];
const SECRETS = [CODE, VERIFIER, REFRESH, CLIENT_SECRET];

/** GitHub's HTTP-200 refusals (GitHub docs: "Troubleshooting OAuth app access token request errors"). */
const OAUTH_ERRORS: Array<[string, ErrorCode, ErrorCode]> = [
  // error, code for the code grant, code for the refresh grant
  ['bad_verification_code', 'code-invalid', 'code-invalid'],
  ['bad_refresh_token', 'refresh-token-invalid', 'refresh-token-invalid'],
  ['invalid_grant', 'code-invalid', 'refresh-token-invalid'],
  ['redirect_uri_mismatch', 'redirect-uri-mismatch', 'redirect-uri-mismatch'],
  ['unsupported_grant_type', 'grant-type-unsupported', 'grant-type-unsupported'],
  [
    'incorrect_client_credentials',
    'upstream-credentials-rejected',
    'upstream-credentials-rejected',
  ],
  ['something_new', 'upstream-error', 'upstream-error'],
];

describe.each(CALLS)('%s: GitHub refusals', (name, call) => {
  it.each(OAUTH_ERRORS)(
    '200 {error: %s} → its own code, one fetch, nothing applied',
    async (error, forCode, forRefresh) => {
      const h = web([
        json(200, {
          error,
          error_description: `The thing ${CODE} ${REFRESH} is wrong.`,
          error_uri: 'https://docs.github.com/x',
        }),
        json(200, TOKEN_ANSWER),
      ]);
      const err = await expectGatewayError(call(h), name === 'exchangeCode' ? forCode : forRefresh);
      expect(h.calls).toHaveLength(1);
      expect(err.mayHaveApplied).toBe(false);
      expect(err.upstreamStatus).toBe(200);
      expect(err.extensions['upstream_error']).toBe(error);
      // GitHub's free text is never passed on, nor any secret.
      expect(errorText(err)).not.toContain('The thing');
      for (const s of SECRETS) {
        expect(errorText(err)).not.toContain(s);
        expect(JSON.stringify(h.logs)).not.toContain(s);
      }
    },
  );

  it('a wrong client secret is logged for operators, naming the client but not the secret', async () => {
    const h = web([json(200, { error: 'incorrect_client_credentials' })]);
    const err = await expectGatewayError(call(h), 'upstream-credentials-rejected');
    expect(problemShape(err.code).status).toBe(502);
    expect(err.reason).toContain(CLIENT_ID);
    expect(
      h.logs.some(
        (l) => l['event'] === 'ghes.call_failed' && l['reason'] === 'credentials rejected',
      ),
    ).toBe(true);
  });

  it('an error code that is not an OAuth code is not repeated', async () => {
    const h = web([json(200, { error: `Weird ${CODE}` })]);
    const err = await expectGatewayError(call(h), 'upstream-error');
    expect(err.extensions['upstream_error']).toBeUndefined();
    expect(errorText(err)).not.toContain('Weird');
  });

  it('a 400 carrying an OAuth error maps as on a 200', async () => {
    const h = web([json(400, { error: 'bad_verification_code' })]);
    const err = await expectGatewayError(call(h), 'code-invalid');
    expect(err.upstreamStatus).toBe(400);
  });

  it('a 404 means the web host is wrong, not an unknown token', async () => {
    const h = web([reply(404, 'Not Found')]);
    const err = await expectGatewayError(call(h), 'upstream-error');
    expect(err.detail).toContain('GHES_WEB_URL');
  });

  it('a redirect is never followed', async () => {
    const h = web([reply(302, null, { location: 'https://elsewhere.test/login' })]);
    await expectGatewayError(call(h), 'upstream-error');
    expect(h.calls).toHaveLength(1);
  });

  it('a 429 is upstream-rate-limited after one fetch: nothing was minted', async () => {
    const h = web([reply(429, '{}', { 'retry-after': '7' }), json(200, TOKEN_ANSWER)]);
    const err = await expectGatewayError(call(h), 'upstream-rate-limited');
    expect(err.mayHaveApplied).toBe(false);
    expect(h.calls).toHaveLength(1);
    expect(h.waits).toEqual([]);
  });
});

describe.each(CALLS)(
  '%s: never retried; a lost answer is upstream-outcome-unknown',
  (_name, call) => {
    const lost: Array<[string, () => Harness]> = [
      ['a 500', () => web([reply(500, 'oops'), json(200, TOKEN_ANSWER)])],
      ['a 503', () => web([reply(503), json(200, TOKEN_ANSWER)])],
      ['a network error', () => web([networkError(), json(200, TOKEN_ANSWER)])],
      ['a timeout', () => web([hang(), json(200, TOKEN_ANSWER)], { timeoutMs: 5 })],
      ['a 200 whose body never arrives', () => web([hangBody(200)], { timeoutMs: 5 })],
      [
        'a 200 that is not JSON',
        () => web([reply(200, '<html>', { 'content-type': 'text/html' })]),
      ],
      ['a 200 form-encoded answer', () => web([reply(200, `access_token=${USER_TOKEN}&scope=`)])],
      ['a 200 without access_token', () => web([json(200, { token_type: 'bearer', scope: '' })])],
      [
        'a 200 with a token that has spaces',
        () => web([json(200, { ...TOKEN_ANSWER, access_token: 'a b' })]),
      ],
      [
        'a 200 with a negative expires_in',
        () => web([json(200, { ...EXPIRING_ANSWER, expires_in: -1 })]),
      ],
      ['a 200 with a numeric error', () => web([json(200, { error: 42 })])],
      [
        'a 200 with a fractional expires_in',
        () => web([json(200, { ...EXPIRING_ANSWER, expires_in: 28800.5 })]),
      ],
      [
        'a 200 with expires_in "0"',
        () => web([json(200, { ...EXPIRING_ANSWER, expires_in: '0' })]),
      ],
      [
        'a 200 with expires_in past ten years',
        () =>
          web([json(200, { ...EXPIRING_ANSWER, refresh_token_expires_in: 10 * 365 * 86_400 + 1 })]),
      ],
      ['a 200 that is an array', () => web([json(200, [TOKEN_ANSWER])])],
    ];
    it.each(lost)(
      '%s → upstream-outcome-unknown, mayHaveApplied, one fetch',
      async (_what, make) => {
        const h = make();
        const err = await expectGatewayError(call(h), 'upstream-outcome-unknown');
        expect(err.mayHaveApplied).toBe(true);
        expect(h.calls).toHaveLength(1);
        expect(h.waits).toEqual([]);
        for (const s of [...SECRETS, USER_TOKEN]) {
          expect(errorText(err)).not.toContain(s);
          expect(JSON.stringify(h.logs)).not.toContain(s);
        }
      },
    );
  },
);

describe('web calls need the web host', () => {
  it('without webUrl the call fails as misconfigured before anything is sent', async () => {
    const h = harness([json(200, TOKEN_ANSWER)]);
    await expectGatewayError(exchangeCode(h.ctx, { code: CODE }), 'misconfigured');
    expect(h.calls).toHaveLength(0);
  });
});
