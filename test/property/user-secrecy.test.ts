/**
 * Property: the OAuth web flow (code exchange, refresh) and the OAuth Authorizations API keep
 * every credential where it belongs. Whatever the client secrets, pepper, user passwords,
 * PKCE verifiers and hostile inputs are, no password (raw or as Basic), OTP, authorization code,
 * code_verifier, refresh token, access token or client secret appears in a log line, a KV key or
 * value, a response header, a response body or a URL the gateway sent to GHES — except a token
 * (and, for a GitHub App, its refresh token) in the body of the one answer that mints it. Codes,
 * verifiers, passwords and OTPs appear in no answer at all. The app-token routes: secrecy.test.ts.
 * Seed, case counts and time budgets: test/helpers/fast-check.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyPlan } from '../helpers/fast-check';
import { record } from '../hostile/record';
import {
  codeVerifierArb,
  headerSafe,
  hostileToken,
  passwordArb,
  printable,
  secretsArb,
} from './arbitraries';
import {
  GH_APP,
  OAUTH,
  PROPERTY_REDIRECT_URI,
  basicOf,
  createPropertyGateway,
  s256,
  surfacesOf,
  whereVisible,
  type Exchange,
  type GeneratedSecrets,
  type PropertyGateway,
} from './harness';

/** The user without two-factor authentication, and the one with it. */
const PLAIN = 'octocat';
const TWO_FACTOR = 'hubot';

interface UserInputs {
  password: string;
  password2fa: string;
  wrongPassword: string;
  twoFactor: 'sms' | 'app';
  verifier: string;
  wrongVerifier: string;
  pkce: boolean;
  fingerprint: string;
  stranger: string;
}

/**
 * The OAuth app's client secret at most 40 characters, like GHES's own (40 hex): GHES takes no
 * longer one in Authorizations API create calls, so the lifecycle's creates could not succeed.
 * The fuzz property draws any secret (`secretsArb`): GHES's 422 for a longer one quotes it,
 * escaped or overlapping a password, and src/ghes/outcome.ts `scrub` must remove every part.
 */
const ghesSecretsArb: fc.Arbitrary<GeneratedSecrets> = secretsArb.chain((s) =>
  printable(20, 40).map((oauthSecret) => ({ ...s, oauthSecret })),
);

const userInputsArb: fc.Arbitrary<UserInputs> = fc.record({
  password: passwordArb,
  password2fa: passwordArb,
  wrongPassword: passwordArb,
  twoFactor: fc.constantFrom('sms' as const, 'app' as const),
  verifier: codeVerifierArb,
  wrongVerifier: codeVerifierArb,
  pkce: fc.boolean(),
  fingerprint: printable(8, 40),
  stranger: hostileToken,
});

/** What a run must never show, and what it minted (allowed only in the answer that minted it). */
interface Ledger {
  /** Passwords, Basic credentials, OTPs, codes, verifiers, submitted refresh tokens. */
  never: string[];
  /** Every minted token or refresh token → the labels whose body may carry it. */
  minted: Map<string, string>;
}

const wrongOtp = (otp: string) => String((Number(otp) + 1) % 1_000_000).padStart(6, '0');
const parse = <T>(e: Exchange) => JSON.parse(e.body) as T;

