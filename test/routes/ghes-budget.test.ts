/**
 * Issue 9 part 4: end users cannot exhaust an API gateway's budget. Only a token check that is
 * about to call GHES is charged (per caller, and per end-user client address); cache hits,
 * missing or malformed tokens and tokens no app could have issued cost nothing and call nothing.
 * Limiters are fakes that count per key, injected as the gateway's bindings.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { newLegacyToken, newToken } from '../../emulator/tokens';

/** A limiter that allows `limit` calls per key and records every key it was asked about. */
function countingLimiter(limit = Number.POSITIVE_INFINITY) {
  const counts = new Map<string, number>();
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    limit: async ({ key }: { key: string }) => {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { success: n <= limit };
    },
  };
}

async function budgetGateway(
  opts: { callerLimit?: number; clientLimit?: number; vars?: Record<string, unknown> } = {},
) {
  const callerLimiter = countingLimiter(opts.callerLimit);
  const clientLimiter = countingLimiter(opts.clientLimit);
  const gw = await createTestGateway({
    vars: {
      INTROSPECTION_RATE_LIMITER: callerLimiter,
      CLIENT_RATE_LIMITER: clientLimiter,
      ...opts.vars,
    },
  });
  const jwt = await gw.caller('svc-demo');
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('the test gateway runs the demo seed');
  return { gw, jwt, callerLimiter, clientLimiter, tokens: seed.tokens };
}

type Route = 'forward-auth' | 'introspect' | 'check';

/** One token check through `route`, from end-user client `client` (the proxy's X-Forwarded-For). */
async function ask(
  gw: TestGateway,
  jwt: string,
  route: Route,
  token: string | undefined,
  client?: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...extra };
  if (client !== undefined) headers['x-forwarded-for'] = client;
  if (route === 'forward-auth') {
    headers['x-gateway-authorization'] = `Bearer ${jwt}`;
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    return gw.request('/forward-auth', { headers });
  }
  headers['authorization'] = `Bearer ${jwt}`;
  if (route === 'introspect') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return gw.request('/introspect', {
      method: 'POST',
      headers,
      body: new URLSearchParams({ token: token ?? '' }).toString(),
    });
  }
  headers['content-type'] = 'application/json';
  return gw.request('/v1/apps/demo-oauth/token/check', {
    method: 'POST',
    headers,
    body: JSON.stringify({ access_token: token }),
  });
}

/** Is `res` the route's "not active" answer (not a 429, not a failure)? */
async function inactive(route: Route, res: Response): Promise<boolean> {
  if (route === 'forward-auth') return res.status === 401;
  if (route === 'check') return res.status === 404;
  return res.status === 200 && ((await res.json()) as { active: boolean }).active === false;
}

async function active(route: Route, res: Response): Promise<boolean> {
  if (route === 'introspect')
    return res.status === 200 && ((await res.json()) as { active: boolean }).active === true;
  return res.status === 200;
}

/** Values no OAuth app can have issued: garbage, wrong lengths, wrong alphabets, other token types. */
function garbageTokens(n: number): string[] {
  const good = newToken('gho_');
  const fixed = [
    'x',
    'garbage-token',
    'gho_',
    good.slice(0, -1),
    `${good}A`,
    `gho_${'-'.repeat(36)}`,
    good.replace('gho_', 'GHO_'),
    good.replace('gho_', 'ghu_'), // a GitHub-App token: never an OAuth app's
    good.replace('gho_', 'ghp_'), // a classic PAT
    good.replace('gho_', 'ghs_'),
    `github_pat_${'A'.repeat(82)}`,
    newLegacyToken().toUpperCase(),
    newLegacyToken().slice(1),
    `v1.${newLegacyToken()}`,
    'a'.repeat(255),
  ];
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    out.push(i < fixed.length ? (fixed[i] as string) : `junk${i}_${crypto.randomUUID()}`);
  }
  return out;
}

