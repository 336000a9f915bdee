/**
 * The web flow's token endpoint, `POST /login/oauth/access_token` on the GHES web host (not under
 * /api/v3), as GitHub documents it ("Authorizing OAuth apps", "Generating a user access token for
 * a GitHub App", "Refreshing user access tokens", "Troubleshooting OAuth app access token request
 * errors"):
 * - parameters in the query string or the body, form-urlencoded or JSON;
 * - the answer urlencoded unless `Accept` asks for `application/json` or `application/xml`;
 * - failures are HTTP 200 with `error`, `error_description`, `error_uri`;
 * - a code works once, for 10 minutes, for the app it was issued to, and with the redirect_uri
 *   of its authorization request when that named one;
 * - GitHub Apps (2.22+) get expiring tokens and a refresh token; a refresh retires the old
 *   access token and the old refresh token; OAuth-app tokens never expire.
 */
import type { Hono } from 'hono';
import type { EmulatorCore } from './core';
import {
  ACCESS_TOKEN_EXPIRES_IN,
  REFRESH_TOKEN_EXPIRES_IN,
  s256Matches,
  type PendingCode,
} from './oauth-codes';
import { afterCommit, applyFaults, replyFor, type Ctx, type EmulatorEnv } from './pipeline';
import type { Reply } from './responses';
import type { App, TokenRecord } from './state';
import { newRefreshToken, safeEqual } from './tokens';
import { featuresOf } from './versions';

const TROUBLESHOOTING =
  'apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

/** GitHub's `error_description` and the anchor of its `error_uri`, per error. */
const ERRORS = {
  incorrect_client_credentials: [
    'The client_id and/or client_secret passed are incorrect.',
    `${TROUBLESHOOTING}/#incorrect-client-credentials`,
  ],
  redirect_uri_mismatch: [
    'The redirect_uri MUST match the registered callback URL for this application.',
    'apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2',
  ],
  bad_verification_code: [
    'The code passed is incorrect or expired.',
    `${TROUBLESHOOTING}/#bad-verification-code`,
  ],
  // github.com's answer, anchor included (seen in interlink-hq/interLink#262).
  bad_refresh_token: [
    'The refresh token passed is incorrect or expired.',
    `${TROUBLESHOOTING}/#bad-verification-code`,
  ],
  // GitHub documents the code, not its description: this wording is the emulator's.
  unsupported_grant_type: ['The grant type is not supported.', `${TROUBLESHOOTING}/`],
} as const;
export type WebFlowError = keyof typeof ERRORS;

type Answer = Record<string, string | number>;
type Outcome = { ok: true; answer: Answer } | { ok: false; error: WebFlowError };

/** Query string, then the body (form-urlencoded or JSON) on top. */
async function readParams(c: Ctx): Promise<Map<string, string>> {
  const params = new Map(new URL(c.req.url).searchParams);
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (/application\/json/i.test(type)) {
    try {
      const body = JSON.parse(text) as unknown;
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
        for (const [k, v] of Object.entries(body)) {
          if (typeof v === 'string' || typeof v === 'number') params.set(k, String(v));
        }
      }
    } catch {
      // GitHub reads no parameters from a broken body; the checks below answer.
    }
  } else {
    for (const [k, v] of new URLSearchParams(text)) params.set(k, v);
  }
  return params;
}

function client(core: EmulatorCore, params: Map<string, string>): App | undefined {
  const app = core.state.apps.get(params.get('client_id') ?? '');
  const secret = params.get('client_secret');
  if (!app || secret === undefined || !safeEqual(secret, app.clientSecret)) return undefined;
  return app;
}

/** Mints the answer for a new or renewed token: a refresh token only for expiring ones. */
function tokenAnswer(core: EmulatorCore, app: App, record: TokenRecord, now: number): Answer {
  const answer: Answer = { access_token: record.token };
  if (record.expiresAt !== null) {
    const refresh = newRefreshToken(core.config.version);
    core.oauth.refreshTokens.set(refresh, {
      clientId: app.clientId,
      authorizationId: record.id,
      expiresAt: now + REFRESH_TOKEN_EXPIRES_IN * 1000,
    });
    answer['expires_in'] = ACCESS_TOKEN_EXPIRES_IN;
    answer['refresh_token'] = refresh;
    answer['refresh_token_expires_in'] = REFRESH_TOKEN_EXPIRES_IN;
  }
  answer['scope'] = record.scopes.join(',');
  answer['token_type'] = 'bearer';
  return answer;
}

