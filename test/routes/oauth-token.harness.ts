/**
 * What the oauth-token route tests share: authorization codes from the emulator's admin API
 * (`POST /_emulator/oauth/codes`, what GHES hands the browser once the user authorizes) and the
 * request shapes of `POST /v1/apps/{app}/oauth/token`.
 */
import { expect } from 'vitest';
import { TEST_REDIRECT_URI, type TestGateway } from '../helpers/gateway';

export const OAUTH = 'demo-oauth';
export const GH_APP = 'demo-github-app';
export { TEST_REDIRECT_URI };

export const tokenPath = (app: string) => `/v1/apps/${app}/oauth/token`;

export interface CodeOptions {
  login?: string;
  scopes?: string[];
  redirect_uri?: string | null;
  /** PKCE: the S256 challenge the authorization request carried. */
  code_challenge?: string;
}

/** A fresh authorization code for `app` and `login` (default octocat, the caller's redirect URI). */
export async function issueCode(
  gw: TestGateway,
  app: string,
  options: CodeOptions = {},
): Promise<string> {
  const body: Record<string, unknown> = { app, login: options.login ?? 'octocat' };
  if (options.scopes !== undefined) body['scopes'] = options.scopes;
  const redirect = options.redirect_uri === undefined ? TEST_REDIRECT_URI : options.redirect_uri;
  if (redirect !== null) body['redirect_uri'] = redirect;
  if (options.code_challenge !== undefined) {
    body['code_challenge'] = options.code_challenge;
    body['code_challenge_method'] = 'S256';
  }
  const res = await gw.emulator.fetch('http://127.0.0.1/_emulator/oauth/codes', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const { code } = (await res.json()) as { code: string };
  return code;
}

export function codeGrant(code: string, extra: Record<string, unknown> = {}) {
  return { grant_type: 'authorization_code', code, redirect_uri: TEST_REDIRECT_URI, ...extra };
}

export function refreshGrant(refreshToken: string) {
  return { grant_type: 'refresh_token', refresh_token: refreshToken };
}

export interface TokenAnswer {
  access_token: string;
  token_type: string;
  scope: string;
  expires_in?: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
}

/** Exchanges a fresh code for `app` through the gateway; expects 200. */
export async function signIn(gw: TestGateway, app: string, options: CodeOptions = {}) {
  const code = await issueCode(gw, app, options);
  const res = await gw.post(tokenPath(app), codeGrant(code));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as TokenAnswer;
}

/** GHES web-flow calls the emulator counted. */
export function webCalls(gw: TestGateway): number {
  return gw.emulator.calls().oauth_access_token;
}

/** RFC 7636 §4.2 S256: BASE64URL(SHA-256(verifier)). */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
