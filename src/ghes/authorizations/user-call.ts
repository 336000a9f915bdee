/**
 * What every OAuth Authorizations API call shares (GHES "OAuth Authorizations", all releases
 * 2.18 – 3.22, deprecated): it authenticates as a GHES *user* — Basic with login and password,
 * plus `X-GitHub-OTP` for a user with two-factor authentication — and GHES answers as it does to
 * a user (401 with `X-GitHub-OTP: required; <sms|app>` when a code is needed, 404 for an object
 * the user cannot see).
 *
 * Trust boundary: the password and OTP go into the request headers here and nowhere else; they
 * are scrubbed from anything GHES says back, and never logged (request.ts logs `logPath` only).
 */
import { GatewayError } from '../../lib/errors';
import { refusal, scrub } from '../outcome';

export type UserOperation =
  | 'authorizations_list'
  | 'authorization_get'
  | 'authorization_create'
  | 'authorization_get_or_create'
  | 'authorization_update'
  | 'authorization_delete'
  | 'grants_list'
  | 'grant_get'
  | 'grant_delete_by_id'
  | 'user_get';

/** Which of them change something at GHES (request.ts `mayHaveApplied`). */
export const USER_MUTATES: Readonly<Record<UserOperation, boolean>> = {
  authorizations_list: false,
  authorization_get: false,
  authorization_create: true,
  authorization_get_or_create: true,
  authorization_update: true,
  authorization_delete: true,
  grants_list: false,
  grant_get: false,
  grant_delete_by_id: true,
  user_get: false,
};

/** A GHES user's credentials, as the caller sent them (src/auth/user-credentials.ts). */
export interface UserCredentials {
  login: string;
  password: string;
  /** The current two-factor code, when the caller has one. */
  otp?: string | undefined;
}

/** How request.ts sends a user call and maps GHES's refusals of it. */
export interface UserAuth {
  authorization: string;
  headers: Record<string, string>;
  refuse: (
    res: Response,
    text: string,
    secrets: readonly string[],
    mayHaveApplied: boolean,
  ) => GatewayError | undefined;
}

function base64Utf8(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Every form of the credentials that must never appear in an answer, log line or KV entry. */
export function credentialSecrets(user: UserCredentials): string[] {
  const basic = base64Utf8(`${user.login}:${user.password}`);
  return [user.password, basic, ...(user.otp !== undefined ? [user.otp] : [])];
}

/**
 * Anything shaped like a GitHub token (ghp_/gho_/ghu_/ghs_/ghr_ and 40-hex legacy tokens): a
 * 422 message may quote one (GitHub's own, or a proxy's), and only create answers carry tokens.
 */
const TOKEN_LIKE = /\b(?:gh[opusr]_[A-Za-z0-9_]{16,251}|[0-9a-fA-F]{40})\b/g;

export function scrubTokenLike(text: string): string {
  return text.replace(TOKEN_LIKE, '[redacted]');
}

/** GitHub's OTP challenge: `required; sms` or `required; app`. Anything else is not passed on. */
function otpChallenge(res: Response): { header: string; type: 'sms' | 'app' } | undefined {
  const value = res.headers.get('x-github-otp');
  const m = value === null ? null : /^required;\s*(sms|app)$/i.exec(value.trim());
  if (m === null || m[1] === undefined) return undefined;
  const type = m[1].toLowerCase() as 'sms' | 'app';
  return { header: `required; ${type}`, type };
}

/** GitHub's `message`, scrubbed and bounded, or undefined. */
function messageOf(text: string, secrets: readonly string[]): string | undefined {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message !== 'string') return undefined;
    let m = scrubTokenLike(parsed.message);
    m = scrub(m, secrets);
    return m.slice(0, 300);
  } catch {
    return undefined;
  }
}

/**
 * GHES's refusals of a user call. 401 is about the user (the Basic header is theirs), never
 * about the app's secret; 404 is an object this user cannot see; 410 is a GHES that no longer
 * serves the API; a 422 keeps GitHub's message and field errors (scrubbed, also of anything
 * token-like). Rate limits and 5xx never reach here (request.ts handles them first).
 */
export function userRefusal(
  res: Response,
  text: string,
  secrets: readonly string[],
  mayHaveApplied: boolean,
): GatewayError | undefined {
  const { status } = res;
  const base = { upstreamStatus: status, mayHaveApplied };
  if (status === 401) {
    const otp = otpChallenge(res);
    if (otp !== undefined)
      return new GatewayError('user-otp-required', {
        ...base,
        detail: `GHES needs the user's two-factor code (${otp.type}): repeat the request with X-GitHub-OTP`,
        headers: { 'x-github-otp': otp.header },
        extensions: { otp_type: otp.type },
      });
    return new GatewayError('user-credentials-rejected', {
      ...base,
      detail: 'GHES rejected the user login or password (X-GHES-User-Authorization)',
    });
  }
  if (status === 403) {
    const message = messageOf(text, secrets);
    return new GatewayError('user-forbidden', {
      ...base,
      detail: message ?? 'GHES refused this user the request',
    });
  }
  if (status === 404)
    return new GatewayError('authorization-not-found', {
      ...base,
      detail: 'GHES has no such authorization or grant for this user and app',
    });
  if (status === 410)
    return new GatewayError('upstream-error', {
      ...base,
      detail: 'GHES answered 410 Gone: it no longer serves the OAuth Authorizations API',
    });
  if (status === 422) return refusal(422, scrubTokenLike(text), '', secrets, mayHaveApplied).error;
  return undefined;
}

/** The request.ts `user` part of a call made with `user`'s credentials. */
export function userAuth(user: UserCredentials): UserAuth {
  const headers: Record<string, string> = {};
  if (user.otp !== undefined) headers['x-github-otp'] = user.otp;
  return {
    authorization: `Basic ${base64Utf8(`${user.login}:${user.password}`)}`,
    headers,
    refuse: userRefusal,
  };
}
