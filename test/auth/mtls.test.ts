/**
 * mTLS client certificates as a caller identity: the edge's verdict in `request.cf.tlsClientAuth`,
 * the fingerprint allow-list, and precedence against Bearer JWTs and Access assertions.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_ASSERTION_HEADER, createAccessKeySet } from '../../src/auth/access';
import { resolveMtlsCaller } from '../../src/auth/mtls';
import type { CallerPolicyEntry, MtlsConfig } from '../../src/config/types';
import { PROBLEM_TYPE_PREFIX } from '../../src/lib/errors';
import {
  TEST_CALLER_SUB,
  createTestCallerKeys,
  mintCallerJwt,
  type TestCallerKeys,
} from '../helpers/caller';
import { T0, TEST_POLICY, challenge, createHarness, problemOf } from './harness';
import { thrown } from '../helpers/errors';
import { TestClock } from '../helpers/clock';

const SHA256 = '3c2f1a9e8d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a';
const SHA1 = '6b9109f323999e52259cda7373ff0b4d26bd232e';
const OTHER_SHA256 = 'aa'.repeat(32);
const BARE = 'Bearer realm="ghes-token-gateway"';

const POLICY: Record<string, CallerPolicyEntry> = {
  ...TEST_POLICY,
  'svc-edge': { apps: ['octo-oauth'], operations: ['introspect', 'forward_auth'] },
  'svc-legacy': { apps: ['octo-oauth'], operations: ['check'] },
};

const MTLS: MtlsConfig = {
  callers: new Map([
    [SHA256, 'svc-edge'],
    [SHA1, 'svc-legacy'],
  ]),
};

/** `request.cf.tlsClientAuth` as the edge fills it for a presented certificate. */
function tls(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    certPresented: '1',
    certVerified: 'SUCCESS',
    certRevoked: '0',
    certIssuerDN: 'CN=Internal mTLS CA,O=Example',
    certSubjectDN: 'CN=edge-proxy-1,O=Example',
    certSerial: '00936EACBE07F201DF',
    certFingerprintSHA1: 'ffffffffffffffffffffffffffffffffffffffff',
    certFingerprintSHA256: SHA256,
    certNotBefore: 'Jan  1 00:00:00 2026 GMT',
    certNotAfter: 'Jan  1 00:00:00 2027 GMT',
    ...overrides,
  };
}

const NOT_PRESENTED = {
  certPresented: '0',
  certVerified: 'NONE',
  certRevoked: '0',
  certFingerprintSHA1: '',
  certFingerprintSHA256: '',
};

describe('resolveMtlsCaller', () => {
  it('maps a verified certificate by its SHA-256 fingerprint', () => {
    expect(resolveMtlsCaller({ tlsClientAuth: tls() }, MTLS, POLICY)).toEqual({
      source: 'mtls',
      sub: 'svc-edge',
      policy: POLICY['svc-edge'],
      fingerprint: SHA256,
    });
  });

  it('matches fingerprints whatever their case and colons', () => {
    const colons = SHA256.toUpperCase().match(/../g)?.join(':');
    const caller = resolveMtlsCaller(
      { tlsClientAuth: tls({ certFingerprintSHA256: colons }) },
      MTLS,
      POLICY,
    );
    expect(caller?.sub).toBe('svc-edge');
  });

  it('falls back to a SHA-1 entry when the SHA-256 one is not listed', () => {
    const caller = resolveMtlsCaller(
      { tlsClientAuth: tls({ certFingerprintSHA256: OTHER_SHA256, certFingerprintSHA1: SHA1 }) },
      MTLS,
      POLICY,
    );
    expect(caller).toMatchObject({ sub: 'svc-legacy', fingerprint: SHA1 });
  });

  it.each<[string, unknown]>([
    ['no cf object (local dev, plain HTTP)', undefined],
    ['cf without tlsClientAuth', { colo: 'FRA' }],
    ['the placeholder for no certificate', { tlsClientAuth: NOT_PRESENTED }],
    ['a non-object tlsClientAuth', { tlsClientAuth: 'yes' }],
  ])('answers undefined (no credential) for %s', (_name, cf) => {
    expect(resolveMtlsCaller(cf, MTLS, POLICY)).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'a certificate the edge could not verify',
      { certVerified: 'FAILED:unable to verify the first certificate' },
      'Client certificate not accepted: certificate not verified.',
      /certVerified "FAILED:unable to verify the first certificate"/,
    ],
    [
      'an expired certificate',
      { certVerified: 'FAILED:certificate has expired' },
      'Client certificate not accepted: certificate not verified.',
      /certificate has expired/,
    ],
    [
      'a self-signed certificate',
      { certVerified: 'FAILED:self signed certificate' },
      'Client certificate not accepted: certificate not verified.',
      /self signed/,
    ],
    [
      'no verification result',
      { certVerified: undefined },
      'Client certificate not accepted: certificate not verified.',
      /certVerified/,
    ],
    [
      'a revoked certificate',
      { certRevoked: '1' },
      'Client certificate not accepted: certificate revoked.',
      /certRevoked "1"/,
    ],
    [
      'an unknown revocation status',
      { certRevoked: undefined },
      'Client certificate not accepted: certificate revocation status unknown.',
      /certRevoked/,
    ],
  ])('refuses %s with 401', (_name, overrides, detail, reason) => {
    const e = thrown(() => resolveMtlsCaller({ tlsClientAuth: tls(overrides) }, MTLS, POLICY));
    expect(e.code).toBe('unauthorized');
    expect(e.detail).toBe(detail);
    expect(e.reason).toMatch(reason);
    expect(e.headers['WWW-Authenticate']).toBe(BARE);
  });

  it('refuses a verified certificate that is not on the allow-list with 403', () => {
    const e = thrown(() =>
      resolveMtlsCaller(
        { tlsClientAuth: tls({ certFingerprintSHA256: OTHER_SHA256 }) },
        MTLS,
        POLICY,
      ),
    );
    expect(e.code).toBe('forbidden');
    expect(e.detail).toBe('This client certificate has no access policy.');
    expect(e.reason).toMatch(
      /not in MTLS_CALLERS \(SHA-256 "a{64}", subject "CN=edge-proxy-1,O=Example"\)/,
    );
  });

  it('refuses a listed certificate whose sub has no policy entry with 403', () => {
    const config: MtlsConfig = { callers: new Map([[SHA256, 'svc-gone']]) };
    const e = thrown(() => resolveMtlsCaller({ tlsClientAuth: tls() }, config, POLICY));
    expect(e.code).toBe('forbidden');
    expect(e.reason).toMatch(/maps a certificate to "svc-gone", which has no CALLER_POLICY entry/);
  });

  it('does not find Object.prototype members through the policy', () => {
    const config: MtlsConfig = { callers: new Map([[SHA256, 'constructor']]) };
    expect(thrown(() => resolveMtlsCaller({ tlsClientAuth: tls() }, config, POLICY)).code).toBe(
      'forbidden',
    );
  });
});

