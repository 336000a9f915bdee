/**
 * The GHES user's credentials for the OAuth Authorizations API, read from their own headers:
 * `X-GHES-User-Authorization: Basic <base64(login:password)>` (Authorization carries the caller's
 * JWT) and `X-GitHub-OTP: <code>` for a user with two-factor authentication. Pure.
 *
 * Trust boundary: what is wrong is said without the value; the credentials go to the GHES client
 * only (src/ghes/authorizations/user-call.ts).
 */
import type { UserCredentials } from '../ghes/authorizations/user-call';
import { strictUtf8 } from '../lib/bounded-read';
import { err, ok, type Result } from '../lib/result';

export const USER_AUTHORIZATION_HEADER = 'x-ghes-user-authorization';
export const OTP_HEADER = 'x-github-otp';

/** A login or email GHES accepts for Basic: printable ASCII, no space or colon. */
const LOGIN = /^[\x21-\x39\x3b-\x7e]{1,255}$/;
/** No control characters: they could split a header or a log line. */
const PASSWORD = /^[^\x00-\x1f\x7f]{1,1024}$/u;
/** TOTP and SMS codes are digits (6 on GitHub). */
const OTP = /^[0-9]{4,10}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeUtf8Base64(b64: string): string | undefined {
  if (!BASE64.test(b64) || b64.length % 4 !== 0) return undefined;
  try {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    return strictUtf8(bytes);
  } catch {
    return undefined;
  }
}

/** The user's credentials, or what is wrong with the headers (never quoting them). */
export function parseUserCredentials(
  authorization: string | undefined,
  otp: string | undefined,
): Result<UserCredentials, string> {
  const header = `${USER_AUTHORIZATION_HEADER}`;
  if (authorization === undefined || authorization.trim() === '')
    return err(`the ${header} header is required: Basic base64(login:password)`);
  if (authorization.length > 2048) return err(`the ${header} header is too long`);
  const m = /^Basic +(\S+)\s*$/i.exec(authorization.trim());
  const decoded = m?.[1] === undefined ? undefined : decodeUtf8Base64(m[1]);
  if (decoded === undefined)
    return err(`the ${header} header must be Basic base64(login:password)`);
  const colon = decoded.indexOf(':');
  const login = colon < 0 ? '' : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  if (!LOGIN.test(login)) return err(`the ${header} header carries no valid login`);
  if (!PASSWORD.test(password)) return err(`the ${header} header carries no valid password`);
  if (otp === undefined) return ok({ login, password });
  const code = otp.trim();
  if (!OTP.test(code))
    return err(`the ${OTP_HEADER} header must be the digits of the current code`);
  return ok({ login, password, otp: code });
}
