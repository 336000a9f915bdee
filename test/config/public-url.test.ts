/**
 * The issuer never follows the Host header. PUBLIC_URL (src/config/) is the only source of the
 * RFC 8414 metadata's URLs, the RFC 9701 signed answers' `iss` and the OpenAPI server: it is
 * required outside LOCAL_DEV and whenever INTROSPECTION_SIGNING_KEYS is set, and a request to
 * any other origin (what a forged Host header produces on Workers) changes nothing.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { LOCAL_DEV_PUBLIC_URL } from '../../src/config/types';
import { buildGateway } from '../../src/index';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { createSigningJwk, signingVars } from '../introspection/keys';
import { executionContext } from '../helpers/execution-context';

const ctx = executionContext();

type Env = Parameters<typeof buildGateway>[0];

/** `gw`'s gateway, sent a request for any absolute URL (the helper only sends to its own). */
function fetchAt(gw: TestGateway, vars: Record<string, unknown>, url: string, init?: RequestInit) {
  const built = buildGateway(vars as Env, {
    fetch: gw.emulator.fetch,
    clock: gw.clock,
    log: () => undefined,
  });
  if (!built.ok) throw new Error(built.error.join('; '));
  return built.value(new Request(url, init), vars as Env, ctx);
}

function configErrors(vars: Record<string, unknown>): string[] {
  const result = parseConfig(vars);
  return result.ok ? [] : result.error;
}

const FORGED = ['https://evil.example', 'http://127.0.0.1:9', 'https://gateway.test.evil.example'];

describe('PUBLIC_URL is required', () => {
  it('outside LOCAL_DEV, with a message that says why', async () => {
    const gw = await createTestGateway();
    for (const value of [undefined, ''])
      expect(configErrors({ ...gw.vars, PUBLIC_URL: value })).toEqual([
        expect.stringMatching(/^PUBLIC_URL: must be set .*never follow the Host header/),
      ]);
    for (const localDev of ['false', '', undefined])
      expect(configErrors({ ...gw.vars, PUBLIC_URL: undefined, LOCAL_DEV: localDev })).toHaveLength(
        1,
      );
  });

  it('whenever signing keys are set, even under LOCAL_DEV', async () => {
    const gw = await createTestGateway();
    const keys = signingVars([await createSigningJwk('sig-1')])['INTROSPECTION_SIGNING_KEYS'];
    expect(
      configErrors({
        ...gw.vars,
        PUBLIC_URL: '',
        LOCAL_DEV: 'true',
        INTROSPECTION_SIGNING_KEYS: keys,
      }),
    ).toEqual([
      "PUBLIC_URL: must be set when INTROSPECTION_SIGNING_KEYS is (the signed answers' issuer)",
    ]);
    expect(
      configErrors({ ...gw.vars, LOCAL_DEV: 'true', INTROSPECTION_SIGNING_KEYS: keys }),
    ).toEqual([]);
  });

  it('LOCAL_DEV without signing keys defaults to the wrangler dev address, not to the request', async () => {
    const gw = await createTestGateway();
    const vars = { ...gw.vars, PUBLIC_URL: '', LOCAL_DEV: 'true' };
    const result = parseConfig(vars);
    expect(result.ok && result.value.publicUrl).toBe(LOCAL_DEV_PUBLIC_URL);
    const res = await fetchAt(
      gw,
      vars,
      'http://localhost:9999/.well-known/oauth-authorization-server',
    );
    expect(((await res.json()) as { issuer: string }).issuer).toBe('http://127.0.0.1:8787');
  });

  it('LOCAL_DEV may be a TOML boolean', async () => {
    const gw = await createTestGateway();
    expect(configErrors({ ...gw.vars, PUBLIC_URL: undefined, LOCAL_DEV: true })).toEqual([]);
    expect(configErrors({ ...gw.vars, PUBLIC_URL: undefined, LOCAL_DEV: false })).toHaveLength(1);
  });

  it.each(['yes', 'TRUE', '1', 'on'])(
    'LOCAL_DEV = %j is refused (only "true" or "false")',
    async (v) => {
      const gw = await createTestGateway();
      expect(configErrors({ ...gw.vars, LOCAL_DEV: v })).toEqual([
        expect.stringMatching(/^LOCAL_DEV: /),
      ]);
    },
  );

  it.each([
    ['a query', 'https://gateway.example.com/?x=1'],
    ['an empty query', 'https://gateway.example.com/?'],
    ['a fragment', 'https://gateway.example.com/#top'],
  ])('PUBLIC_URL with %s is refused (it is the issuer, RFC 8414 §2)', async (_why, url) => {
    const gw = await createTestGateway();
    expect(configErrors({ ...gw.vars, PUBLIC_URL: url })).toEqual([
      'PUBLIC_URL: must have no query or fragment (it is the issuer)',
    ]);
  });
});

describe('a request to another origin (a forged Host) changes no published URL', () => {
  const PUBLIC = 'https://tokens.example.com';

  it.each(FORGED)('metadata and OpenAPI server asked at %s', async (origin) => {
    const gw = await createTestGateway({ vars: { PUBLIC_URL: `${PUBLIC}/` } });
    // Asked at the forged origin first: a cached first answer must not stick either.
    for (const at of [origin, PUBLIC]) {
      const meta = await fetchAt(gw, gw.vars, `${at}/.well-known/oauth-authorization-server`);
      expect(meta.status).toBe(200);
      const text = await meta.text();
      expect(JSON.parse(text)).toMatchObject({
        issuer: PUBLIC,
        introspection_endpoint: `${PUBLIC}/introspect`,
        jwks_uri: `${PUBLIC}/.well-known/jwks.json`,
      });
      expect(text).not.toContain(new URL(origin).host);
      const doc = (await (await fetchAt(gw, gw.vars, `${at}/openapi.json`)).json()) as {
        servers: { url: string }[];
      };
      expect(doc.servers).toEqual([{ url: PUBLIC }]);
    }
  });

  it.each(FORGED)(
    'a signed introspection answer asked at %s names PUBLIC_URL as iss',
    async (origin) => {
      const gw = await createTestGateway({
        vars: signingVars([await createSigningJwk('sig-1')], PUBLIC),
      });
      const res = await fetchAt(gw, gw.vars, `${origin}/introspect`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await gw.caller()}`,
          accept: 'application/token-introspection+jwt',
          'content-type': 'application/x-www-form-urlencoded',
          host: new URL(origin).host,
        },
        body: 'token=gho_notavalidtoken',
      });
      expect(res.status).toBe(200);
      expect(decodeJwt(await res.text()).iss).toBe(PUBLIC);
    },
  );
});
