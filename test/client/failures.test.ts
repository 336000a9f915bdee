/**
 * How the typed client fails: the gateway's own problems (validation errors, a rate limit with
 * Retry-After) as GatewayProblem; everything that is not the gateway's problem answer (the network,
 * a proxy's HTML page, a redirect, a body that is not JSON) as GatewayTransportError.
 */
import { describe, expect, it } from 'vitest';
import { GatewayProblem, GatewayTransportError } from '../../client/src/index';
import { createTestGateway, seedTokens } from '../helpers/gateway';
import { clientFor, rejection } from './harness';

const OAUTH = 'demo-oauth';
const GH_APP = 'demo-github-app';

describe('problems from the real gateway', () => {
  it('validation-failed carries the fields in `errors`', async () => {
    const gw = await createTestGateway();
    const { client } = clientFor(gw);

    const e = await rejection(
      client.scoped(GH_APP, {
        access_token: seedTokens(gw).octocatGithubApp,
        target: 'not a login!',
      }),
    );

    expect(e).toBeInstanceOf(GatewayProblem);
    expect(e).toMatchObject({ code: 'validation-failed', status: 422 });
    // The gateway's field naming (`body.target` today) is its own tests' business.
    expect((e as GatewayProblem).errors?.map((x) => x.field)).toEqual([
      expect.stringMatching(/(^|\.)target$/),
    ]);
  });

  it('a rate limit: 429 rate-limited with the seconds of Retry-After', async () => {
    const gw = await createTestGateway({
      vars: { MUTATION_RATE_LIMITER: { limit: async () => ({ success: false }) } },
    });
    const { client } = clientFor(gw);

    const e = await rejection(client.reset(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toBeInstanceOf(GatewayProblem);
    expect(e).toMatchObject({ code: 'rate-limited', status: 429, retryAfterS: 60 });
  });
});

/** A client whose every request is answered by `answer` instead of the gateway. */
async function answeredBy(answer: (req: Request) => Promise<Response>) {
  const gw = await createTestGateway();
  return { gw, ...clientFor(gw, { answer }) };
}

describe('failures that are not the gateway’s problems', () => {
  it('fetch rejects: GatewayTransportError `network`, the cause kept', async () => {
    const down = new TypeError('connection refused');
    const { gw, client } = await answeredBy(() => Promise.reject(down));

    const e = await rejection(client.check(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toBeInstanceOf(GatewayTransportError);
    expect(e).toMatchObject({ failure: 'network', status: undefined });
    expect((e as Error).cause).toBe(down);

    const viaForwardAuth = await rejection(client.forwardAuth(seedTokens(gw).octocatOauth));
    expect(viaForwardAuth).toMatchObject({ failure: 'network' });
  });

  it('a proxy’s HTML error page: `unexpected-response` with its status and request id', async () => {
    const { gw, client } = await answeredBy(async () => {
      return new Response('<html>Bad gateway</html>', {
        status: 502,
        headers: { 'content-type': 'text/html', 'x-request-id': 'proxy-1' },
      });
    });

    const e = await rejection(client.check(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toBeInstanceOf(GatewayTransportError);
    expect(e).toMatchObject({ failure: 'unexpected-response', status: 502, request_id: 'proxy-1' });
  });

  it('a problem-shaped body that is not application/problem+json is not taken for a problem', async () => {
    const body = { type: 'x', code: 'token-not-found', title: 't', status: 404 };
    const { gw, client } = await answeredBy(async () => Response.json(body, { status: 404 }));

    const e = await rejection(client.check(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toBeInstanceOf(GatewayTransportError);
    expect(e).toMatchObject({ failure: 'unexpected-response', status: 404 });
  });

  it('a redirect is not followed (the caller JWT would go with it)', async () => {
    const { gw, client, sent } = await answeredBy(async () => {
      return new Response(null, { status: 302, headers: { location: 'https://elsewhere.test/' } });
    });

    const e = await rejection(client.check(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toMatchObject({ failure: 'unexpected-response', status: 302 });
    expect(sent.map((s) => s.redirect)).toEqual(['manual']);

    const fa = await rejection(client.forwardAuth(seedTokens(gw).octocatOauth));
    expect(fa).toMatchObject({ failure: 'unexpected-response', status: 302 });
    expect(sent.map((s) => s.redirect)).toEqual(['manual', 'manual']);
  });

  it('a 200 whose body is not JSON: `unexpected-response`', async () => {
    const { gw, client } = await answeredBy(async () => {
      return new Response('<html>portal</html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      });
    });

    const e = await rejection(client.check(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toBeInstanceOf(GatewayTransportError);
    expect(e).toMatchObject({ failure: 'unexpected-response' });
  });
});
