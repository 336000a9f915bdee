/** The remote caller key set (src/auth/remote-jwks.ts), built through createCallerKeySet. */
import { describe, expect, it } from 'vitest';
import { createCallerKeySet, type CallerKeySetOptions } from '../../src/auth/keys';
import { JWKS_DEFAULTS } from '../../src/auth/remote-jwks';
import { PROBLEM_TYPE_PREFIX } from '../../src/lib/errors';
import type { LogRecord } from '../../src/lib/log';
import { createTestCallerKeys, mintCallerJwt, type TestCallerKeys } from '../helpers/caller';
import { TestClock } from '../helpers/clock';
import { JWKS_URL, T0, challenge, createHarness, minterFor, problemOf } from './harness';

const keys = await createTestCallerKeys('remote-key-1');
const rotated = await createTestCallerKeys('remote-key-2');
const mint = (k: TestCallerKeys, header: Record<string, unknown> = {}) => minterFor(k)({}, header);

/** A JWKS endpoint double: counts fetches, records their init, answers what the test says. */
function jwksServer(initial: () => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  let respond = initial;
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return respond();
  }) as typeof fetch;
  return {
    calls,
    fetch: fetchImpl,
    set(next: () => Response | Promise<Response>) {
      respond = next;
    },
  };
}

const json = (body: unknown) => () =>
  new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });

function remoteHarness(
  server: ReturnType<typeof jwksServer>,
  extra: Omit<CallerKeySetOptions, 'fetch' | 'clock'> = {},
) {
  const logs: LogRecord[] = [];
  // The key set's clock (cache age, cool-down, back-off, fetch timeout); caller tokens are
  // verified on the harness's own fixed clock at T0.
  const clock = new TestClock(T0);
  const keySet = createCallerKeySet(
    { jwks: undefined, jwksUrl: JWKS_URL, algorithms: ['ES256'] },
    { fetch: server.fetch, log: (r) => logs.push(r), clock, ...extra },
  );
  return { h: createHarness({ keySet }), keyLogs: logs, clock };
}