function requests(gw: PropertyGateway, caller: string) {
  const oauthToken = (label: string, app: string, body: unknown) =>
    gw.send(label, `/v1/apps/${app}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const check = (label: string, app: string, token: string) =>
    gw.send(label, `/v1/apps/${app}/token/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller}`, 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: token }),
    });
  /** An Authorizations API call as a user (`basic` is the X-GHES-User-Authorization value). */
  const asUser = (
    label: string,
    method: string,
    path: string,
    basic: string | undefined,
    otp?: string,
    body?: unknown,
  ) =>
    gw.send(label, `/v1/apps/${OAUTH}/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${caller}`,
        ...(basic !== undefined && { 'x-ghes-user-authorization': basic }),
        ...(otp !== undefined && { 'x-github-otp': otp }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  return { oauthToken, check, asUser };
}

/** Code exchange for both apps, refresh, refused and lost exchanges. */
async function webFlow(gw: PropertyGateway, caller: string, input: UserInputs, ledger: Ledger) {
  const { oauthToken, check } = requests(gw, caller);
  const mint = (e: Exchange) => {
    if (e.status !== 200) return;
    const t = parse<{ access_token: string; refresh_token?: string }>(e);
    ledger.minted.set(t.access_token, e.label);
    if (t.refresh_token !== undefined) ledger.minted.set(t.refresh_token, e.label);
  };
  const code = async (app: string, redirect = PROPERTY_REDIRECT_URI, challenge?: string) => {
    const issued = await gw.issueCode({
      app,
      login: PLAIN,
      ...(app === OAUTH && { scopes: ['repo'] }),
      redirect_uri: redirect,
      ...(challenge !== undefined && { code_challenge: challenge, code_challenge_method: 'S256' }),
    });
    ledger.never.push(issued);
    return issued;
  };
  const grant = (c: string, extra: Record<string, unknown> = {}) => ({
    grant_type: 'authorization_code',
    code: c,
    redirect_uri: PROPERTY_REDIRECT_URI,
    ...extra,
  });
  ledger.never.push(input.verifier, input.wrongVerifier);

  if (input.pkce) gw.emulator.configure({ pkce: true });
  const oauthCode = await code(OAUTH, PROPERTY_REDIRECT_URI, await s256(input.verifier));
  if (input.pkce)
    await oauthToken(
      'exchange with a wrong verifier',
      OAUTH,
      grant(oauthCode, { code_verifier: input.wrongVerifier }),
    );
  mint(
    await oauthToken('exchange oauth', OAUTH, grant(oauthCode, { code_verifier: input.verifier })),
  );
  await oauthToken(
    'exchange a used code',
    OAUTH,
    grant(oauthCode, { code_verifier: input.verifier }),
  );
  await oauthToken(
    'exchange for another redirect',
    OAUTH,
    grant(await code(OAUTH, 'https://elsewhere.test/callback')),
  );
  await oauthToken('exchange a stranger', GH_APP, grant(input.stranger));

  const gh = await oauthToken('exchange gh', GH_APP, grant(await code(GH_APP)));
  mint(gh);
  const first = parse<{ access_token: string; refresh_token: string }>(gh);
  const refresh = (label: string, app: string, token: string) =>
    oauthToken(label, app, { grant_type: 'refresh_token', refresh_token: token });
  const refreshed = await refresh('refresh', GH_APP, first.refresh_token);
  mint(refreshed);
  await refresh('refresh a used refresh token', GH_APP, first.refresh_token);
  await refresh('refresh an OAuth app', OAUTH, input.stranger);
  await check('check the token a refresh retired', GH_APP, first.access_token);
  const second = parse<{ access_token: string; refresh_token: string }>(refreshed);
  await check('check the refreshed token', GH_APP, second.access_token);

  gw.emulator.setFaults({
    operation: 'oauth_access_token',
    commit_then_fail: true,
    status: 502,
    times: 2,
  });
  await oauthToken('exchange with the answer lost', GH_APP, grant(await code(GH_APP)));
  await refresh('refresh with the answer lost', GH_APP, second.refresh_token);
  gw.emulator.clearFaults();
}

/** The Authorizations API as a plain user and a two-factor user, refusals and failures. */
async function authorizations(
  gw: PropertyGateway,
  caller: string,
  input: UserInputs,
  ledger: Ledger,
) {
  const { check, asUser } = requests(gw, caller);
  await gw.addUser(PLAIN, input.password);
  await gw.addUser(TWO_FACTOR, input.password2fa, input.twoFactor);
  const otp = await gw.otpOf(TWO_FACTOR);
  const plain = basicOf(PLAIN, input.password);
  const twoFactor = basicOf(TWO_FACTOR, input.password2fa);
  const wrong = basicOf(PLAIN, input.wrongPassword);
  const strip = (basic: string) => basic.slice('Basic '.length);
  ledger.never.push(
    input.password,
    input.password2fa,
    input.wrongPassword,
    strip(plain),
    strip(twoFactor),
    strip(wrong),
    otp,
    wrongOtp(otp),
  );
  const mint = (e: Exchange) => {
    if (e.status === 201) ledger.minted.set(parse<{ token: string }>(e).token, e.label);
    return e;
  };
  const fp = input.fingerprint;

  const put = mint(
    await asUser('authz put', 'PUT', 'authorizations', plain, undefined, {
      fingerprint: fp,
      scopes: ['repo'],
      note: 'property',
    }),
  );
  const made = parse<{ id: number; token: string }>(put);
  await check('check the token authz put made', OAUTH, made.token);
  await asUser('authz put again', 'PUT', 'authorizations', plain, undefined, { fingerprint: fp });
  mint(
    // A fingerprint of its own: the code exchange above made one without (null, which counts).
    await asUser('authz post', 'POST', 'authorizations', plain, undefined, {
      scopes: ['gist'],
      fingerprint: `${fp}-post`,
    }),
  );
  await asUser('authz post a used fingerprint', 'POST', 'authorizations', plain, undefined, {
    fingerprint: fp,
  });
  await asUser('authz post over the ceiling', 'POST', 'authorizations', plain, undefined, {
    scopes: ['admin:org'],
  });
  await asUser('authz list', 'GET', 'authorizations?per_page=1', plain);
  await asUser('authz get', 'GET', `authorizations/${made.id}`, plain);
  await asUser('authz patch', 'PATCH', `authorizations/${made.id}`, plain, undefined, {
    remove_scopes: ['repo'],
  });
  await asUser('authz with a wrong password', 'GET', 'authorizations', wrong);
  await asUser(
    'authz with malformed credentials',
    'GET',
    'authorizations',
    `Basic ${headerSafe(input.stranger)}`,
  );
  await asUser('authz with a raw password', 'GET', 'authorizations', headerSafe(input.password));
  await asUser('authz 2fa without otp', 'PUT', 'authorizations', twoFactor, undefined, {});
  await asUser('authz 2fa with a wrong otp', 'PUT', 'authorizations', twoFactor, wrongOtp(otp), {});
  await asUser(
    'authz 2fa with the password as otp',
    'GET',
    'grants',
    twoFactor,
    headerSafe(input.password2fa),
  );
  mint(
    await asUser('authz 2fa put', 'PUT', 'authorizations', twoFactor, otp, { scopes: ['gist'] }),
  );
  const grants = await asUser('grants 2fa', 'GET', 'grants', twoFactor, otp);
  await asUser('authz delete', 'DELETE', `authorizations/${made.id}`, plain);
  await check('check the token after its deletion', OAUTH, made.token);
  const grantId = parse<{ id: number }[]>(grants)[0]?.id ?? 1;
  await asUser('grant delete 2fa', 'DELETE', `grants/${grantId}`, twoFactor, otp);

  gw.emulator.setFaults({
    operation: 'create_authorization',
    commit_then_fail: true,
    status: 502,
    times: 1,
  });
  await asUser('authz post with the answer lost', 'POST', 'authorizations', plain, undefined, {
    fingerprint: `${fp}-lost`,
  });
  gw.emulator.setFaults({ operation: 'list_authorizations', status: 502, times: 3 });
  await asUser('authz list while GHES fails', 'GET', 'authorizations', plain);
  gw.emulator.clearFaults();
}

/**
 * GHES answers are untrusted input: a GHES (or a proxy before it) that quotes back what it was
 * sent — passwords, Basic credentials, the OTP, a client secret, a code — must not get any of it
 * into an answer or a log line, quoted raw or JSON-escaped.
 */
async function echoingGhes(
  gw: PropertyGateway,
  caller: string,
  input: UserInputs,
  secrets: GeneratedSecrets,
  ledger: Ledger,
) {
  const { oauthToken, asUser } = requests(gw, caller);
  const otp = await gw.otpOf(TWO_FACTOR);
  const plain = basicOf(PLAIN, input.password);
  const twoFactor = basicOf(TWO_FACTOR, input.password2fa);
  // What the request itself carried: GHES can quote nothing else, and the gateway knows nothing else.
  const echo = (message: string, quoted: string[]) =>
    JSON.stringify({
      message: `${message}: ${quoted.join(' ')}`,
      errors: [{ resource: 'OauthAccess', field: 'note', code: 'custom', message: quoted.join() }],
      documentation_url: `https://ghes.test/docs?q=${encodeURIComponent(quoted[0] ?? '')}`,
    });
  const asPlain = [input.password, plain, secrets.oauthSecret];
  const asTwoFactor = [input.password2fa, twoFactor, otp, secrets.oauthSecret];
  gw.emulator.setFaults(
    {
      operation: 'create_authorization',
      status: 422,
      body: echo('Validation Failed', asPlain),
      times: 1,
    },
    {
      operation: 'list_authorizations',
      status: 401,
      body: echo('Bad credentials', asPlain),
      times: 1,
    },
    {
      operation: 'list_grants',
      status: 403,
      body: echo('Maximum number of login attempts exceeded', asTwoFactor),
      times: 1,
    },
  );
  await asUser('echo 422', 'POST', 'authorizations', plain, undefined, { note: 'echo' });
  await asUser('echo 401', 'GET', 'authorizations', plain);
  await asUser('echo 403', 'GET', 'grants', twoFactor, otp);

  const code = await gw.issueCode({
    app: GH_APP,
    login: PLAIN,
    redirect_uri: PROPERTY_REDIRECT_URI,
  });
  ledger.never.push(code);
  gw.emulator.setFaults({
    operation: 'oauth_access_token',
    status: 200,
    body: JSON.stringify({
      error: 'bad_verification_code',
      error_description: `The code ${code} (client secret ${secrets.ghSecret}) is wrong`,
      error_uri: `https://ghes.test/docs?code=${code}`,
    }),
    times: 1,
  });
  await oauthToken('echo web flow', GH_APP, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: PROPERTY_REDIRECT_URI,
  });
  gw.emulator.clearFaults();
}

