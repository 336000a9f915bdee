/**
 * POST /login/oauth/access_token on the GHES web host (not under /api/v3): the OAuth web flow's
 * token endpoint, one endpoint with two grants (as octokit/oauth-methods' exchange-web-flow-code
 * and refresh-token):
 * - `exchangeCode`: the authorization code GHES handed the browser → a user token;
 * - `refreshUserToken`: a GitHub App's refresh token → a new user token and refresh token
 *   (GitHub: "Once you use a refresh token, that refresh token and the old user access token
 *   will no longer work").
 * Both mint a credential and consume a single-use one, so neither is ever retried; a lost or
 * unusable answer is `upstream-outcome-unknown`. GitHub answers most refusals with HTTP 200 and
 * an `error` member: web-flow-outcome.ts maps them.
 */
import * as v from 'valibot';
import { object } from '../lib/schema';
import { ghesRequest, type GhesContext } from './request';
import { oauthRefusal, webRefusal, type OAuthGrant } from './web-flow-outcome';

const PATH = '/login/oauth/access_token';

/** A GitHub token as GHES mints it (gho_, ghu_, ghr_ …): printable ASCII, at most 255. */
const token = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(255),
  v.regex(/^[\x21-\x7e]+$/),
  v.regex(/[A-Za-z0-9]/),
);

/** Seconds; GitHub's 2020 announcement showed them as strings ("28800"), its docs as integers. */
const seconds = v.pipe(
  v.union([
    v.pipe(v.number(), v.safeInteger()),
    v.pipe(v.string(), v.regex(/^\d{1,10}$/), v.transform(Number)),
  ]),
  v.minValue(1),
  v.maxValue(10 * 365 * 86_400),
);

/** What GitHub answers on success (`scope` is comma-separated, empty for GitHub Apps). */
export const OAuthTokenSchema = object({
  access_token: token,
  token_type: v.pipe(v.string(), v.regex(/^[A-Za-z]{1,32}$/)),
  scope: v.optional(v.pipe(v.string(), v.maxLength(4096), v.regex(/^[\x20-\x7e]*$/)), ''),
  expires_in: v.exactOptional(seconds),
  refresh_token: v.exactOptional(token),
  refresh_token_expires_in: v.exactOptional(seconds),
});

/** A refusal, answered with HTTP 200; its free-text members are read by nobody. */
const OAuthErrorSchema = object({ error: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) });

/** `error` first: a body carrying both is a refusal (as octokit reads it). */
const AnswerSchema = v.union([OAuthErrorSchema, OAuthTokenSchema]);

export type OAuthToken = v.InferOutput<typeof OAuthTokenSchema>;

export interface ExchangeCodeOptions {
  code: string;
  redirect_uri?: string | undefined;
  /**
   * PKCE (RFC 7636), passed on as given. No GHES release through 3.22 checks it (GitHub's GHES
   * pages: the `code_challenge` parameters "are not supported at this time"); github.com does.
   */
  code_verifier?: string | undefined;
}

export async function exchangeCode(
  ctx: GhesContext,
  options: ExchangeCodeOptions,
): Promise<OAuthToken> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code: options.code };
  if (options.redirect_uri !== undefined) form['redirect_uri'] = options.redirect_uri;
  if (options.code_verifier !== undefined) form['code_verifier'] = options.code_verifier;
  const secrets = [options.code, options.code_verifier ?? ''];
  return tokenRequest(ctx, 'code_exchange', 'authorization_code', form, secrets);
}

export async function refreshUserToken(
  ctx: GhesContext,
  refreshToken: string,
): Promise<OAuthToken> {
  const form = { grant_type: 'refresh_token', refresh_token: refreshToken };
  return tokenRequest(ctx, 'refresh', 'refresh_token', form, [refreshToken]);
}

async function tokenRequest(
  ctx: GhesContext,
  operation: 'code_exchange' | 'refresh',
  grant: OAuthGrant,
  form: Record<string, string>,
  secrets: string[],
): Promise<OAuthToken> {
  const res = await ghesRequest(ctx, {
    operation,
    method: 'POST',
    host: 'web',
    path: PATH,
    logPath: PATH,
    form,
    retry: 'never',
    secrets,
    refusal: webRefusal(grant),
    answer: AnswerSchema,
  });
  const data = res.data;
  if (!('error' in data)) return data;
  const refused = oauthRefusal(data.error, grant, ctx.app.clientId, res.status);
  if (refused.log !== undefined)
    ctx.log({
      level: 'warn',
      event: 'ghes.call_failed',
      request_id: ctx.requestId,
      operation,
      app: ctx.app.name,
      path: PATH,
      reason: refused.log,
      status: res.status,
    });
  throw refused.error;
}