describe('remote key set', () => {
  it('fetches once with GET, manual redirects and a JWKS accept header, then serves from memory', async () => {
    const server = jwksServer(json(keys.jwks));
    const { h } = remoteHarness(server);
    expect((await h.bearer(await mint(keys))).status).toBe(200);
    expect((await h.bearer(await mint(keys, { kid: keys.kid }))).status).toBe(200);
    expect(server.calls).toHaveLength(1);
    const call = server.calls[0];
    expect(call?.url).toBe(JWKS_URL);
    expect(call?.init?.method).toBe('GET');
    expect(call?.init?.redirect).toBe('manual');
    expect(call?.init?.signal).toBeInstanceOf(AbortSignal);
    expect(new Headers(call?.init?.headers).get('accept')).toContain('application/jwk-set+json');
  });

  it('fetches at most once per cool-down under a flood of unknown kids, and picks up rotated keys after it', async () => {
    const server = jwksServer(json(keys.jwks));
    const { h, clock } = remoteHarness(server, { cooldownMs: 30_000 });
    expect((await h.bearer(await mint(keys))).status).toBe(200);
    for (let i = 0; i < 25; i++) {
      const res = await h.bearer(await mint(keys, { kid: `made-up-${i}` }));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenge('no key matches the token'));
    }
    expect(server.calls).toHaveLength(1);

    // The issuer rotates; a token under the new kid is refused until the cool-down has passed.
    server.set(json({ keys: [keys.publicJwk, rotated.publicJwk] }));
    expect((await h.bearer(await mint(rotated))).status).toBe(401);
    expect(server.calls).toHaveLength(1);
    clock.advanceMs(29_999);
    expect((await h.bearer(await mint(rotated))).status).toBe(401);
    expect(server.calls).toHaveLength(1);
    clock.advanceMs(1);
    expect((await h.bearer(await mint(rotated))).status).toBe(200);
    expect(server.calls).toHaveLength(2);
    for (let i = 0; i < 25; i++) await h.bearer(await mint(keys, { kid: `again-${i}` }));
    expect(server.calls).toHaveLength(2);
  });

  /**
   * jose shares one pending fetch between concurrent callers everywhere except on Workers, where a
   * request must not await another request's promise; there the key set's own single-flight keeps
   * a concurrent burst to one fetch. The server holds its answer until every request has asked
   * for a key, so each of them really is concurrent with the fetch.
   */
  async function concurrently(
    h: ReturnType<typeof remoteHarness>['h'],
    tokens: string[],
    release: () => void,
  ): Promise<number[]> {
    const before = h.keyLookups.count;
    const pending = tokens.map((t) => h.bearer(t));
    while (h.keyLookups.count < before + tokens.length) await Promise.resolve();
    release();
    return (await Promise.all(pending)).map((r) => r.status);
  }

  function gatedServer() {
    let open: () => void = () => {};
    let gate = new Promise<void>((r) => {
      open = r;
    });
    const server = jwksServer(async () => {
      await gate;
      return json(keys.jwks)();
    });
    return {
      server,
      release: () => open(),
      close: () => {
        gate = new Promise<void>((r) => {
          open = r;
        });
      },
    };
  }

  it('answers a burst of valid tokens on a cold isolate with one fetch', async () => {
    const { server, release } = gatedServer();
    const { h } = remoteHarness(server);
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => mintCallerJwt(keys, { jti: `j${i}` }, {}, { now: T0 })),
    );
    expect(await concurrently(h, tokens, release)).toEqual(Array(20).fill(200));
    expect(server.calls).toHaveLength(1);
  });

  it('keeps a concurrent flood of unknown kids to one fetch, cold and after each cool-down', async () => {
    const { server, release, close } = gatedServer();
    const { h, clock } = remoteHarness(server, { cooldownMs: 30_000 });
    const flood = await Promise.all(
      Array.from({ length: 25 }, (_, i) => mint(keys, { kid: `x-${i}` })),
    );
    expect(await concurrently(h, flood, release)).toEqual(Array(25).fill(401));
    expect(server.calls).toHaveLength(1);

    // Within the cool-down: no fetch at all.
    expect(await concurrently(h, flood, () => {})).toEqual(Array(25).fill(401));
    expect(server.calls).toHaveLength(1);

    // After it: the whole burst shares one refetch.
    close();
    clock.advanceMs(30_000);
    expect(await concurrently(h, flood, release)).toEqual(Array(25).fill(401));
    expect(server.calls).toHaveLength(2);
  });

  it('fails every request of a burst closed when the shared fetch fails, fetching once', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const server = jwksServer(async () => {
      await gate;
      return new Response('down', { status: 502 });
    });
    const { h, keyLogs } = remoteHarness(server);
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) => mintCallerJwt(keys, { jti: `f${i}` }, {}, { now: T0 })),
    );
    expect(await concurrently(h, tokens, open)).toEqual(Array(10).fill(503));
    expect(server.calls).toHaveLength(1);
    // The leader logs the cause once; followers say they shared it.
    expect(keyLogs.filter((l) => l['event'] === 'caller.jwks_fetch_failed')).toHaveLength(1);
    expect(
      h.logs.map((l) => String(l['reason'])).filter((r) => /SharedAttemptFailed/.test(r)),
    ).toHaveLength(9);
  });

  it('refuses a token whose kid matches several keys of a remote set (401, logged reason)', async () => {
    const server = jwksServer(
      json({ keys: [keys.publicJwk, { ...rotated.publicJwk, kid: keys.kid }] }),
    );
    const { h } = remoteHarness(server);
    const res = await h.bearer(await mint(keys));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('no unique key matches the token'));
    expect(h.logs[0]?.['reason']).toMatch(
      /ambiguous: several keys in the caller JWKS match .*kid "remote-key-1"/,
    );
    expect(h.seen).toEqual([]);
  });

  it.each<[string, () => Response | Promise<Response>, RegExp]>([
    [
      'a network error',
      () => Promise.reject(new TypeError('connection refused')),
      /TypeError: connection refused/,
    ],
    ['HTTP 500', () => new Response('oops', { status: 500 }), /HTTP 500/],
    [
      'a redirect',
      () => new Response(null, { status: 302, headers: { location: 'https://evil.test/jwks' } }),
      /HTTP 302 \(redirects are not followed\)/,
    ],
    ['a body that is not JSON', () => new Response('<html>', { status: 200 }), /SyntaxError/],
    [
      'JSON that is not a key set',
      json({ hello: 'world' }),
      /not a JSON object with a "keys" array/,
    ],
    [
      'an oversized body',
      () =>
        new Response(JSON.stringify({ keys: [], pad: 'x'.repeat(JWKS_DEFAULTS.maxJwksBytes) }), {
          status: 200,
        }),
      /larger than 65536 bytes/,
    ],
  ])('fails closed with 503 on %s', async (_name, respond, logged) => {
    const server = jwksServer(respond);
    const { h, keyLogs } = remoteHarness(server);
    const res = await h.bearer(await mint(keys));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await problemOf(res)).toMatchObject({
      type: PROBLEM_TYPE_PREFIX + 'caller-keys-unavailable',
      code: 'caller-keys-unavailable',
      detail: 'The caller key set is unavailable; try again later.',
    });
    expect(h.seen).toEqual([]);
    expect(keyLogs).toEqual([
      expect.objectContaining({
        level: 'warn',
        event: 'caller.jwks_fetch_failed',
        origin: 'https://idp.test',
      }),
    ]);
    expect(String(keyLogs[0]?.['error'])).toMatch(logged);
    expect(h.logs[0]).toMatchObject({
      event: 'caller.auth_failed',
      code: 'caller-keys-unavailable',
    });
    expect(String(h.logs[0]?.['reason'])).toMatch(/caller JWKS at https:\/\/idp.test unavailable/);
  });

  it('times out a JWKS fetch that never answers, even if the fetch ignores the abort signal', async () => {
    const server = jwksServer(() => new Promise<Response>(() => {}));
    const { h, keyLogs, clock } = remoteHarness(server, { timeoutMs: 50 });
    const pending = h.bearer(await mint(keys));
    while (server.calls.length === 0) await Promise.resolve();
    clock.advanceMs(49);
    expect(keyLogs).toEqual([]);
    clock.advanceMs(1);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(h.logs[0]?.['reason']).toMatch(/ERR_JWKS_TIMEOUT/);
    expect(String(keyLogs[0]?.['error'])).toMatch(/TimeoutError/);
    expect(h.seen).toEqual([]);
  });

  it('backs off after a failure instead of fetching on every request, then recovers', async () => {
    const server = jwksServer(() => new Response('down', { status: 503 }));
    const { h, clock } = remoteHarness(server, { failureBackoffMs: 5000 });
    const token = await mint(keys);
    for (let i = 0; i < 10; i++) expect((await h.bearer(token)).status).toBe(503);
    expect(server.calls).toHaveLength(1);
    server.set(json(keys.jwks));
    clock.ms = T0 + 4999;
    expect((await h.bearer(token)).status).toBe(503);
    expect(server.calls).toHaveLength(1);
    clock.ms = T0 + 5000;
    expect((await h.bearer(token)).status).toBe(200);
    expect(server.calls).toHaveLength(2);
  });

  it('refetches stale keys and fails closed rather than trusting them when the refresh fails', async () => {
    const server = jwksServer(json(keys.jwks));
    const { h, clock } = remoteHarness(server, { cacheMaxAgeMs: 600_000 });
    const token = await mint(keys);
    expect((await h.bearer(token)).status).toBe(200);
    server.set(() => new Response('down', { status: 500 }));
    clock.advanceMs(600_000);
    // A new token (the old one is in the verification cache) so the key set is consulted.
    const res = await h.bearer(await mintCallerJwt(keys, { jti: 'fresh' }, {}, { now: T0 }));
    expect(res.status).toBe(503);
    expect(server.calls).toHaveLength(2);
  });
});
