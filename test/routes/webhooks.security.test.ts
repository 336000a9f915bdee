/**
 * POST /webhooks/github/{app}: the signature is the only credential. Anything else (no
 * signature, another app's secret, a caller JWT, a signature over another body) is 401 and
 * changes nothing; no secret reaches a log line or an answer.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/auth/webhook-signature';
import { createTestGateway, secretsOf, seedTokens, type TestGateway } from '../helpers/gateway';
import { expectProblem } from '../helpers/gateway-requests';
import { checkStatus, deliver, revoked, webhookSecret } from './webhooks.harness';

async function cachedActive(gw: TestGateway): Promise<string> {
  const token = seedTokens(gw).octocatGithubApp;
  expect(await checkStatus(gw, token)).toBe(200);
  await gw.settle();
  const app = gw.apps.find((a) => a.kind === 'github_app');
  gw.emulator.state.deleteGrant(app?.client_id ?? '', 1);
  return token;
}

/** The refusal changed nothing: the cached answer is still served, no epoch moved. */
async function unchanged(gw: TestGateway, token: string): Promise<void> {
  expect(await checkStatus(gw, token)).toBe(200);
  expect(gw.logs.some((r) => r.event === 'cache.grant_invalidated')).toBe(false);
  expect(gw.logs.some((r) => r.event === 'webhook.grants_revoked')).toBe(false);
}

describe('webhook authentication', () => {
  it.each([
    ['missing', null],
    ['empty', ''],
    ['SHA-1 only (X-Hub-Signature)', 'sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0'],
    ['garbage', 'sha256=not-hex'],
    ['all zeros', `sha256=${'0'.repeat(64)}`],
  ])('a signature that is %s is 401 and changes nothing', async (_, signature) => {
    const gw = await createTestGateway();
    const token = await cachedActive(gw);
    const res = await deliver(gw, { signature });
    const body = await expectProblem(res, 401, 'webhook-signature-invalid');
    expect(body.detail).toBe(
      signature === null
        ? 'X-Hub-Signature-256 is missing'
        : "X-Hub-Signature-256 does not match the body under this app's webhook secret",
    );
    await unchanged(gw, token);
  });

  it('a signature made with another secret (another app’s, the client secret) is 401', async () => {
    const gw = await createTestGateway();
    const token = await cachedActive(gw);
    for (const secret of gw.apps.map((a) => a.client_secret))
      await expectProblem(await deliver(gw, { secret }), 401, 'webhook-signature-invalid');
    await unchanged(gw, token);
  });

  it('a valid signature over another body is 401 (the payload was changed in transit)', async () => {
    const gw = await createTestGateway();
    const token = await cachedActive(gw);
    const signature = await signWebhookBody(webhookSecret(gw), JSON.stringify(revoked(2)));
    await expectProblem(
      await deliver(gw, { payload: revoked(1), signature }),
      401,
      'webhook-signature-invalid',
    );
    await unchanged(gw, token);
  });

  it('the raw bytes are signed: re-serialised JSON with the same meaning is refused', async () => {
    const gw = await createTestGateway();
    const raw = JSON.stringify(revoked(1));
    const signature = await signWebhookBody(webhookSecret(gw), raw);
    const spaced = JSON.stringify(revoked(1), null, 2);
    await expectProblem(
      await deliver(gw, { body: spaced, signature }),
      401,
      'webhook-signature-invalid',
    );
    expect((await deliver(gw, { body: raw, signature })).status).toBe(200);
  });

  it('a caller JWT is no substitute for the signature', async () => {
    const gw = await createTestGateway();
    const token = await cachedActive(gw);
    const res = await deliver(gw, {
      signature: null,
      headers: { authorization: `Bearer ${await gw.caller()}` },
    });
    await expectProblem(res, 401, 'webhook-signature-invalid');
    await unchanged(gw, token);
  });

  it('a refused delivery does not use up its delivery id', async () => {
    const gw = await createTestGateway();
    const delivery = crypto.randomUUID();
    await expectProblem(
      await deliver(gw, { delivery, signature: null }),
      401,
      'webhook-signature-invalid',
    );
    const signed = await deliver(gw, { delivery });
    expect(signed.status).toBe(200);
    expect(await signed.json()).toEqual({ status: 'processed', event: 'github_app_authorization' });
  });

  it('no secret or signature in logs, answers or KV keys', async () => {
    const gw = await createTestGateway();
    await cachedActive(gw);
    const body = JSON.stringify(revoked(1));
    const signature = await signWebhookBody(webhookSecret(gw), body);
    const answers = [
      await deliver(gw, { body, signature }),
      await deliver(gw, { signature: `sha256=${'f'.repeat(64)}` }),
      await deliver(gw, { signature: null }),
      await deliver(gw, { event: 'ping', payload: { zen: 'x' } }),
    ];
    const texts = await Promise.all(answers.map((r) => r.text()));
    await gw.settle();
    const keys = (await env.TOKEN_CACHE.list()).keys.map((k) => k.name);
    expect(keys.some((k) => k.startsWith('v1:delivery:'))).toBe(true);
    const seen = JSON.stringify(gw.logs) + texts.join('\n') + keys.join('\n');
    for (const secret of [...secretsOf(gw), webhookSecret(gw)]) expect(seen).not.toContain(secret);
    expect(seen).not.toContain(signature.slice(7));
    expect(seen).not.toContain('f'.repeat(64));
  });
});
