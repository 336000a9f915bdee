/**
 * A small GHES client for the emulator's own tests: builds each operation's request (method,
 * path, Basic auth, body) the way GitHub documents it and sends it through `emulator.fetch`.
 */
import type { GhesEmulator, TokenOperation } from './index';

export const GHES_ORIGIN = 'https://ghes.example.test';
export const FIXED_NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

interface Route {
  method: string;
  path: (clientId: string, token: string) => string;
  /** Body-style endpoints send the token in the JSON body. */
  body: boolean;
}

export const ROUTES: Readonly<Record<TokenOperation, Route>> = {
  check: { method: 'POST', path: (id) => `/applications/${id}/token`, body: true },
  reset: { method: 'PATCH', path: (id) => `/applications/${id}/token`, body: true },
  delete: { method: 'DELETE', path: (id) => `/applications/${id}/token`, body: true },
  grant: { method: 'DELETE', path: (id) => `/applications/${id}/grant`, body: true },
  scoped: { method: 'POST', path: (id) => `/applications/${id}/token/scoped`, body: true },
  legacy_check: { method: 'GET', path: (id, t) => `/applications/${id}/tokens/${t}`, body: false },
  legacy_reset: { method: 'POST', path: (id, t) => `/applications/${id}/tokens/${t}`, body: false },
  legacy_delete: {
    method: 'DELETE',
    path: (id, t) => `/applications/${id}/tokens/${t}`,
    body: false,
  },
  legacy_grant: {
    method: 'DELETE',
    path: (id, t) => `/applications/${id}/grants/${t}`,
    body: false,
  },
};

export function basic(clientId: string, secret: string): string {
  return `Basic ${btoa(`${clientId}:${secret}`)}`;
}

export interface CallOptions {
  /** The token (body `access_token` or path segment). */
  token?: string;
  /** Replaces the whole JSON body (raw string sent as is). */
  body?: unknown;
  /** Extra body members for the scoped endpoint. */
  extra?: Record<string, unknown>;
  /** Authorization header; null sends none; default is the app's correct Basic credentials. */
  authorization?: string | null;
  /** Path client id; default is the app's. */
  clientId?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  redirect?: 'follow' | 'manual' | 'error';
}

export function credentials(
  emulator: GhesEmulator,
  appName: string,
): { clientId: string; secret: string } {
  const app = emulator.apps().find((a) => a.name === appName);
  if (!app) throw new Error(`no app ${appName}`);
  return { clientId: app.client_id, secret: app.client_secret };
}

export function call(
  emulator: GhesEmulator,
  op: TokenOperation,
  appName: string,
  options: CallOptions = {},
): Promise<Response> {
  const { clientId, secret } = credentials(emulator, appName);
  const route = ROUTES[op];
  const pathClientId = options.clientId ?? clientId;
  const token = options.token ?? '';
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    ...options.headers,
  };
  const authorization =
    options.authorization === undefined ? basic(clientId, secret) : options.authorization;
  if (authorization !== null) headers['authorization'] = authorization;
  let body: string | undefined;
  if (route.body) {
    headers['content-type'] = 'application/json';
    body =
      options.body === undefined
        ? JSON.stringify({ access_token: token, ...options.extra })
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
  }
  const url = `${GHES_ORIGIN}/api/v3${route.path(encodeURIComponent(pathClientId), encodeURIComponent(token))}`;
  return emulator.fetch(url, {
    method: route.method,
    headers,
    ...(body !== undefined && { body }),
    ...(options.signal && { signal: options.signal }),
    ...(options.redirect && { redirect: options.redirect }),
  });
}

export async function jsonOf(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

export async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** POST /_emulator/… (or other admin verbs) through the emulator's fetch. */
export function admin(
  emulator: GhesEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return emulator.fetch(`${GHES_ORIGIN}/_emulator/${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  });
}