let callerKeys: TestCallerKeys;
beforeAll(async () => {
  callerKeys = await createTestCallerKeys('caller-key-1');
});

function mtlsHarness() {
  return createHarness({ keys: callerKeys, policy: POLICY, mtls: MTLS });
}

describe('callerAuth with mTLS', () => {
  it('authenticates a request by its client certificate (request.cf)', async () => {
    const h = mtlsHarness();
    const res = await h.send({ cf: { tlsClientAuth: tls() } });
    expect(res.status).toBe(200);
    expect(h.seen).toEqual([
      { source: 'mtls', sub: 'svc-edge', policy: POLICY['svc-edge'], fingerprint: SHA256 },
    ]);
  });

  it('answers 401 with a bare challenge for a revoked certificate, and never runs the handler', async () => {
    const h = mtlsHarness();
    const res = await h.send({ cf: { tlsClientAuth: tls({ certRevoked: '1' }) } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(BARE);
    expect(await problemOf(res)).toMatchObject({
      type: PROBLEM_TYPE_PREFIX + 'unauthorized',
      detail: 'Client certificate not accepted: certificate revoked.',
    });
    expect(h.seen).toEqual([]);
    expect(h.logs[0]).toMatchObject({ event: 'caller.auth_failed', source: 'mtls' });
  });

  it('answers 401 missing credentials when no certificate was presented', async () => {
    const h = mtlsHarness();
    const res = await h.send({ cf: { tlsClientAuth: NOT_PRESENTED } });
    expect(res.status).toBe(401);
    expect(await problemOf(res)).toMatchObject({ detail: 'Bearer credentials required.' });
    expect(h.logs[0]).toMatchObject({ source: 'none' });
  });

  it('ignores client certificates entirely when mTLS is not configured', async () => {
    const h = createHarness({ keys: callerKeys, policy: POLICY });
    const res = await h.send({ cf: { tlsClientAuth: tls() } });
    expect(res.status).toBe(401);
    expect(h.seen).toEqual([]);
  });

  it('prefers a valid Bearer JWT over a certificate, which is then not consulted', async () => {
    const h = mtlsHarness();
    const token = await mintCallerJwt(callerKeys, {}, {}, { now: T0 });
    const res = await h.send({
      headers: { authorization: `Bearer ${token}` },
      // A revoked certificate would be refused if it were looked at.
      cf: { tlsClientAuth: tls({ certRevoked: '1' }) },
    });
    expect(res.status).toBe(200);
    expect(h.seen[0]).toMatchObject({ source: 'jwt', sub: TEST_CALLER_SUB });
  });

  it('answers 401 for an invalid Bearer JWT even with a valid certificate', async () => {
    const h = mtlsHarness();
    const res = await h.send({
      headers: { authorization: 'Bearer not.a.jwt' },
      cf: { tlsClientAuth: tls() },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('malformed token'));
    expect(h.seen).toEqual([]);
  });

  it('answers 401 for an invalid Access assertion even with a valid certificate', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const team = 'https://acme.cloudflareaccess.com';
    const access = {
      config: {
        teamDomain: team,
        audience: ['aud-tag'],
        subjects: { 'ops@example.com': 'svc-legacy' },
      },
      keySet: createAccessKeySet(
        { teamDomain: team },
        {
          fetch: (async () => Response.json({ keys: [jwk] })) as unknown as typeof fetch,
          clock: new TestClock(T0),
        },
      ),
    };
    const h = createHarness({ keys: callerKeys, policy: POLICY, mtls: MTLS, access });
    const wrongAud = await new SignJWT({ email: 'ops@example.com', iss: team, aud: 'other' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime(T0 / 1000 + 600)
      .sign(privateKey);
    const res = await h.send({
      headers: { [ACCESS_ASSERTION_HEADER]: wrongAud },
      cf: { tlsClientAuth: tls() },
    });
    expect(res.status).toBe(401);
    expect(h.logs[0]).toMatchObject({ source: 'access' });
    expect(h.seen).toEqual([]);

    // Without the assertion the same certificate is enough.
    const ok = await h.send({ cf: { tlsClientAuth: tls() } });
    expect(ok.status).toBe(200);
    expect(h.seen[0]).toMatchObject({ source: 'mtls', sub: 'svc-edge' });
  });
});
