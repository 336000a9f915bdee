/**
 * The 401 answers of caller authentication, shared by every identity source (caller JWT,
 * Cloudflare Access, mTLS), and the mapping of jose's errors onto them.
 *
 * Every 401 carries an RFC 6750 §3 challenge (RFC 9110 §15.5.2 requires one). Only a failed caller
 * JWT gets `error="invalid_token"`: that code is about the Bearer credential, and an Access
 * assertion or a client certificate is not one. Descriptions are fixed strings (RFC 6750 §3 limits
 * `error_description` to printable ASCII without `"` and `\`); attacker-supplied values go only
 * into the logged `reason`, quoted and cut short. No credential ever appears in either.
 */
import { decodeProtectedHeader, errors as joseErrors } from 'jose';
import { GatewayError } from '../lib/errors';
import { echoable } from '../lib/secret-shaped';

export const CALLER_REALM = 'ghes-token-gateway';

export type CredentialKind = 'caller-jwt' | 'access' | 'mtls';

const DETAIL_PREFIX: Readonly<Record<CredentialKind, string>> = {
  'caller-jwt': 'Invalid caller token',
  access: 'Invalid Cloudflare Access assertion',
  mtls: 'Client certificate not accepted',
};

const REASON_LABEL: Readonly<Record<CredentialKind, string>> = {
  'caller-jwt': 'caller JWT',
  access: 'Access JWT',
  mtls: 'client certificate',
};

/** RFC 6750 §3: no error code when the request carried no credentials at all. */
export function missingCredentials(reason: string): GatewayError {
  return new GatewayError('unauthorized', {
    detail: 'Bearer credentials required.',
    reason,
    headers: { 'WWW-Authenticate': `Bearer realm="${CALLER_REALM}"` },
  });
}

/** A credential was presented and refused. `description` must be a fixed string. */
export function invalidCredential(
  kind: CredentialKind,
  description: string,
  reason: string,
  cause?: unknown,
): GatewayError {
  const challenge =
    kind === 'caller-jwt'
      ? `Bearer realm="${CALLER_REALM}", error="invalid_token", error_description="${description}"`
      : `Bearer realm="${CALLER_REALM}"`;
  return new GatewayError('unauthorized', {
    detail: `${DETAIL_PREFIX[kind]}: ${description}.`,
    reason,
    headers: { 'WWW-Authenticate': challenge },
    cause,
  });
}

export function invalidToken(description: string, reason: string, cause?: unknown): GatewayError {
  return invalidCredential('caller-jwt', description, reason, cause);
}

/** Attacker-supplied values in logged reasons: quoted and cut short. */
export function quote(value: unknown): string {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(echoable(s));
}

/** `kid`/`alg` of the (unverified) header for the operator's reason; never the token. */
function headerHint(token: string): string {
  try {
    const h = decodeProtectedHeader(token);
    return ` (alg ${quote(h.alg)}, kid ${quote(h.kid)})`;
  } catch {
    return '';
  }
}

function hasCrit(token: string): boolean {
  try {
    return decodeProtectedHeader(token).crit !== undefined;
  } catch {
    return false;
  }
}

/**
 * Header `typ`, when present, must be `JWT` or `at+jwt` (RFC 9068), with or without the
 * `application/` prefix and in any case (RFC 7515 §4.1.9). Any other type is a different kind of
 * token from the same issuer (RFC 8725 §3.11, explicit typing).
 */
export function acceptedTyp(typ: unknown): boolean {
  if (typ === undefined) return true;
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase().replace(/^application\//, '');
  return t === 'jwt' || t === 'at+jwt';
}

/** A verified JWT's protected header, checked for what jose does not check itself. */
export function checkProtectedHeader(
  kind: CredentialKind,
  header: { typ?: unknown; crit?: unknown },
): void {
  if (!acceptedTyp(header.typ))
    throw invalidCredential(
      kind,
      'token type not accepted',
      `${REASON_LABEL[kind]} has typ ${quote(header.typ)}`,
    );
  // RFC 7515 §4.1.11: we implement no JWS extension, so a token that insists on one is refused,
  // even one jose understands (b64).
  if (header.crit !== undefined)
    throw invalidCredential(
      kind,
      'critical header extensions not supported',
      `${REASON_LABEL[kind]} has a "crit" header`,
    );
}

/**
 * `iat` later than now + tolerance is refused (RFC 7519 §4.1.6: the time of issue). jose checks
 * this only with a maximum token age, so without one (CALLER_MAX_TOKEN_AGE_S = 0, Access) a
 * post-dated token would pass and look fresh for longer. Same bound as jose's.
 */
export function checkIssuedAt(
  kind: CredentialKind,
  iat: unknown,
  nowMs: number,
  toleranceS: number,
): void {
  if (typeof iat !== 'number') return; // absent (optional) or already refused as malformed
  const nowS = Math.floor(nowMs / 1000);
  if (iat > nowS + toleranceS)
    throw invalidCredential(
      kind,
      'token issued in the future',
      `${REASON_LABEL[kind]} "iat" is ${iat - nowS} s in the future (clock tolerance ${toleranceS} s)`,
    );
}

export function mapJoseError(
  e: InstanceType<typeof joseErrors.JOSEError>,
  token: string,
  kind: CredentialKind = 'caller-jwt',
): GatewayError {
  const label = REASON_LABEL[kind];
  const invalid = (description: string, reason: string) =>
    invalidCredential(kind, description, reason, e);
  const base = `${e.code}: ${e.message}`;
  if (e instanceof joseErrors.JWTExpired) {
    return e.claim === 'iat'
      ? invalid('token too old', `${label} older than the maximum token age; ${base}`)
      : invalid('token expired', `${label} expired; ${base}`);
  }
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.reason === 'missing')
      return invalid(`required claim ${e.claim} missing`, `${label} ${base}`);
    if (e.reason === 'invalid') return invalid(`claim ${e.claim} malformed`, `${label} ${base}`);
    switch (e.claim) {
      case 'nbf':
        return invalid('token not yet valid', `${label} ${base}`);
      case 'iat':
        return invalid('token issued in the future', `${label} ${base}`);
      case 'iss':
        return invalid('issuer not accepted', `${label} ${base}: got ${quote(e.payload['iss'])}`);
      case 'aud':
        return invalid('audience not accepted', `${label} ${base}: got ${quote(e.payload['aud'])}`);
      default:
        return invalid('claims not accepted', `${label} ${base}`);
    }
  }
  if (e instanceof joseErrors.JOSENotSupported && hasCrit(token))
    return invalid(
      'critical header extensions not supported',
      `${label} has a "crit" header jose does not understand; ${base}`,
    );
  if (e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JOSENotSupported)
    return invalid('algorithm not accepted', `${label} ${base}${headerHint(token)}`);
  if (e instanceof joseErrors.JWKSNoMatchingKey)
    return invalid('no key matches the token', `${label} ${base}${headerHint(token)}`);
  if (e instanceof joseErrors.JWKSMultipleMatchingKeys)
    return invalid(
      'no unique key matches the token',
      `${label} ambiguous: several keys in the ${kind === 'access' ? 'Access certs' : 'caller JWKS'} match${headerHint(token)}; ${base}`,
    );
  if (e instanceof joseErrors.JWSSignatureVerificationFailed)
    return invalid('signature verification failed', `${label} ${base}${headerHint(token)}`);
  return invalid('malformed token', `${label} malformed; ${base}`);
}
