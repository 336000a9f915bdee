/** POST /webhooks/github/{app}: what is refused, and that a refusal changes nothing. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { DEMO_GITHUB_APP_CLIENT_ID, DEMO_OAUTH_CLIENT_ID } from '../../emulator/index';
import { WEBHOOK_MAX_BODY_BYTES } from '../../src/routes/webhooks';
import { createTestGateway } from '../helpers/gateway';
import { expectProblem } from '../helpers/gateway-requests';
import { deliver, GH_APP, revoked, webhookPath } from './webhooks.harness';

const invalidations = (logs: { event: string }[]) =>
  logs.filter((r) => r.event === 'cache.grant_invalidated').length;

describe('POST /webhooks/github/{app} refusals', () => {
  it('an unknown app is 404', async () => {
    const gw = await createTestGateway();
    await expectProblem(
      await deliver(gw, { app: 'no-such-app', secret: 'x'.repeat(20) }),
      404,
      'not-found',
    );
  });

  it('an OAuth app is 404: GHES sends OAuth apps no webhooks', async () => {
    const gw = await createTestGateway();
    await expectProblem(
      await deliver(gw, { app: 'demo-oauth', secret: 'x'.repeat(20) }),
      404,
      'not-found',
    );
  });

  it('a GitHub App without a webhook secret is 404, whatever the signature', async () => {
    const gw = await createTestGateway({
      vars: {
        APPS: JSON.stringify([
          {
            name: 'demo-oauth',
            client_id: DEMO_OAUTH_CLIENT_ID,
            kind: 'oauth_app',
            client_secret_binding: 'DEMO_OAUTH_CLIENT_SECRET',
          },
          {
            name: GH_APP,
            client_id: DEMO_GITHUB_APP_CLIENT_ID,
            kind: 'github_app',
            client_secret_binding: 'DEMO_GITHUB_APP_CLIENT_SECRET',
          },
        ]),
      },
    });
    const res = await deliver(gw);
    const body = await expectProblem(res, 404, 'not-found');
    expect(body.detail).toBe('No GitHub App with a webhook secret has this name');
    expect(invalidations(gw.logs)).toBe(0);
  });

  it('a body over the limit is 413 before the signature is looked at', async () => {
    const gw = await createTestGateway();
    const body = JSON.stringify({ ...revoked(1), padding: 'x'.repeat(WEBHOOK_MAX_BODY_BYTES) });
    await expectProblem(await deliver(gw, { body }), 413, 'payload-too-large');
    await expectProblem(await deliver(gw, { body, signature: null }), 413, 'payload-too-large');
    expect(invalidations(gw.logs)).toBe(0);
  });

  it('an oversized body streamed without content-length is 413 too', async () => {
    const gw = await createTestGateway();
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= WEBHOOK_MAX_BODY_BYTES + chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await gw.request(webhookPath(GH_APP), {
      method: 'POST',
      headers: { 'x-github-event': 'ping', 'x-github-delivery': crypto.randomUUID() },
      body: stream,
      // @ts-expect-error workerd needs duplex for a streamed request body
      duplex: 'half',
    });
    await expectProblem(res, 413, 'payload-too-large');
  });

  it.each([
    ['no delivery id', { 'x-github-delivery': '' }],
    ['a delivery id with odd characters', { 'x-github-delivery': '../../v1:tok:abc' }],
    ['no event', { 'x-github-event': '' }],
    ['an odd event name', { 'x-github-event': 'Installation Deleted' }],
  ])('a signed delivery with %s is 400 and changes nothing', async (_, headers) => {
    const gw = await createTestGateway();
    await expectProblem(await deliver(gw, { headers }), 400, 'invalid-request');
    expect(invalidations(gw.logs)).toBe(0);
  });

  it.each([
    ['not JSON', 'github_app_authorization', '{"action":"revoked",'],
    ['no sender', 'github_app_authorization', '{"action":"revoked"}'],
    ['a string user id', 'github_app_authorization', '{"action":"revoked","sender":{"id":"1"}}'],
    ['no installation', 'installation', '{"action":"deleted","sender":{"id":1}}'],
  ])(
    'a handled event that is %s is 400; the same delivery id may come again',
    async (_, event, body) => {
      const gw = await createTestGateway();
      const delivery = crypto.randomUUID();
      const res = await deliver(gw, { event, body, delivery });
      const problem = await expectProblem(res, 400, 'invalid-request');
      expect(problem.detail).toMatch(/payload is not as GitHub documents it/);
      expect(invalidations(gw.logs)).toBe(0);
      // Not remembered: a corrected redelivery is acted on.
      const again = await deliver(gw, { delivery });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({
        status: 'processed',
        event: 'github_app_authorization',
      });
    },
  );

  it('an epoch KV would not take is 503: GHES marks the delivery failed, its redelivery acts', async () => {
    let failEpochs = true;
    const real = env.TOKEN_CACHE;
    const kv = {
      get: (...args: Parameters<KVNamespace['get']>) => real.get(...args),
      delete: (key: string) => real.delete(key),
      list: (o?: KVNamespaceListOptions) => real.list(o),
      put: async (key: string, value: string, o?: KVNamespacePutOptions) => {
        if (failEpochs && key.startsWith('v1:epoch:')) throw new Error('KV PUT failed: 503');
        return real.put(key, value, o);
      },
    } as unknown as KVNamespace;
    const gw = await createTestGateway({ kv });
    const delivery = crypto.randomUUID();
    const res = await deliver(gw, { delivery });
    const body = await expectProblem(res, 503, 'webhook-not-replicated');
    expect(body.detail).toBe('The revocation reached this instance only; redeliver this delivery');
    expect(res.headers.get('retry-after')).toBe('60');
    expect(gw.logs).toContainEqual(
      expect.objectContaining({ level: 'error', event: 'cache.invalidation_not_replicated' }),
    );
    failEpochs = false;
    const redelivered = await deliver(gw, { delivery });
    expect(redelivered.status).toBe(200);
    expect(await redelivered.json()).toEqual({
      status: 'processed',
      event: 'github_app_authorization',
    });
  });

  it('other methods are 405 naming POST', async () => {
    const gw = await createTestGateway();
    const res = await gw.request(webhookPath(GH_APP));
    const body = await expectProblem(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toBe('POST');
    expect(body.detail).toMatch(/GET is not allowed/);
  });
});