function assertNothingVisible(
  surfaces: Awaited<ReturnType<typeof surfacesOf>>,
  gw: PropertyGateway,
  ledger: Ledger,
): void {
  for (const secret of [...gw.neverVisible, ...ledger.never]) {
    expect(whereVisible(surfaces, secret), 'a secret or credential is visible').toBeUndefined();
  }
  for (const [token, label] of ledger.minted) {
    expect(
      whereVisible(surfaces, token, [label]),
      `the ${label} token is visible elsewhere`,
    ).toBeUndefined();
  }
}

/** Status of the first exchange with `label`. */
const statusOf = (gw: PropertyGateway, label: string) =>
  gw.exchanges.find((e) => e.label === label)?.status;

/** Labels whose 5xx is the point of the step. */
const failing = (label: string) => label.includes('lost') || label.includes('GHES fails');

/**
 * Cases and the wall-time budget of one case (test/helpers/fast-check.ts). Measured on a 2-core
 * machine shared with other test runs: a lifecycle case (~45 requests) ~50 ms, a fuzz case (one
 * request, users and a code set up) ~5–10 ms; the two tests take ~1.2 s and ~0.5 s. Budgets: 8x
 * and 10x, so that a failure shrinks and prints its seed instead of timing out.
 */
const LIFECYCLE = propertyPlan(25, 400);
const FUZZ = propertyPlan(100, 100);
const timeout = Math.max(LIFECYCLE.timeoutMs, FUZZ.timeoutMs);

