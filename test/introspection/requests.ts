/**
 * Requests to /introspect and /forward-auth on a test gateway (test/helpers/gateway.ts).
 */
import type { TestGateway } from '../helpers/gateway';

export interface IntrospectOptions {
  sub?: string;
  accept?: string;
  /** Raw body instead of the form built from `params`. */
  body?: string;
  contentType?: string;
  /** Replaces the Authorization header; `null` sends none. */
  authorization?: string | null;
}

export async function introspect(
  gw: TestGateway,
  params: Record<string, string> | [string, string][],
  options: IntrospectOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
  };
  if (options.authorization !== null)
    headers['authorization'] =
      options.authorization ?? `Bearer ${await gw.caller(options.sub ?? 'svc-demo')}`;
  if (options.accept !== undefined) headers['accept'] = options.accept;
  return gw.request('/introspect', {
    method: 'POST',
    headers,
    body: options.body ?? new URLSearchParams(params).toString(),
  });
}

export interface ForwardAuthOptions {
  sub?: string;
  method?: string;
  /** End-user Authorization header; `null` sends none. */
  authorization?: string | null;
  /** Replaces X-Gateway-Authorization; `null` sends none. */
  gatewayAuthorization?: string | null;
  headers?: Record<string, string>;
}

/** `token`: the end user's GitHub token, sent as `Bearer <token>` unless `authorization` is set. */
export async function forwardAuth(
  gw: TestGateway,
  path: string,
  token: string | undefined,
  options: ForwardAuthOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization !== null) {
    const value = options.authorization ?? (token !== undefined ? `Bearer ${token}` : undefined);
    if (value !== undefined) headers['authorization'] = value;
  }
  if (options.gatewayAuthorization !== null)
    headers['x-gateway-authorization'] =
      options.gatewayAuthorization ?? `Bearer ${await gw.caller(options.sub ?? 'svc-demo')}`;
  return gw.request(path, { method: options.method ?? 'GET', headers });
}

/** The problem body of an error answer. */
export async function problemOf(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}
