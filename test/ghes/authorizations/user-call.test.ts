/**
 * How GHES's refusals of a user call map (src/ghes/authorizations/user-call.ts), through a real
 * call (getAuthorization) so that request.ts's order of checks is covered too.
 */
import { describe, expect, it } from 'vitest';
import { getAuthorization } from '../../../src/ghes/authorizations/get-authorization';
import { credentialSecrets, scrubTokenLike } from '../../../src/ghes/authorizations/user-call';
import {
  CLIENT_SECRET,
  TOKEN,
  errorText,
  expectGatewayError,
  harness,
  json,
  reply,
} from '../harness';
import { USER, USER_2FA } from './harness';

const secrets = credentialSecrets(USER_2FA);

describe('user call refusals', () => {
  it.each(['sms', 'app'] as const)(
    '401 with X-GitHub-OTP: required; %s → user-otp-required, header and otp_type passed on',
    async (type) => {
      const h = harness([
        json(
          401,
          { message: 'Must specify two-factor authentication OTP code.' },
          {
            'x-github-otp': `required; ${type}`,
          },
        ),
      ]);
      const err = await expectGatewayError(getAuthorization(h.ctx, USER, 1), 'user-otp-required');
      expect(err.headers['x-github-otp']).toBe(`required; ${type}`);
      expect(err.extensions['otp_type']).toBe(type);
      expect(err.upstreamStatus).toBe(401);
      expect(h.calls).toHaveLength(1);
    },
  );

  it('401 without an OTP challenge → user-credentials-rejected, never the app credentials', async () => {
    const h = harness([json(401, { message: 'Bad credentials' })]);
    const err = await expectGatewayError(
      getAuthorization(h.ctx, USER, 1),
      'user-credentials-rejected',
    );
    expect(err.headers).toEqual({});
    expect(h.calls).toHaveLength(1);
  });

  it('an X-GitHub-OTP header that is not a challenge is not passed on', async () => {
    const h = harness([json(401, { message: 'x' }, { 'x-github-otp': 'required; email, x' })]);
    const err = await expectGatewayError(
      getAuthorization(h.ctx, USER, 1),
      'user-credentials-rejected',
    );
    expect(err.headers['x-github-otp']).toBeUndefined();
  });

  it("403 → user-forbidden with GitHub's message, scrubbed of the password and tokens", async () => {
    const h = harness([
      json(403, { message: `Maximum number of login attempts exceeded ${USER.password} ${TOKEN}` }),
    ]);
    const err = await expectGatewayError(getAuthorization(h.ctx, USER, 1), 'user-forbidden');
    expect(err.detail).toContain('Maximum number of login attempts exceeded');
    expect(errorText(err)).not.toContain(USER.password);
    expect(errorText(err)).not.toContain(TOKEN);
    expect(h.calls).toHaveLength(1);
  });

  it('a rate-limit 403 is a rate limit, retried for a GET', async () => {
    const h = harness([
      json(
        403,
        { message: 'API rate limit exceeded' },
        { 'x-ratelimit-remaining': '0', 'retry-after': '0' },
      ),
      json(200, []),
    ]);
    await expectGatewayError(getAuthorization(h.ctx, USER, 1), 'upstream-error');
    expect(h.calls).toHaveLength(2);
  });

  it('404 → authorization-not-found', async () => {
    const h = harness([json(404, { message: 'Not Found' })]);
    await expectGatewayError(getAuthorization(h.ctx, USER, 1), 'authorization-not-found');
  });

  it('410 → upstream-error saying the API is gone', async () => {
    const h = harness([json(410, { message: 'Gone' })]);
    const err = await expectGatewayError(getAuthorization(h.ctx, USER, 1), 'upstream-error');
    expect(err.detail).toMatch(/410/);
    expect(err.upstreamStatus).toBe(410);
  });

  it("422 keeps GitHub's message and field errors, scrubbed", async () => {
    const h = harness([
      json(422, {
        message: `Validation Failed for ${TOKEN} and ${'a'.repeat(40)}`,
        errors: [
          {
            resource: 'OauthAccess',
            code: 'already_exists',
            field: 'fingerprint',
            message: USER.password,
          },
        ],
      }),
    ]);
    const err = await expectGatewayError(
      getAuthorization(h.ctx, USER, 1),
      'upstream-validation-failed',
    );
    expect(err.detail).toContain('Validation Failed');
    expect(errorText(err)).not.toContain(TOKEN);
    expect(errorText(err)).not.toContain('a'.repeat(40));
    expect(errorText(err)).not.toContain(USER.password);
    expect(err.extensions['upstream_errors']).toEqual([
      {
        resource: 'OauthAccess',
        code: 'already_exists',
        field: 'fingerprint',
        message: '[redacted]',
      },
    ]);
  });

  it('nothing a refusal carries holds the password, OTP, Basic header or client secret', async () => {
    for (const status of [401, 403, 404, 410, 422, 418]) {
      const h = harness([json(status, { message: secrets.join(' ') + CLIENT_SECRET })]);
      let caught: unknown;
      await getAuthorization(h.ctx, USER_2FA, 1).catch((e: unknown) => (caught = e));
      const text = errorText(caught as never);
      for (const s of [...secrets, CLIENT_SECRET]) expect(text).not.toContain(s);
      expect(JSON.stringify(h.logs)).not.toContain(USER_2FA.password);
    }
  });

  it('a 5xx is retried for a GET, and logged without credentials', async () => {
    const h = harness([reply(502), json(404, { message: 'Not Found' })]);
    await expectGatewayError(getAuthorization(h.ctx, USER_2FA, 1), 'authorization-not-found');
    expect(h.calls).toHaveLength(2);
    const logs = JSON.stringify(h.logs);
    for (const s of secrets) expect(logs).not.toContain(s);
    expect(logs).toContain('/authorizations/1');
  });
});

describe('scrubTokenLike', () => {
  it('redacts gh*_ tokens and 40-hex legacy tokens, nothing else', () => {
    expect(scrubTokenLike(`a ${TOKEN} b`)).toBe('a [redacted] b');
    expect(scrubTokenLike(`x ${'0123456789abcdef'.repeat(2)}01234567 y`)).toBe('x [redacted] y');
    expect(scrubTokenLike('fingerprint already exists')).toBe('fingerprint already exists');
  });
});