describe('property: codes, refresh tokens, passwords and OTPs never leak', { timeout }, () => {
  it('through code exchange, refresh and the Authorizations API with generated credentials', async ({
    task,
  }) => {
    record(task, {
      area: 'secrecy',
      kind: 'generated secrets / passwords / OTPs / verifiers through code exchange (PKCE on and off), refresh, get-or-create, create, list, get, patch, delete, grants, refusals, lost answers, GHES quoting credentials back',
      cases: LIFECYCLE.numRuns,
      expected:
        'no password, Basic credential, OTP, code, verifier, refresh or access token, client secret in logs, KV, headers, bodies or GHES URLs (a minted token only in its own answer)',
    });
    await fc.assert(
      fc.asyncProperty(ghesSecretsArb, userInputsArb, async (secrets, input) => {
        fc.pre(
          new Set([input.password, input.password2fa, input.wrongPassword]).size === 3 &&
            input.verifier !== input.wrongVerifier,
        );
        const gw = await createPropertyGateway(secrets);
        const caller = await gw.caller();
        const ledger: Ledger = { never: [], minted: new Map() };
        await webFlow(gw, caller, input, ledger);
        await authorizations(gw, caller, input, ledger);
        await echoingGhes(gw, caller, input, secrets, ledger);

        // The lifecycle really ran: tokens minted, refused, retired and revoked as GHES does.
        expect(statusOf(gw, 'exchange oauth')).toBe(200);
        expect(statusOf(gw, 'exchange a used code')).toBe(400);
        expect(statusOf(gw, 'exchange for another redirect')).toBe(400);
        expect(statusOf(gw, 'exchange gh')).toBe(200);
        expect(statusOf(gw, 'refresh')).toBe(200);
        expect(statusOf(gw, 'refresh a used refresh token')).toBe(400);
        expect(statusOf(gw, 'check the token a refresh retired')).toBe(404);
        expect(statusOf(gw, 'check the refreshed token')).toBe(200);
        expect(statusOf(gw, 'authz put')).toBe(201);
        expect(statusOf(gw, 'authz put again')).toBe(200);
        expect(statusOf(gw, 'authz post')).toBe(201);
        expect(statusOf(gw, 'authz post a used fingerprint')).toBe(422);
        expect(statusOf(gw, 'authz post over the ceiling')).toBe(403);
        expect(statusOf(gw, 'authz patch')).toBe(200);
        expect(statusOf(gw, 'authz with a wrong password')).toBe(401);
        expect(statusOf(gw, 'authz 2fa without otp')).toBe(401);
        expect(statusOf(gw, 'authz 2fa with a wrong otp')).toBe(401);
        expect(statusOf(gw, 'authz 2fa put')).toBe(201);
        expect(statusOf(gw, 'authz delete')).toBe(204);
        expect(statusOf(gw, 'check the token after its deletion')).toBe(404);
        expect(statusOf(gw, 'grant delete 2fa')).toBe(204);
        expect(statusOf(gw, 'echo 422')).toBe(422);
        expect(statusOf(gw, 'echo 401')).toBe(401);
        expect(statusOf(gw, 'echo 403')).toBe(403);
        expect(statusOf(gw, 'echo web flow')).toBe(400);
        if (input.pkce) expect(statusOf(gw, 'exchange with a wrong verifier')).toBe(400);
        const unexpected = gw.exchanges.filter((e) => e.status >= 500 && !failing(e.label));
        expect(unexpected.map((e) => `${e.label}: ${e.status}`)).toEqual([]);
        expect(gw.exchanges.filter((e) => failing(e.label)).every((e) => e.status >= 500)).toBe(
          true,
        );

        assertNothingVisible(await surfacesOf(gw), gw, ledger);
      }),
      LIFECYCLE.params,
    );
  });

  it('through arbitrary bodies and credential headers on the web-flow and Authorizations routes', async ({
    task,
  }) => {
    record(task, {
      area: 'secrecy',
      kind: 'arbitrary JSON bodies carrying codes, refresh tokens, verifiers and passwords; credential headers in right, wrong and malformed forms; oauth/token and every Authorizations route',
      cases: FUZZ.numRuns,
      expected:
        'never a 5xx; no password, OTP, code, verifier, refresh token or secret in logs, KV, headers, bodies or GHES URLs',
    });
    const routes = [
      ['POST', `/v1/apps/${OAUTH}/oauth/token`],
      ['POST', `/v1/apps/${GH_APP}/oauth/token`],
      ['PUT', `/v1/apps/${OAUTH}/authorizations`],
      ['POST', `/v1/apps/${OAUTH}/authorizations`],
      ['GET', `/v1/apps/${OAUTH}/authorizations`],
      ['PATCH', `/v1/apps/${OAUTH}/authorizations/1`],
      ['DELETE', `/v1/apps/${OAUTH}/authorizations/1`],
      ['GET', `/v1/apps/${OAUTH}/grants`],
      ['DELETE', `/v1/apps/${OAUTH}/grants/1`],
      ['PUT', `/v1/apps/${GH_APP}/authorizations`],
    ] as const;
    /** Credentials go where they belong; other fields get anything but a credential (GHES
     * echoes a note or fingerprint back, as it should). */
    const webField = fc.constantFrom(
      'grant_type',
      'code',
      'refresh_token',
      'code_verifier',
      'redirect_uri',
      'x',
    );
    const webValue = fc.oneof(
      fc.constantFrom('$CODE', '$REFRESH', '$VERIFIER', '$PASSWORD', '$OTP'),
      fc.constantFrom('authorization_code', 'refresh_token', PROPERTY_REDIRECT_URI),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const authzField = fc.constantFrom(
      'scopes',
      'add_scopes',
      'remove_scopes',
      'note',
      'note_url',
      'fingerprint',
      'x',
    );
    const authzValue = fc.oneof(
      fc.constant(['repo']),
      fc.constant(['admin:org']),
      fc.jsonValue({ maxDepth: 2 }),
    );
    /** How X-GHES-User-Authorization / X-GitHub-OTP are sent. */
    const userHeader = fc.constantFrom('right', 'wrong', 'raw', 'garbage', 'none', '2fa');
    const otpHeader = fc.constantFrom('right', 'wrong', 'password', 'none');
    await fc.assert(
      fc.asyncProperty(
        secretsArb,
        passwordArb,
        passwordArb,
        codeVerifierArb,
        fc.constantFrom(...routes),
        fc.constantFrom('code', 'refresh', 'none'),
        fc.array(fc.tuple(webField, webValue), { maxLength: 3 }),
        fc.array(fc.tuple(authzField, authzValue), { maxLength: 3 }),
        userHeader,
        otpHeader,
        // Mostly JSON, so that most requests get past the media-type check to GHES.
        fc.oneof(
          { arbitrary: fc.constant('application/json'), weight: 4 },
          fc.constant('application/x-www-form-urlencoded'),
          fc.constant('text/plain'),
        ),
        async (
          secrets,
          password,
          wrongPassword,
          verifier,
          [method, route],
          base,
          web,
          authz,
          who,
          otpMode,
          type,
        ) => {
          fc.pre(password !== wrongPassword);
          const gw = await createPropertyGateway(secrets);
          const caller = await gw.caller();
          await gw.addUser(PLAIN, password);
          await gw.addUser(TWO_FACTOR, password, 'app');
          const otp = await gw.otpOf(TWO_FACTOR);
          const code = await gw.issueCode({
            app: GH_APP,
            login: PLAIN,
            redirect_uri: PROPERTY_REDIRECT_URI,
          });
          const refreshToken = await ghesRefreshToken(gw, secrets);
          const never = [password, wrongPassword, otp, code, verifier, refreshToken];
          for (const u of [PLAIN, TWO_FACTOR])
            for (const p of [password, wrongPassword])
              never.push(basicOf(u, p).slice('Basic '.length));

          const substitute = (v: unknown) =>
            v === '$CODE'
              ? code
              : v === '$REFRESH'
                ? refreshToken
                : v === '$VERIFIER'
                  ? verifier
                  : v === '$PASSWORD'
                    ? password
                    : v === '$OTP'
                      ? otp
                      : v;
          const isWeb = route.endsWith('/oauth/token');
          // A well-formed grant, changed by up to three fields: many reach GHES, some do not.
          const grant = {
            code: { grant_type: 'authorization_code', code, redirect_uri: PROPERTY_REDIRECT_URI },
            refresh: { grant_type: 'refresh_token', refresh_token: refreshToken },
            none: {},
          }[base];
          const obj = isWeb
            ? { ...grant, ...Object.fromEntries(web.map(([k, v]) => [k, substitute(v)])) }
            : Object.fromEntries(authz);
          const body =
            type === 'application/json'
              ? JSON.stringify(obj)
              : new URLSearchParams(
                  Object.entries(obj).map(([k, v]): [string, string] => [
                    k,
                    typeof v === 'string' ? v : JSON.stringify(v),
                  ]),
                ).toString();
          const basic = {
            right: basicOf(PLAIN, password),
            wrong: basicOf(PLAIN, wrongPassword),
            raw: headerSafe(password),
            garbage: `Basic ${headerSafe(password)}`,
            none: undefined,
            '2fa': basicOf(TWO_FACTOR, password),
          }[who];
          const otpValue = {
            right: otp,
            wrong: wrongOtp(otp),
            password: headerSafe(password),
            none: undefined,
          }[otpMode];
          const answer = await gw.send('fuzz', route, {
            method,
            headers: {
              authorization: `Bearer ${caller}`,
              ...(basic !== undefined && { 'x-ghes-user-authorization': basic }),
              ...(otpValue !== undefined && { 'x-github-otp': otpValue }),
              ...(method !== 'GET' && method !== 'DELETE' && { 'content-type': type }),
            },
            ...(method !== 'GET' && method !== 'DELETE' && { body }),
          });
          expect(answer.status, answer.body.slice(0, 300)).toBeLessThan(500);
          const surfaces = await surfacesOf(gw);
          for (const secret of [...gw.neverVisible, ...never])
            expect(whereVisible(surfaces, secret)).toBeUndefined();
        },
      ),
      FUZZ.params,
    );
  });
});

/**
 * A live GitHub-App refresh token, straight from the emulator's web flow (not through the
 * gateway, so that the run's surfaces hold only what the fuzzed request caused).
 */
async function ghesRefreshToken(gw: PropertyGateway, s: GeneratedSecrets): Promise<string> {
  const code = await gw.issueCode({ app: GH_APP, login: PLAIN });
  const res = await gw.emulator.fetch('https://ghes.test/login/oauth/access_token', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: s.ghClientId, client_secret: s.ghSecret, code }),
  });
  const answer = (await res.json()) as { refresh_token?: string };
  if (answer.refresh_token === undefined) throw new Error('the emulator minted no refresh token');
  return answer.refresh_token;
}
