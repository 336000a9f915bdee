/**
 * mTLS client certificates as a caller identity source (when MTLS_CALLERS is set). The edge checks
 * the certificate against the zone's mTLS CA and reports in `request.cf.tlsClientAuth`, which a
 * client cannot set. Accepted only when verified (`certVerified` "SUCCESS"), not revoked
 * (`certRevoked` exactly "0": anything else fails closed) and on the fingerprint allow-list (else
 * 403). SHA-256 is matched before SHA-1 (SHA-1 is not collision resistant).
 * Returns `undefined` when no certificate was presented.
 */
import { normalizeFingerprint } from '../config/schema';
import type { CallerPolicyEntry, MtlsConfig } from '../config/types';
import { GatewayError } from '../lib/errors';
import type { MtlsCaller } from './caller';
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
      // The fingerprint is Cloudflare's hex digest of a public certificate, not caller text.
      reason: `verified client certificate not in MTLS_CALLERS (SHA-256 ${JSON.stringify(String(shown))}, subject ${quote(field(auth, 'certSubjectDN'))})`,
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