describe('garbage tokens cost the caller nothing and never reach GHES', () => {
  it('300 forward-auth and 100 introspection requests with garbage leave the budget untouched', async () => {
    const { gw, jwt, callerLimiter, clientLimiter, tokens } = await budgetGateway({
      callerLimit: 1,
      clientLimit: 1,
    });
    const garbage = garbageTokens(300);
    for (const [i, token] of garbage.entries()) {
      const res = await ask(gw, jwt, 'forward-auth', token, `203.0.113.${i % 200}`);
      expect(res.status, token).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('invalid-token');
    }
    for (const token of garbage.slice(0, 100)) {
      const res = await ask(gw, jwt, 'introspect', token, '203.0.113.7');
      expect(await res.json()).toEqual({ active: false });
    }
    expect(gw.outbound).toEqual([]);
    expect(callerLimiter.total()).toBe(0);
    expect(clientLimiter.total()).toBe(0);

    // The caller's whole budget (1) is still there for a real token.
    const res = await ask(gw, jwt, 'forward-auth', tokens.octocatOauth, '203.0.113.7');
    expect(res.status).toBe(200);
    expect(callerLimiter.counts).toEqual(new Map([['introspection:svc-demo', 1]]));
    expect(clientLimiter.counts).toEqual(new Map([['client:svc-demo:203.0.113.7', 1]]));
  });

  it.each<Route>(['forward-auth', 'introspect', 'check'])(
    '%s: a token in no app format is inactive with no GHES call and no charge',
    async (route) => {
      const { gw, jwt, callerLimiter, clientLimiter } = await budgetGateway();
      for (const token of garbageTokens(15)) {
        const res = await ask(gw, jwt, route, token, '198.51.100.1');
        // /v1 check refuses non-ASCII and over-long bodies by schema (422); everything else is
        // the route's ordinary "not active" answer.
        if (res.status === 422) continue;
        expect(await inactive(route, res), `${route} ${token}`).toBe(true);
      }
      expect(gw.emulator.calls().check).toBe(0);
      expect(gw.outbound).toEqual([]);
      expect(callerLimiter.total()).toBe(0);
      expect(clientLimiter.total()).toBe(0);
    },
  );

  it('forward auth without a token or with a malformed header costs nothing', async () => {
    const { gw, jwt, callerLimiter, clientLimiter } = await budgetGateway();
    const sends = [
      () => ask(gw, jwt, 'forward-auth', undefined, '198.51.100.1'),
      () =>
        gw.request('/forward-auth', {
          headers: { 'x-gateway-authorization': `Bearer ${jwt}`, authorization: 'Basic abc' },
        }),
      () =>
        gw.request('/forward-auth', {
          headers: { 'x-gateway-authorization': `Bearer ${jwt}`, authorization: 'Bearer' },
        }),
    ];
    for (const send of sends) expect((await send()).status).toBe(401);
    expect(callerLimiter.total()).toBe(0);
    expect(clientLimiter.total()).toBe(0);
    expect(gw.outbound).toEqual([]);
  });

  it('a GitHub-App user token is checkable by a GitHub App, not by an OAuth app', async () => {
    const { gw, jwt, tokens } = await budgetGateway();
    const asOauth = await ask(gw, jwt, 'forward-auth', tokens.octocatGithubApp);
    expect(asOauth.status).toBe(401);
    expect(gw.emulator.calls().check).toBe(0);
    const asApp = await gw.request('/forward-auth?app=demo-github-app', {
      headers: {
        'x-gateway-authorization': `Bearer ${jwt}`,
        authorization: `Bearer ${tokens.octocatGithubApp}`,
      },
    });
    expect(asApp.status).toBe(200);
    expect(gw.emulator.calls().check).toBe(1);
  });
});

describe('cache hits cost nothing', () => {
  it.each<Route>(['forward-auth', 'introspect', 'check'])(
    '%s: only the first check of a token (the GHES call) is charged; L1 hits are free',
    async (route) => {
      const { gw, jwt, callerLimiter, clientLimiter, tokens } = await budgetGateway({
        callerLimit: 1,
        clientLimit: 1,
      });
      for (let i = 0; i < 20; i++) {
        expect(
          await active(route, await ask(gw, jwt, route, tokens.octocatOauth, '192.0.2.1')),
        ).toBe(true);
      }
      expect(gw.emulator.calls().check).toBe(1);
      expect(callerLimiter.total()).toBe(1);
      expect(clientLimiter.total()).toBe(1);
    },
  );

  it('a KV hit (L1 off) is free too', async () => {
    const { gw, jwt, callerLimiter, tokens } = await budgetGateway({
      vars: { CACHE_L1_MAX_ENTRIES: '0' },
    });
    expect((await ask(gw, jwt, 'forward-auth', tokens.octocatOauth, '192.0.2.1')).status).toBe(200);
    await gw.settle();
    for (let i = 0; i < 5; i++) {
      const res = await ask(gw, jwt, 'forward-auth', tokens.octocatOauth, '192.0.2.1');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-status')).toMatch(/hit; ttl=\d+; detail=kv/);
    }
    expect(gw.emulator.calls().check).toBe(1);
    expect(callerLimiter.total()).toBe(1);
  });
});

