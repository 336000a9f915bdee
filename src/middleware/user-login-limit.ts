/**
 * Password guessing through the gateway: every Authorizations API call presents a GHES user's
 * password, so each one is charged, before GHES is asked, to two keys of the `user-login` bucket
 * (USER_LOGIN_RATE_LIMITER): the caller (`user-login:<sub>`) and the login, across all callers
 * (`user-login:login:<hmac>`). A failed login is always charged, so guesses are bounded per
 * caller and per account. The binding counts on every `limit()` and cannot be asked without
 * counting, so a failure cannot be charged alone without letting a right guess through
 * unlimited; legitimate use makes one or two calls per login and fits well under the budget.
 *
 * The login goes into the key only as an HMAC under the cache pepper (never raw: keys reach the
 * platform's counters and our logs). Fails open like the other limits (rate-limit.ts).
 */
import type { Context } from 'hono';
import type { CallerAuthVariables } from '../auth/caller';
import type { RateLimitConfig } from '../config/types';
import { GatewayError } from '../lib/errors';
import type { Logger } from '../lib/log';
import { limitGate, requireCaller } from './rate-limit';

export interface UserLoginLimitOptions {
  limit: RateLimitConfig;
  /** The HMAC key for logins in limiter keys (CACHE_PEPPER). */
  pepper: string;
  log: Logger;
}

/** Charges one attempt for `login`; throws 429 `rate-limited` when the caller or login is over. */
export type ChargeUserLogin = <E extends { Variables: CallerAuthVariables }>(
  c: Context<E>,
  login: string,
) => Promise<void>;

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export function userLoginLimit(options: UserLoginLimitOptions): ChargeUserLogin {
  const { limit, log } = options;
  const underLimit = limitGate(limit.binding, 'user-login', log);
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(`user-login:${options.pepper}`),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  /** GitHub logins are case-insensitive: `Octocat` and `octocat` are one account. */
  const loginKey = async (login: string) => {
    const mac = await crypto.subtle.sign(
      'HMAC',
      await key,
      new TextEncoder().encode(login.toLowerCase()),
    );
    return base64url(mac.slice(0, 16));
  };
  const refuse = (reason: string) =>
    new GatewayError('rate-limited', {
      detail: `Too many calls with user credentials; retry after ${limit.periodS} seconds.`,
      reason,
      headers: { 'Retry-After': String(limit.periodS) },
    });

  return async function chargeUserLogin<E extends { Variables: CallerAuthVariables }>(
    c: Context<E>,
    login: string,
  ): Promise<void> {
    const caller = requireCaller(c, 'userLoginLimit');
    if (!(await underLimit(c.env, `user-login:${caller.sub}`, caller.sub)))
      throw refuse(`caller "${caller.sub}" over the user-login rate limit (${limit.binding})`);
    const hashed = await loginKey(login);
    if (!(await underLimit(c.env, `user-login:login:${hashed}`, caller.sub)))
      throw refuse(`login ${hashed} over the user-login rate limit (${limit.binding})`);
  };
}
