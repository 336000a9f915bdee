/** Requests to the Authorizations API routes of a test gateway, as a GHES user. */
import { createTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway';

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

/**
 * A test gateway whose GHES also answers `GET /user` (who the Basic credentials belong to), which
 * the emulator does not serve yet: the gateway asks it for the user id behind a grant epoch when
 * an authorization names no user (GitHub's Authorizations API answers name none).
 */
export async function authzGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  let gw: TestGateway | undefined;
  gw = await createTestGateway({
    ...options,
    upstream: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname !== '/api/v3/user' || gw === undefined) return undefined;
      const basic = new Headers(init?.headers).get('authorization') ?? '';
      const decoded = new TextDecoder().decode(
        Uint8Array.from(atob(basic.replace(/^Basic /, '')), (c) => c.charCodeAt(0)),
      );
      const users = (await (
        await gw.emulator.fetch('https://ghes.test/_emulator/users')
      ).json()) as { login: string; id: number; password: string }[];
      const found = users.find((u) => `${u.login}:${u.password}` === decoded);
      return found === undefined
        ? Response.json({ message: 'Bad credentials' }, { status: 401 })
        : Response.json({ login: found.login, id: found.id });
    },
  });
  return gw;
}
