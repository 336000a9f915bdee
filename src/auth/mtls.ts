/**
 * mTLS client certificates as a caller identity source (off unless MTLS_CALLERS is set).
 *
 * Trust boundary: Cloudflare's edge terminates TLS, checks the client certificate against the
 * zone's mTLS CA (and its revocation list) and reports the result in `request.cf.tlsClientAuth`.
 * A client cannot set `request.cf`; it can only choose which certificate to present. The gateway
 * therefore accepts a certificate only when
 * - the edge verified it (`certVerified === "SUCCESS"`; a failed, self-signed, expired or
 *   not-yet-valid certificate is refused with 401),
 * - the edge does not report it revoked (`certRevoked` must be exactly `"0"`; `"1"` or anything
 *   unexpected is refused: fail closed),
 * - and its fingerprint is on the allow-list, which maps it to a CALLER_POLICY sub (a verified but
 *   unlisted certificate is authenticated but not allowed: 403).
 * SHA-256 fingerprints are matched first; SHA-1 entries (40 hex) are accepted for CAs that only
 * report those, but SHA-256 is preferred (SHA-1 is not collision resistant).
 *
 * Pure: takes the `cf` object, returns the caller, or `undefined` when no certificate was
 * presented (the request then has no credential of this kind).
 */
import { normalizeFingerprint } from '../config/schema';
import type { CallerPolicyEntry, MtlsConfig } from '../config/types';
import { GatewayError } from '../lib/errors';
import type { MtlsCaller } from './caller-auth';
import { invalidCredential, quote } from './credential-errors';

function field(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** `request.cf.tlsClientAuth` when a certificate was presented, else undefined. */
function presented(cf: unknown): Record<string, unknown> | undefined {
  if (typeof cf !== 'object' || cf === null) return undefined;
  const auth = field(cf as Record<string, unknown>, 'tlsClientAuth');
  if (typeof auth !== 'object' || auth === null) return undefined;
  const record = auth as Record<string, unknown>;
  return field(record, 'certPresented') === '1' ? record : undefined;
}

export function resolveMtlsCaller(
  cf: unknown,
  config: MtlsConfig,
  policy: Readonly<Record<string, CallerPolicyEntry>>,
): MtlsCaller | undefined {
  const auth = presented(cf);
  if (auth === undefined) return undefined;

  const verified = field(auth, 'certVerified');
  if (verified !== 'SUCCESS')
    throw invalidCredential(
      'mtls',
      'certificate not verified',
      `client certificate certVerified ${quote(verified)}`,
    );
  const revoked = field(auth, 'certRevoked');
  if (revoked !== '0')
    throw invalidCredential(
      'mtls',
      revoked === '1' ? 'certificate revoked' : 'certificate revocation status unknown',
      `client certificate certRevoked ${quote(revoked)}`,
    );

  let fingerprint: string | undefined;
  let sub: string | undefined;
  for (const name of ['certFingerprintSHA256', 'certFingerprintSHA1']) {
    const value = field(auth, name);
    if (typeof value !== 'string' || value.length === 0) continue;
    const normalized = normalizeFingerprint(value);
    const mapped = config.callers.get(normalized);
    if (mapped !== undefined) {
      fingerprint = normalized;
      sub = mapped;
      break;
    }
  }
  if (fingerprint === undefined || sub === undefined) {
    const shown = field(auth, 'certFingerprintSHA256');
    throw new GatewayError('forbidden', {
      detail: 'This client certificate has no access policy.',
      reason: `verified client certificate not in MTLS_CALLERS (SHA-256 ${quote(shown)}, subject ${quote(field(auth, 'certSubjectDN'))})`,
    });
  }
  if (!Object.hasOwn(policy, sub))
    throw new GatewayError('forbidden', {
      detail: `caller ${quote(sub)} has no access policy.`,
      reason: `MTLS_CALLERS maps a certificate to ${quote(sub)}, which has no CALLER_POLICY entry`,
    });
  return Object.freeze({
    source: 'mtls' as const,
    sub,
    policy: policy[sub] as CallerPolicyEntry,
    fingerprint,
  });
}
