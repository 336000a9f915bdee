/** Requests to the Authorizations API routes of a test gateway, as a GHES user. */
import type { TestGateway } from '../helpers/gateway';

export interface UserLogin {
  login: string;
  password: string;
  otp?: string;
}

export function seedOf(gw: TestGateway) {
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('the test gateway runs the demo seed');
  return seed;
}

export const octocat = (gw: TestGateway): UserLogin => ({
  login: 'octocat',
  password: seedOf(gw).passwords.octocat,
});

/** monalisa has two-factor authentication (`app`). */
export const monalisa = (gw: TestGateway): UserLogin => ({
  login: 'monalisa',
  password: seedOf(gw).passwords.monalisa,
});

export async function otpOf(gw: TestGateway, login: string): Promise<string> {
  const res = await gw.emulator.fetch(`https://ghes.test/_emulator/users/${login}/otp`);
  return ((await res.json()) as { otp: string }).otp;
}

export function userHeader(user: UserLogin): string {
  const bytes = new TextEncoder().encode(`${user.login}:${user.password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** A request to `/v1/apps/{app}/<path>` as `user`, caller `sub`. */
export async function asUser(
  gw: TestGateway,
  method: string,
  path: string,
  options: {
    user?: UserLogin | undefined;
    body?: unknown;
    sub?: string;
    app?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const user = options.user;
  const headers: Record<string, string> = {
    authorization: `Bearer ${await gw.caller(options.sub ?? 'svc-demo')}`,
    ...(user !== undefined && { 'x-ghes-user-authorization': userHeader(user) }),
    ...(user?.otp !== undefined && { 'x-github-otp': user.otp }),
    ...(options.body !== undefined && { 'content-type': 'application/json' }),
    ...options.headers,
  };
  return gw.request(`/v1/apps/${options.app ?? 'demo-oauth'}/${path}`, {
    method,
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
}

/** Every credential of `user` in every form a leak could take. */
export function userSecrets(user: UserLogin): string[] {
  return [
    user.password,
    userHeader(user).slice('Basic '.length),
    ...(user.otp !== undefined ? [user.otp] : []),
  ];
}
