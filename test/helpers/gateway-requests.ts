/**
 * Requests every whole-gateway suite sends, and the RFC 9457 check they all make: one copy for
 * test/resilience and the rest.
 */
import { expect } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../src/lib/errors';
import type { TestGateway } from './gateway';

export const OAUTH = 'demo-oauth';
export const GH_APP = 'demo-github-app';
export const route = (app: string, op: string): string => `/v1/apps/${app}/${op}`;
export const CHECK = route(OAUTH, 'token/check');
export const RESET = route(OAUTH, 'token/reset');
export const DELETE = route(OAUTH, 'token/delete');
export const GRANT = route(OAUTH, 'grant/delete');

export interface ProblemBody {
  type: string;
  code: string;
  status: number;
  title: string;
  detail?: string;
  [member: string]: unknown;
}

/** Asserts an RFC 9457 problem with `status` and `code` (the text shown on failure); its body. */
export async function expectProblem(
  res: Response,
  status: number,
  code: string,
): Promise<ProblemBody> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = JSON.parse(text) as ProblemBody;
  expect(body).toMatchObject({ code, status, type: `urn:ghes-token-gateway:problem:${code}` });
  return body;
}

/** RFC 7662 introspection of `t` as the test caller. */
export async function introspect(gw: TestGateway, t: string): Promise<Response> {
  return gw.request('/introspect', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await gw.caller()}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: `token=${encodeURIComponent(t)}`,
  });
}

/** Forward auth as an API gateway would send it, for the end-user token `t`. */
export async function forwardAuth(gw: TestGateway, t: string): Promise<Response> {
  return gw.request('/forward-auth/api', {
    headers: {
      'x-gateway-authorization': `Bearer ${await gw.caller()}`,
      authorization: `Bearer ${t}`,
    },
  });
}