describe('one client spraying well-formed tokens is refused; other clients and cached tokens are not', () => {
  it.each<Route>(['forward-auth', 'introspect', 'check'])('%s', async (route) => {
    const LIMIT = 20;
    const { gw, jwt, callerLimiter, clientLimiter, tokens } = await budgetGateway({
      clientLimit: LIMIT,
    });
    // The attacker's own valid token, cached before the spray.
    expect(
      await active(route, await ask(gw, jwt, route, tokens.monalisaOauth, '203.0.113.66')),
    ).toBe(true);
    let refused: Response | undefined;
    let answered = 1;
    for (let i = 0; i < 3 * LIMIT && refused === undefined; i++) {
      const res = await ask(gw, jwt, route, newToken('gho_'), '203.0.113.66');
      if (res.status === 429) refused = res;
      else {
        expect(await inactive(route, res)).toBe(true);
        answered++;
      }
    }
    expect(answered).toBe(LIMIT);
    expect(refused?.status).toBe(429);
    expect(refused?.headers.get('retry-after')).toBe('60');
    const problem = (await refused?.json()) as { code: string; detail: string };
    expect(problem.code).toBe('rate-limited');
    expect(problem.detail).toBe(
      'Too many token checks that need GHES from this client; retry after 60 seconds.',
    );
    // Every answered miss was one GHES call; the refused one made none.
    expect(gw.emulator.calls().check).toBe(LIMIT);
    // A refusal for the client does not spend the caller's budget.
    expect(callerLimiter.counts.get('introspection:svc-demo')).toBe(LIMIT);

    // The same client keeps its cached token; garbage is still a plain "inactive".
    expect(
      await active(route, await ask(gw, jwt, route, tokens.monalisaOauth, '203.0.113.66')),
    ).toBe(true);
    expect(await inactive(route, await ask(gw, jwt, route, 'nonsense', '203.0.113.66'))).toBe(true);
    expect((await ask(gw, jwt, route, newToken('gho_'), '203.0.113.66')).status).toBe(429);
    // Another client of the same caller still gets answers from GHES.
    expect(
      await active(route, await ask(gw, jwt, route, tokens.octocatOauth, '203.0.113.67')),
    ).toBe(true);
    expect(await inactive(route, await ask(gw, jwt, route, newToken('gho_'), '203.0.113.67'))).toBe(
      true,
    );
    expect(clientLimiter.counts.get('client:svc-demo:203.0.113.67')).toBe(2);
  });

  it('keys the client by the hop the proxy appended, not by what the client wrote before it', async () => {
    const { gw, jwt, clientLimiter } = await budgetGateway({ clientLimit: 2 });
    const spoofed = (i: number) => `10.0.0.${i}, 203.0.113.66`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await ask(gw, jwt, 'forward-auth', newToken('gho_'), spoofed(i))).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect([...clientLimiter.counts.keys()]).toEqual(['client:svc-demo:203.0.113.66']);
  });

  it('skips the hop Cloudflare appends for the proxy itself (CF-Connecting-IP)', async () => {
    const { gw, jwt, clientLimiter } = await budgetGateway();
    await ask(gw, jwt, 'forward-auth', newToken('gho_'), '203.0.113.66, 198.51.100.10', {
      'cf-connecting-ip': '198.51.100.10',
    });
    expect([...clientLimiter.counts.keys()]).toEqual(['client:svc-demo:203.0.113.66']);
  });

  it('keys IPv6 clients by their /64', async () => {
    const { gw, jwt, clientLimiter } = await budgetGateway({ clientLimit: 1 });
    expect((await ask(gw, jwt, 'forward-auth', newToken('gho_'), '2001:db8:1:2::1')).status).toBe(
      401,
    );
    expect(
      (await ask(gw, jwt, 'forward-auth', newToken('gho_'), '2001:db8:1:2:ffff::9')).status,
    ).toBe(429);
    expect((await ask(gw, jwt, 'forward-auth', newToken('gho_'), '2001:db8:1:3::1')).status).toBe(
      401,
    );
    expect([...clientLimiter.counts.keys()].sort()).toEqual([
      'client:svc-demo:2001:db8:1:2::/64',
      'client:svc-demo:2001:db8:1:3::/64',
    ]);
  });

  it('without a client address only the caller is limited', async () => {
    const { gw, jwt, callerLimiter, clientLimiter } = await budgetGateway({ clientLimit: 0 });
    expect(await inactive('check', await ask(gw, jwt, 'check', newToken('gho_')))).toBe(true);
    expect(clientLimiter.total()).toBe(0);
    expect(callerLimiter.total()).toBe(1);
  });

  it('reads the configured header (X-Real-IP) instead of X-Forwarded-For', async () => {
    const { gw, jwt, clientLimiter } = await budgetGateway({
      vars: { CLIENT_ADDRESS_HEADER: 'X-Real-IP' },
    });
    await ask(gw, jwt, 'forward-auth', newToken('gho_'), '10.9.9.9', { 'x-real-ip': '192.0.2.44' });
    expect([...clientLimiter.counts.keys()]).toEqual(['client:svc-demo:192.0.2.44']);
  });

  it('the 429 of forward auth is never cached by the proxy and logs no token', async () => {
    const { gw, jwt } = await budgetGateway({ clientLimit: 0 });
    const token = newToken('gho_');
    const res = await ask(gw, jwt, 'forward-auth', token, '203.0.113.66');
    expect(res.status).toBe(429);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const logged = JSON.stringify(gw.logs);
    expect(logged).not.toContain(token);
    expect(logged).toContain('"error_code":"rate-limited"');
    expect(gw.outbound).toEqual([]);
  });
});

