/**
 * The JWS checks every signed caller credential gets (caller JWTs, Cloudflare Access assertions).
 * Keys come only from the configured key set, selected by `kid`/`alg`; embedded keys (`jwk`,
 * `jku`, `x5u`, `x5c`) are never used (RFC 8725 §3.10).
 */
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isGatewayError } from '../lib/errors';
import type { CallerClaims } from './caller';
import {
  checkIssuedAt,
  checkProtectedHeader,
  mapJoseError,
  type CredentialKind,
} from './credential-errors';

/**
 * `jwtVerify` at `nowMs`, jose's errors mapped to 401s, then what jose leaves unchecked: header
 * `typ` and `crit` (RFC 8725 §3.11, RFC 7515 §4.1.11) and a post-dated `iat`.
 */
export async function verifySignedJwt(
  kind: CredentialKind,
  token: string,
  keySet: JWTVerifyGetKey,
  options: Parameters<typeof jwtVerify>[2] & { clockTolerance: number },
  nowMs: number,
): Promise<JWTPayload> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(token, keySet, { ...options, currentDate: new Date(nowMs) });
  } catch (e) {
    if (isGatewayError(e)) throw e;
    if (e instanceof joseErrors.JOSEError) throw mapJoseError(e, token, kind);
    throw e;
  }
  checkProtectedHeader(kind, verified.protectedHeader);
  checkIssuedAt(kind, verified.payload.iat, nowMs, options.clockTolerance);
  return verified.payload;
}

/** The registered claims of a payload `jwtVerify` accepted with `iss`, `aud` and `exp` required. */
export function callerClaims(payload: JWTPayload): CallerClaims {
  const { iss, aud, exp, iat } = payload;
  return Object.freeze({
    iss: iss as string,
    aud: Array.isArray(aud) ? Object.freeze([...aud]) : (aud as string),
    exp: exp as number,
    ...(typeof iat === 'number' ? { iat } : {}),
  });
}
