/**
 * What goes on the wire for one GHES call: URL, headers and body, for the two hosts GHES answers
 * on. Trust boundary: with request.ts, the only code that puts a client secret on the wire.
 */
import type { AppConfig } from '../config/types';
import { GatewayError } from '../lib/errors';

const USER_AGENT = 'ghes-token-gateway';

export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${clientId}:${clientSecret}`)}`;
}

export interface WireTarget {
  baseUrl: string;
  webUrl?: string;
  app: Pick<AppConfig, 'clientId' | 'clientSecret'>;
}

export interface WireCall {
  host?: 'api' | 'web';
  path: string;
  body?: unknown;
  form?: Readonly<Record<string, string>>;
  /** A call made as a GHES user (the Authorizations API): its Basic header and OTP header. */
  user?: { authorization: string; headers: Record<string, string> };
}

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  bodyText: string | undefined;
}

export function wireRequest(target: WireTarget, call: WireCall): WireRequest {
  return call.host === 'web' ? webRequest(target, call) : apiRequest(target, call);
}

/**
 * The REST API: GitHub's media type and a JSON body; Basic auth with the client credentials
 * below `/applications/{client_id}`, or, for a user call, the user's own and below the API root.
 */
function apiRequest(target: WireTarget, call: WireCall): WireRequest {
  const { app } = target;
  const url = call.user
    ? `${target.baseUrl}${call.path}`
    : `${target.baseUrl}/applications/${encodeURIComponent(app.clientId)}${call.path}`;
  const headers: Record<string, string> = {
    ...call.user?.headers,
    accept: 'application/vnd.github+json',
    authorization: call.user?.authorization ?? basicAuth(app.clientId, app.clientSecret),
    'user-agent': USER_AGENT,
    'x-github-api-version': '2022-11-28',
  };
  const bodyText = call.body === undefined ? undefined : JSON.stringify(call.body);
  if (bodyText !== undefined) headers['content-type'] = 'application/json';
  return { url, headers, bodyText };
}

/**
 * The OAuth web flow: GitHub documents `client_id` and `client_secret` as parameters of
 * `POST /login/oauth/access_token`; they go in a form body (RFC 6749 §2.3.1), never in the URL,
 * where access logs would keep them. `Accept: application/json`, or GitHub answers form-encoded.
 */
function webRequest(target: WireTarget, call: WireCall): WireRequest {
  if (target.webUrl === undefined)
    throw new GatewayError('misconfigured', { reason: 'GhesContext.webUrl is not set' });
  const form = new URLSearchParams({
    ...call.form,
    client_id: target.app.clientId,
    client_secret: target.app.clientSecret,
  });
  return {
    url: `${target.webUrl}${call.path}`,
    headers: {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': USER_AGENT,
    },
    bodyText: form.toString(),
  };
}