describe("the caller's own budget", () => {
  it('over it, GHES-bound checks get 429 while cached tokens and garbage still get answers', async () => {
    const { gw, jwt, tokens } = await budgetGateway({ callerLimit: 1 });
    expect((await ask(gw, jwt, 'forward-auth', tokens.octocatOauth, '192.0.2.1')).status).toBe(200);
    const refused = await ask(gw, jwt, 'introspect', tokens.monalisaOauth, '192.0.2.2');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      'Too many token checks that need GHES from this caller; retry after 60 seconds.',
    );
    expect((await ask(gw, jwt, 'forward-auth', tokens.octocatOauth, '192.0.2.3')).status).toBe(200);
    expect((await ask(gw, jwt, 'forward-auth', 'garbage', '192.0.2.3')).status).toBe(401);
    expect(gw.emulator.calls().check).toBe(1);
  });

  it('is off, with a warning, when the bindings are not configured', async () => {
    const { gw, jwt, tokens } = await budgetGateway({
      vars: { INTROSPECTION_RATE_LIMITER: undefined, CLIENT_RATE_LIMITER: undefined },
    });
    expect((await ask(gw, jwt, 'forward-auth', tokens.octocatOauth, '192.0.2.1')).status).toBe(200);
    expect(gw.logs.filter((l) => l['event'] === 'rate_limit.disabled')).toHaveLength(2);
  });

  it('mutations keep their own per-request budget; grant delete does not charge the check budget', async () => {
    const mutation = countingLimiter();
    const { gw, callerLimiter, clientLimiter, tokens } = await budgetGateway({
      vars: { MUTATION_RATE_LIMITER: mutation },
    });
    const res = await gw.post('/v1/apps/demo-oauth/grant/delete', {
      access_token: tokens.octocatOauth,
    });
    expect(res.status).toBe(204);
    const del = await gw.post('/v1/apps/demo-oauth/token/delete', { access_token: 'garbage' });
    expect(del.status).toBe(404);
    expect(mutation.counts.get('mutation:svc-demo')).toBe(2);
    expect(callerLimiter.total()).toBe(0);
    expect(clientLimiter.total()).toBe(0);
  });
});

describe('releases before 3.2 issue 40-hex tokens', () => {
  it.each(['2.21', '3.1'])(
    'GHES %s: emulator-minted 40-hex tokens pass and are checked',
    async (version) => {
      const gw = await createTestGateway({ version });
      const seed = gw.emulator.seed;
      if (seed === null) throw new Error('seeded');
      expect(seed.tokens.octocatOauth).toMatch(/^[0-9a-f]{40}$/);
      expect(seed.tokens.octocatGithubApp).toMatch(/^[0-9a-f]{40}$/);
      const res = await gw.request('/forward-auth', {
        headers: {
          'x-gateway-authorization': `Bearer ${await gw.caller()}`,
          authorization: `Bearer ${seed.tokens.octocatOauth}`,
        },
      });
      expect(res.status).toBe(200);
      expect(gw.emulator.calls().check).toBe(1);
    },
  );
});
