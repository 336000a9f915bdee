/**
 * Interoperability: oauth4webapi, an OAuth client library nobody here wrote, discovers the
 * gateway and introspects through it, JSON and RFC 9701 signed answers alike.
 *
 * oauth4webapi authenticates clients with a `ClientAuth` function; the gateway wants the caller
 * JWT as a bearer token (RFC 7662 §2.1 allows that), so the client auth used here sets
 * `Authorization: Bearer <caller JWT>` and adds nothing to the body. docs/gateways.md shows the
 * same.
 */
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { DEMO_OAUTH_CLIENT_ID } from '../../emulator/index';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { createSigningJwk, signingVars } from '../introspection/keys';

const ISSUER = new URL('https://gateway.test');

function seedToken(gw: TestGateway): string {
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('the test gateway runs the demo seed');
  return seed.tokens.octocatOauth;
}

/** What oauth4webapi hands its customFetch: a GET without body or a form POST. */
interface FetchOptions {
  method: string;
  headers: Record<string, string>;
  body?: URLSearchParams | undefined;
  redirect: 'manual';
  signal?: AbortSignal | undefined;
}

/** Routes oauth4webapi's requests into the gateway instead of the network. */
function viaGateway(gw: TestGateway) {
  const fetcher = (url: string, init: FetchOptions): Promise<Response> => {
    const target = new URL(url);
    expect(target.origin).toBe(ISSUER.origin);
    return gw.request(target.pathname + target.search, {
      method: init.method,
      headers: init.headers,
      body: init.body ?? null,
      redirect: init.redirect,
      ...(init.signal !== undefined && { signal: init.signal }),
    });
  };
  return { [oauth.customFetch]: fetcher };
}

/** Bearer client authentication with a caller JWT: the clean fit for oauth4webapi's ClientAuth. */
function callerBearer(callerJwt: string): oauth.ClientAuth {
  return (_as, _client, _body, headers) => {
    headers.set('authorization', `Bearer ${callerJwt}`);
  };
}

async function discover(gw: TestGateway): Promise<oauth.AuthorizationServer> {
  const response = await oauth.discoveryRequest(ISSUER, { algorithm: 'oauth2', ...viaGateway(gw) });
  return oauth.processDiscoveryResponse(ISSUER, response);
}

describe('oauth4webapi against the gateway', () => {
  it('discovers the introspection endpoint through RFC 8414 metadata', async () => {
    const gw = await createTestGateway({ vars: signingVars([await createSigningJwk('k1')]) });

    const as = await discover(gw);

    expect(as.issuer).toBe('https://gateway.test');
    expect(as.introspection_endpoint).toBe('https://gateway.test/introspect');
    expect(as.introspection_signing_alg_values_supported).toStrictEqual(['ES256']);
  });

  it('introspects an active token and an inactive one (JSON answers)', async () => {
    const gw = await createTestGateway();
    const as = await discover(gw);
    const client: oauth.Client = { client_id: 'svc-demo' };
    const auth = callerBearer(await gw.caller('svc-demo'));

    const active = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, seedToken(gw), viaGateway(gw)),
    );
    expect(active).toMatchObject({
      active: true,
      client_id: DEMO_OAUTH_CLIENT_ID,
      username: 'octocat',
      sub: '1',
      scope: 'repo read:org',
      token_type: 'bearer',
    });

    const inactive = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, 'gho_' + 'q'.repeat(36), viaGateway(gw)),
    );
    expect(inactive).toStrictEqual({ active: false });
  });

  it('accepts a signed JWT answer and verifies its signature with the published jwks_uri', async () => {
    const gw = await createTestGateway({ vars: signingVars([await createSigningJwk('k1')]) });
    const as = await discover(gw);
    // RFC 9701: the answer's `aud` is the caller, which oauth4webapi checks against client_id.
    const client: oauth.Client = { client_id: 'svc-demo' };

    const response = await oauth.introspectionRequest(
      as,
      client,
      callerBearer(await gw.caller('svc-demo')),
      seedToken(gw),
      { ...viaGateway(gw), requestJwtResponse: true },
    );
    expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt');
    const result = await oauth.processIntrospectionResponse(as, client, response);
    await oauth.validateApplicationLevelSignature(as, response, viaGateway(gw));

    expect(result).toMatchObject({ active: true, username: 'octocat', sub: '1' });
  });

  it('refuses a signed answer meant for another caller', async () => {
    const gw = await createTestGateway({ vars: signingVars([await createSigningJwk('k1')]) });
    const as = await discover(gw);

    const response = await oauth.introspectionRequest(
      as,
      { client_id: 'svc-readonly' },
      callerBearer(await gw.caller('svc-readonly')),
      seedToken(gw),
      { ...viaGateway(gw), requestJwtResponse: true },
    );

    await expect(
      oauth.processIntrospectionResponse(as, { client_id: 'svc-demo' }, response),
    ).rejects.toMatchObject({ code: oauth.JWT_CLAIM_COMPARISON });
  });

  it('surfaces a 503 as an error, never as an answer', async () => {
    const gw = await createTestGateway();
    const as = await discover(gw);
    gw.emulator.setFaults({ status: 503, operation: 'check' });
    const client: oauth.Client = { client_id: 'svc-demo' };

    const response = await oauth.introspectionRequest(
      as,
      client,
      callerBearer(await gw.caller()),
      seedToken(gw),
      viaGateway(gw),
    );

    expect(response.status).toBe(503);
    await expect(oauth.processIntrospectionResponse(as, client, response)).rejects.toThrow();
  });
});
