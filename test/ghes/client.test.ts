/**
 * createGhesClient: picks body-style or legacy path-style calls, and refuses scoped tokens for
 * OAuth apps and for GHES before 3.0 before any request is made.
 */
import { describe, expect, it } from 'vitest';
import type { ApiStyle, GhesVersion } from '../../src/config/types';
import { createGhesClient, type GhesClient } from '../../src/ghes/client';
import type { GhesContext } from '../../src/ghes/request';
import {
  GITHUB_APP,
  OAUTH_APP,
  TOKEN,
  authorization,
  errorText,
  expectGatewayError,
  expectWireRequest,
  harness,
  json,
  leakIn,
  reply,
  type Harness,
} from './harness';

function version(label: string): GhesVersion {
  const [major, minor] = label.split('.').map(Number) as [number, number];
  return { major, minor, label };
}

function contextOf(h: Harness): Omit<GhesContext, 'app'> {
  const { baseUrl, fetch, timeoutMs, deadlineMs, log, clock } = h.ctx;
  const context: Omit<GhesContext, 'app'> = { baseUrl, fetch, timeoutMs, deadlineMs, log, clock };
  if (h.ctx.random !== undefined) context.random = h.ctx.random;
  return context;
}

function client(h: Harness, label: string, style: ApiStyle): GhesClient {
  return createGhesClient({ version: version(label), style, context: contextOf(h) });
}

describe('style selection', () => {
  it('body style: POST / PATCH / DELETE /token and DELETE /grant, token in the body', async () => {
    const h = harness([
      json(200, authorization()),
      json(200, authorization()),
      reply(204),
      reply(204),
    ]);
    const c = client(h, '3.3', 'body');
    await c.check(OAUTH_APP, TOKEN);
    await c.reset(OAUTH_APP, TOKEN);
    await c.delete(OAUTH_APP, TOKEN);
    await c.deleteGrant(OAUTH_APP, TOKEN);
    const body = { access_token: TOKEN };
    expectWireRequest(h.calls[0], { method: 'POST', path: '/token', body });
    expectWireRequest(h.calls[1], { method: 'PATCH', path: '/token', body });
    expectWireRequest(h.calls[2], { method: 'DELETE', path: '/token', body });
    expectWireRequest(h.calls[3], { method: 'DELETE', path: '/grant', body });
  });

  it('legacy style: GET / POST / DELETE /tokens/<token> and DELETE /grants/<token>', async () => {
    const h = harness([
      json(200, authorization()),
      json(200, authorization()),
      reply(204),
      reply(204),
    ]);
    const c = client(h, '3.3', 'legacy');
    await c.check(OAUTH_APP, TOKEN);
    await c.reset(OAUTH_APP, TOKEN);
    await c.delete(OAUTH_APP, TOKEN);
    await c.deleteGrant(OAUTH_APP, TOKEN);
    expectWireRequest(h.calls[0], { method: 'GET', path: `/tokens/${TOKEN}` });
    expectWireRequest(h.calls[1], { method: 'POST', path: `/tokens/${TOKEN}` });
    expectWireRequest(h.calls[2], { method: 'DELETE', path: `/tokens/${TOKEN}` });
    expectWireRequest(h.calls[3], { method: 'DELETE', path: `/grants/${TOKEN}` });
  });

  it('each call uses the credentials and client_id of the app it names', async () => {
    const h = harness([json(200, authorization()), json(200, authorization({}, GITHUB_APP))]);
    const c = client(h, '3.22', 'body');
    await c.check(OAUTH_APP, TOKEN);
    await c.check(GITHUB_APP, TOKEN);
    expectWireRequest(h.calls[0], {
      method: 'POST',
      path: '/token',
      body: { access_token: TOKEN },
    });
    expectWireRequest(h.calls[1], {
      method: 'POST',
      path: '/token',
      body: { access_token: TOKEN },
      app: GITHUB_APP,
    });
  });
});

describe('scoped tokens', () => {
  const options = { access_token: TOKEN, target: 'octo-org', permissions: { contents: 'read' } };

  it.each(['3.0', '3.22'])('GHES %s, GitHub App: POSTs /token/scoped', async (label) => {
    const h = harness([json(200, authorization({}, GITHUB_APP))]);
    await client(h, label, 'body').scoped(GITHUB_APP, options);
    expectWireRequest(h.calls[0], {
      method: 'POST',
      path: '/token/scoped',
      body: options,
      app: GITHUB_APP,
    });
  });

  it('legacy style on 3.0 – 3.3 still uses the (body-style only) scoped endpoint', async () => {
    const h = harness([json(200, authorization({}, GITHUB_APP))]);
    await client(h, '3.3', 'legacy').scoped(GITHUB_APP, options);
    expectWireRequest(h.calls[0], {
      method: 'POST',
      path: '/token/scoped',
      body: options,
      app: GITHUB_APP,
    });
  });

  it('an OAuth app is refused with unsupported-operation before any fetch', async () => {
    const h = harness([json(200, authorization())]);
    const err = await expectGatewayError(
      client(h, '3.22', 'body').scoped(OAUTH_APP, options),
      'unsupported-operation',
    );
    expect(h.calls).toHaveLength(0);
    expect(err.detail).toContain(OAUTH_APP.name);
    expect(leakIn(JSON.parse(errorText(err)), [TOKEN, OAUTH_APP.clientSecret])).toBeUndefined();
  });

  it.each(['2.20', '2.22'])(
    'GHES %s is refused with unsupported-operation before any fetch',
    async (label) => {
      const h = harness([json(200, authorization())]);
      const err = await expectGatewayError(
        client(h, label, 'body').scoped(GITHUB_APP, options),
        'unsupported-operation',
      );
      expect(h.calls).toHaveLength(0);
      expect(err.detail).toContain(label);
    },
  );
});

describe('OAuth web flow', () => {
  const answer = {
    access_token: 'ghu_16C7e42F292c6912E7710c838347Ae178B4a',
    token_type: 'bearer',
    scope: '',
  };

  it('refresh for an OAuth app is grant-type-unsupported before any request', async () => {
    const h = harness([json(200, answer)]);
    const c = createGhesClient({
      version: version('3.22'),
      style: 'body',
      context: { ...contextOf(h), webUrl: 'https://ghes.example.test' },
    });
    await expectGatewayError(c.refresh(OAUTH_APP, 'ghr_x'), 'grant-type-unsupported');
    expect(h.calls).toHaveLength(0);
  });

  it('refresh and code exchange go to the web host for a GitHub App', async () => {
    const h = harness([json(200, answer), json(200, answer)]);
    const c = createGhesClient({
      version: version('2.22'),
      style: 'body',
      context: { ...contextOf(h), webUrl: 'https://ghes.example.test' },
    });
    await c.refresh(GITHUB_APP, 'ghr_x');
    await c.exchangeCode(OAUTH_APP, { code: 'abc' });
    expect(h.calls.map((x) => x.url)).toEqual([
      'https://ghes.example.test/login/oauth/access_token',
      'https://ghes.example.test/login/oauth/access_token',
    ]);
  });
});
