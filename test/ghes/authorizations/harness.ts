/** What every Authorizations API call sends: the user's Basic header, OTP, no app Basic. */
import { expect } from 'vitest';
import type { UserCredentials } from '../../../src/ghes/authorizations/user-call';
import { BASE_URL, CLIENT_SECRET, expectedBasic, type RecordedCall } from '../harness';

export const USER: UserCredentials = { login: 'octocat', password: 'pässwörd:with-colon' };
export const USER_2FA: UserCredentials = { ...USER, otp: '123456' };

/** UTF-8 Basic, computed independently of src/. */
export function userBasic(user: UserCredentials): string {
  const bytes = new TextEncoder().encode(`${user.login}:${user.password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

export function expectUserRequest(
  call: RecordedCall | undefined,
  expected: {
    method: string;
    /** Below the API root, query included. */
    path: string;
    body?: unknown;
    user?: UserCredentials;
  },
): void {
  expect(call, 'no request was sent').toBeDefined();
  const c = call as RecordedCall;
  const user = expected.user ?? USER;
  expect(c.url).toBe(`${BASE_URL}${expected.path}`);
  expect(c.method).toBe(expected.method);
  expect(c.headers['authorization']).toBe(userBasic(user));
  if (user.otp === undefined) expect(c.headers['x-github-otp']).toBeUndefined();
  else expect(c.headers['x-github-otp']).toBe(user.otp);
  expect(c.headers['accept']).toBe('application/vnd.github+json');
  expect(c.redirect).toBe('manual');
  // The password never travels in the URL, whatever the call.
  expect(c.url).not.toContain(encodeURIComponent(user.password));
  if (expected.body === undefined) {
    expect(c.body).toBeUndefined();
  } else {
    expect(c.headers['content-type']).toBe('application/json');
    expect(JSON.parse(c.body ?? 'null')).toEqual(expected.body);
  }
  // The client secret travels only in a create body.
  const carriesSecret = JSON.stringify(expected.body ?? {}).includes(CLIENT_SECRET);
  if (!carriesSecret) expect(`${c.url} ${c.body ?? ''}`).not.toContain(CLIENT_SECRET);
  expect(c.headers['authorization']).not.toBe(expectedBasic('x', 'y'));
}