async function codeProblem(
  core: EmulatorCore,
  pending: PendingCode,
  params: Map<string, string>,
): Promise<WebFlowError | undefined> {
  const redirectUri = params.get('redirect_uri');
  if (
    pending.redirectUri !== null &&
    redirectUri !== undefined &&
    redirectUri !== pending.redirectUri
  )
    return 'redirect_uri_mismatch';
  if (pending.codeChallenge !== null && core.pkce) {
    // GitHub does not document the error for a wrong or missing verifier; a code that the
    // verifier does not unlock is treated as a bad code.
    const verifier = params.get('code_verifier');
    if (verifier === undefined || !(await s256Matches(verifier, pending.codeChallenge)))
      return 'bad_verification_code';
  }
  return undefined;
}

async function exchangeCode(core: EmulatorCore, params: Map<string, string>): Promise<Outcome> {
  const app = client(core, params);
  if (!app) return { ok: false, error: 'incorrect_client_credentials' };
  const now = core.now();
  const code = params.get('code') ?? '';
  const pending = core.oauth.code(code, now);
  if (!pending || pending.clientId !== app.clientId)
    return { ok: false, error: 'bad_verification_code' };
  const problem = await codeProblem(core, pending, params);
  if (problem) return { ok: false, error: problem };
  const user = core.state.accounts.get(pending.userId);
  if (!user) return { ok: false, error: 'bad_verification_code' };
  core.oauth.codes.delete(code);
  const expiring = app.kind === 'github_app' && featuresOf(core.config.version).expiringUserTokens;
  const record = core.state.createToken(
    {
      app: app.clientId,
      login: user.login,
      scopes: pending.scopes,
      expiresIn: expiring ? ACCESS_TOKEN_EXPIRES_IN : null,
    },
    now,
  );
  return { ok: true, answer: tokenAnswer(core, app, record, now) };
}

function refresh(core: EmulatorCore, params: Map<string, string>): Outcome {
  const app = client(core, params);
  if (!app) return { ok: false, error: 'incorrect_client_credentials' };
  const now = core.now();
  const value = params.get('refresh_token') ?? '';
  const grant = core.oauth.refresh(value, now);
  const record =
    grant && grant.clientId === app.clientId
      ? [...core.state.tokens.values()].find((t) => t.id === grant.authorizationId)
      : undefined;
  // A revoked token or deleted grant takes its refresh token with it.
  if (!record) return { ok: false, error: 'bad_refresh_token' };
  core.oauth.refreshTokens.delete(value);
  core.state.resetToken(record, now); // the old access token stops working
  return { ok: true, answer: tokenAnswer(core, app, record, now) };
}

function errorAnswer(core: EmulatorCore, error: WebFlowError): Answer {
  const [description, path] = ERRORS[error];
  return {
    error,
    error_description: description,
    error_uri: `https://docs.github.com/enterprise-server@${core.config.version.name}/${path}`,
  };
}

function xml(answer: Answer): string {
  const escape = (v: string | number): string =>
    String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const members = Object.entries(answer).map(([k, v]) => `<${k}>${escape(v)}</${k}>`);
  return `<OAuth>${members.join('')}</OAuth>`;
}

/** Every answer is 200, in the format `Accept` asks for (urlencoded by default). */
export function webAnswer(reply: Reply, accept: string | undefined, answer: Answer): Response {
  const headers = new Headers({ 'x-github-request-id': reply.requestId });
  let body: string;
  if (/application\/json/i.test(accept ?? '')) {
    headers.set('content-type', 'application/json; charset=utf-8');
    body = JSON.stringify(answer);
  } else if (/application\/xml/i.test(accept ?? '')) {
    headers.set('content-type', 'application/xml; charset=utf-8');
    body = xml(answer);
  } else {
    headers.set('content-type', 'application/x-www-form-urlencoded; charset=utf-8');
    body = new URLSearchParams(
      Object.entries(answer).map(([k, v]) => [k, String(v)] as [string, string]),
    ).toString();
  }
  return new Response(body, { status: 200, headers });
}

export function registerWebFlowRoutes(app: Hono<EmulatorEnv>, core: EmulatorCore): void {
  app.post('/login/oauth/access_token', async (c) => {
    core.count('oauth_access_token');
    const reply = replyFor(
      core,
      `https://docs.github.com/enterprise-server@${core.config.version.name}/${TROUBLESHOOTING}`,
    );
    const fault = await applyFaults(core, c, reply, 'oauth_access_token');
    if (fault.response) return fault.response;
    const params = await readParams(c);
    const grantType = params.get('grant_type') ?? 'authorization_code';
    const outcome: Outcome =
      grantType === 'authorization_code'
        ? await exchangeCode(core, params)
        : grantType === 'refresh_token'
          ? refresh(core, params)
          : { ok: false, error: 'unsupported_grant_type' };
    const answer = outcome.ok ? outcome.answer : errorAnswer(core, outcome.error);
    return afterCommit(
      core,
      reply,
      fault.commitThenFail,
      webAnswer(reply, c.req.header('accept'), answer),
    );
  });
}
