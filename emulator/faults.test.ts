import { beforeEach, describe, expect, it } from 'vitest';
import { TestClock, until } from '../test/helpers/clock';
import { createGhesEmulator, type GhesEmulator } from './index';
import { admin, call, credentials, FIXED_NOW, GHES_ORIGIN, jsonOf } from './test-client';

let ghes: GhesEmulator;
let clock: TestClock;
let waits: number[];
let tokens: NonNullable<GhesEmulator['seed']>['tokens'];

beforeEach(() => {
  // Latency is observed on the virtual clock's sleeps instead of measured with real timers.
  clock = new TestClock(FIXED_NOW);
  waits = clock.sleeps;
  ghes = createGhesEmulator({ now: clock.now, sleep: clock.sleep });
  if (!ghes.seed) throw new Error('demo seed missing');
  tokens = ghes.seed.tokens;
});

const check = (token = tokens.octocatOauth) => call(ghes, 'check', 'demo-oauth', { token });

describe('latency', () => {
  it('delays every API request until changed; a later unlimited latency replaces it', async () => {
    ghes.addFault({ latency_ms: 3000 });
    expect((await check()).status).toBe(200);
    await check();
    ghes.addFault({ latency_ms: 50 });
    await check();
    ghes.addFault({ latency_ms: 0 });
    await check();
    expect(waits).toEqual([3000, 3000, 50, 0]);
    expect(ghes.faults()).toHaveLength(1);
  });

  it('can be narrowed to an operation and limited in uses; latencies of several faults add up', async () => {
    ghes.setFaults({ latency_ms: 100 }, { latency_ms: 700, operation: 'reset', times: 1 });
    await check();
    await call(ghes, 'reset', 'demo-oauth', { token: tokens.monalisaOauth });
    await check();
    expect(waits).toEqual([100, 800, 100]);
  });

  it('is served before a status fault of the same request', async () => {
    ghes.setFaults({ latency_ms: 250, status: 503, times: 1 });
    expect((await check()).status).toBe(503);
    expect((await check()).status).toBe(200);
    expect(waits).toEqual([250, 0]);
  });

  it('the configured latencyMs is an unlimited fault that reset() restores', async () => {
    ghes = createGhesEmulator({ latencyMs: 40, now: clock.now, sleep: clock.sleep });
    await call(ghes, 'check', 'demo-oauth', { token: ghes.seed?.tokens.octocatOauth ?? '' });
    ghes.clearFaults();
    await call(ghes, 'check', 'demo-oauth', { token: ghes.seed?.tokens.octocatOauth ?? '' });
    ghes.reset();
    await call(ghes, 'check', 'demo-oauth', { token: ghes.seed?.tokens.octocatOauth ?? '' });
    expect(waits).toEqual([40, 0, 40]);
  });

  it('ends early when the request is aborted, and the abort reaches the emulator', async () => {
    let seen: AbortSignal | undefined;
    ghes = createGhesEmulator({
      latencyMs: 60_000,
      now: clock.now,
      sleep: (_ms, signal) =>
        new Promise((_, reject) => {
          seen = signal;
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    });
    const controller = new AbortController();
    const pending = call(ghes, 'check', 'demo-oauth', {
      token: ghes.seed?.tokens.octocatOauth ?? '',
      signal: controller.signal,
    });
    await until(() => seen !== undefined);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(seen?.aborted).toBe(true);
  });
});

describe('status faults', () => {
  it('503 for `times` requests as the front-end proxy HTML page, then normal answers', async () => {
    ghes.addFault({ status: 503, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await check();
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('text/html');
      expect(res.headers.has('x-github-enterprise-version')).toBe(false);
      expect(await res.text()).toContain('<title>503 Service Unavailable</title>');
    }
    expect((await check()).status).toBe(200);
    expect(ghes.faults()).toEqual([]);
    expect(ghes.calls().check).toBe(3);
  });

  it('500 is a JSON "Server Error" from GHES itself', async () => {
    ghes.addFault({ status: 500, times: 1 });
    const res = await check();
    expect(res.status).toBe(500);
    expect(res.headers.get('x-github-enterprise-version')).toBe('3.22.0');
    expect((await jsonOf(res))['message']).toBe('Server Error');
  });

  it('429 is a primary rate limit: retry-after, x-ratelimit-remaining 0 and reset at the end of the wait', async () => {
    ghes.addFault({ status: 429, retry_after: 2, times: 1 });
    const res = await check();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset')).toBe(String(FIXED_NOW / 1000 + 2));
    expect((await jsonOf(res))['message']).toBe('API rate limit exceeded.');
  });

  it('403 with secondary_rate_limit is GitHub secondary-limit answer with retry-after', async () => {
    ghes.addFault({ status: 403, secondary_rate_limit: true, retry_after: 1 });
    const res = await check();
    expect(res.status).toBe(403);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('x-ratelimit-remaining')).not.toBe('0');
    const body = await jsonOf(res);
    expect(body['message']).toMatch(/^You have exceeded a secondary rate limit\./);
    expect(body['message']).toContain(res.headers.get('x-github-request-id') ?? 'missing');
    expect(body['documentation_url']).toMatch(/#about-secondary-rate-limits$/);
  });

  it('403 with primary_rate_limit zeroes x-ratelimit-remaining', async () => {
    ghes.addFault({ status: 403, primary_rate_limit: true });
    const res = await check();
    expect(res.status).toBe(403);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('narrowed to one operation leaves the others alone', async () => {
    ghes.addFault({ status: 503, operation: 'reset' });
    expect((await check()).status).toBe(200);
    expect((await call(ghes, 'reset', 'demo-oauth', { token: tokens.octocatOauth })).status).toBe(
      503,
    );
    expect((await check()).status).toBe(200);
  });

  it('applies before client authentication (an outage hides everything) and to unknown routes when not narrowed', async () => {
    ghes.setFaults({ status: 502 });
    expect(
      (await call(ghes, 'check', 'demo-oauth', { token: tokens.octocatOauth, authorization: null }))
        .status,
    ).toBe(502);
    expect((await ghes.fetch(`${GHES_ORIGIN}/api/v3/meta`)).status).toBe(502);
    ghes.setFaults({ status: 502, operation: 'check' });
    expect((await ghes.fetch(`${GHES_ORIGIN}/api/v3/meta`)).status).toBe(404);
  });

  it('never applies to the admin API', async () => {
    ghes.addFault({ status: 503 });
    expect((await admin(ghes, 'GET', 'calls')).status).toBe(200);
  });
});

describe('hang', () => {
  it('never answers, but ends with the abort reason when the request signal fires', async () => {
    ghes.addFault({ hang: true, times: 1 });
    const controller = new AbortController();
    const pending = call(ghes, 'check', 'demo-oauth', {
      token: tokens.octocatOauth,
      signal: controller.signal,
    });
    await until(() => ghes.hangingRequests() === 1);
    controller.abort(new DOMException('timed out', 'TimeoutError'));
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(ghes.hangingRequests()).toBe(0);
    expect((await check()).status).toBe(200);
  });

  it('lets time pass until a timeout signal fires, like a real fetch would', async () => {
    ghes.addFault({ hang: true, operation: 'scoped' });
    const res = call(ghes, 'scoped', 'demo-github-app', {
      token: tokens.octocatGithubApp,
      extra: { target: 'octocat' },
      signal: clock.timeout(20),
    });
    await expect(res).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(clock.now()).toBe(FIXED_NOW + 20);
    expect(ghes.hangingRequests()).toBe(0);
  });

  it('releaseHangs() ends hanging requests as network errors', async () => {
    ghes.addFault({ hang: true });
    const pending = check();
    await until(() => ghes.hangingRequests() === 1);
    expect(ghes.releaseHangs()).toBe(1);
    await expect(pending).rejects.toThrow(TypeError);
  });
});

describe('drop', () => {
  it('is a network error (TypeError) for the caller, counted like any request', async () => {
    ghes.addFault({ drop: true, times: 1 });
    await expect(check()).rejects.toThrow(new TypeError('Network connection lost.'));
    expect((await check()).status).toBe(200);
    expect(ghes.calls().check).toBe(2);
  });
});

describe('commit_then_fail', () => {
  function recordById(id: number) {
    return [...ghes.state.tokens.values()].find((r) => r.id === id);
  }

  it('reset commits the new token, then answers 502: the old token is dead, the new one works', async () => {
    const before = await jsonOf(await check());
    ghes.addFault({ commit_then_fail: true, operation: 'reset', times: 1 });
    const res = await call(ghes, 'reset', 'demo-oauth', { token: tokens.octocatOauth });
    expect(res.status).toBe(502);
    expect((await check()).status).toBe(404);
    const rotated = recordById(before['id'] as number);
    expect(rotated?.token).toMatch(/^gho_/);
    expect(rotated?.token).not.toBe(tokens.octocatOauth);
    expect((await check(rotated?.token)).status).toBe(200);
  });

  it('with drop, delete commits and then the connection is lost', async () => {
    ghes.addFault({ commit_then_fail: true, drop: true, operation: 'delete' });
    await expect(
      call(ghes, 'delete', 'demo-oauth', { token: tokens.octocatOauth }),
    ).rejects.toThrow(TypeError);
    expect((await check()).status).toBe(404);
  });

  it('with a status and retry_after, grant deletion commits then answers that status', async () => {
    ghes.addFault({ commit_then_fail: true, status: 504, retry_after: 3, operation: 'grant' });
    const res = await call(ghes, 'grant', 'demo-oauth', { token: tokens.octocatOauth });
    expect(res.status).toBe(504);
    expect(res.headers.get('retry-after')).toBe('3');
    expect((await check()).status).toBe(404);
  });

  it('scoped creates the token, then fails', async () => {
    const before = ghes.state.tokens.size;
    ghes.addFault({ commit_then_fail: true, operation: 'scoped', status: 500 });
    const res = await call(ghes, 'scoped', 'demo-github-app', {
      token: tokens.octocatGithubApp,
      extra: { target: 'octocat' },
    });
    expect(res.status).toBe(500);
    expect(ghes.state.tokens.size).toBe(before + 1);
  });

  it('a refused request commits nothing and still fails', async () => {
    ghes.addFault({ commit_then_fail: true, operation: 'reset' });
    const res = await call(ghes, 'reset', 'demo-oauth', {
      token: 'gho_unknownunknownunknownunknownunknown',
    });
    expect(res.status).toBe(502);
    expect((await check()).status).toBe(200);
  });
});

describe('raw bodies', () => {
  const HOSTILE = ['null', '[]', '{}', '"x"', '{"app":{}}', '{"id": 1, "scopes": "repo"', '42'];

  it.each(HOSTILE)('answers status 200 with the raw body %s, exactly as given', async (body) => {
    ghes.addFault({ status: 200, body, operation: 'check', times: 1 });
    const res = await check();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.text()).toBe(body);
    // Used up: the next check is GHES's own answer again.
    expect(await jsonOf(await check())).toMatchObject({ token: tokens.octocatOauth });
  });

  it('sends the content_type given, and any status with it', async () => {
    const page = '<html><body>Sign in to continue</body></html>';
    ghes.setFaults(
      { status: 200, body: page, content_type: 'text/html', times: 1 },
      { status: 418, body: '', content_type: 'text/plain', times: 1 },
    );
    const first = await check();
    expect([first.status, first.headers.get('content-type'), await first.text()]).toEqual([
      200,
      'text/html',
      page,
    ]);
    const second = await check();
    expect([second.status, await second.text()]).toEqual([418, '']);
  });

  it('commit_then_fail with a 2xx body: the reset happens, the answer is the body given', async () => {
    const before = await jsonOf(await check());
    ghes.addFault({
      commit_then_fail: true,
      status: 200,
      body: '<html>Bad gateway</html>',
      content_type: 'text/html',
      operation: 'reset',
    });
    const res = await call(ghes, 'reset', 'demo-oauth', { token: tokens.octocatOauth });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<html>Bad gateway</html>');
    // Committed: the old token is dead, a new one lives under the same authorization.
    expect((await check()).status).toBe(404);
    const rotated = [...ghes.state.tokens.values()].find((r) => r.id === before['id']);
    expect(rotated?.token).not.toBe(tokens.octocatOauth);
  });

  it('commit_then_fail with a body on a delete commits, then answers the body', async () => {
    ghes.addFault({ commit_then_fail: true, status: 200, body: '{}', operation: 'delete' });
    const res = await call(ghes, 'delete', 'demo-oauth', { token: tokens.octocatOauth });
    expect([res.status, await res.text()]).toEqual([200, '{}']);
    expect((await check()).status).toBe(404);
  });

  it('the admin API takes the same knob', async () => {
    const res = await admin(ghes, 'POST', 'faults', {
      status: 200,
      body: '<html></html>',
      content_type: 'text/html',
      operation: 'check',
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ status: 200, body: '<html></html>' });
    const answer = await check();
    expect([answer.headers.get('content-type'), await answer.text()]).toEqual([
      'text/html',
      '<html></html>',
    ]);
  });
});

describe('generated bodies (body_bytes)', () => {
  const HUGE = 400 * 1024 * 1024;

  it('stream only as far as the reader pulls: cancelling stops the stream, nothing else is made', async () => {
    ghes.addFault({ status: 200, body_bytes: HUGE, operation: 'check' });
    const res = await check();
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value?.subarray(0, 12))).toBe('{"filler":"x');
    await reader.cancel();
    const [stream] = ghes.bodyStreams();
    expect(stream?.size).toBe(HUGE);
    expect(stream?.cancelled).toBe(true);
    // A few chunks at most, not 400 MB.
    expect(stream?.sent).toBeLessThanOrEqual(4 * 64 * 1024);
  });

  it('a small generated body is served whole and counted', async () => {
    ghes.addFault({ status: 200, body_bytes: 100_000, operation: 'check', times: 1 });
    const res = await check();
    expect((await res.arrayBuffer()).byteLength).toBe(100_000);
    expect(ghes.bodyStreams()).toEqual([{ size: 100_000, sent: 100_000, cancelled: false }]);
    ghes.reset();
    expect(ghes.bodyStreams()).toEqual([]);
  });

  it('commit_then_fail with body_bytes: the delete happens, the answer is huge', async () => {
    ghes.addFault({ commit_then_fail: true, status: 200, body_bytes: HUGE, operation: 'delete' });
    const res = await call(ghes, 'delete', 'demo-oauth', { token: tokens.octocatOauth });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    expect((await check()).status).toBe(404);
    expect(ghes.bodyStreams()[0]?.cancelled).toBe(true);
  });
});

describe('redirect faults and fetch redirect modes', () => {
  function redirectTo(origin: string): void {
    const { clientId } = credentials(ghes, 'demo-oauth');
    ghes.addFault({
      status: 307,
      location: `${origin}/api/v3/applications/${clientId}/token`,
      operation: 'check',
      times: 1,
    });
  }

  it('redirect: "manual" returns the 3xx untouched', async () => {
    redirectTo('https://elsewhere.example');
    const res = await call(ghes, 'check', 'demo-oauth', {
      token: tokens.octocatOauth,
      redirect: 'manual',
    });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toMatch(
      /^https:\/\/elsewhere\.example\/api\/v3\/applications\//,
    );
  });

  it('redirect: "error" rejects', async () => {
    redirectTo(GHES_ORIGIN);
    await expect(
      call(ghes, 'check', 'demo-oauth', { token: tokens.octocatOauth, redirect: 'error' }),
    ).rejects.toThrow(TypeError);
  });

  it('redirect: "follow" keeps credentials on the same origin and drops them across origins', async () => {
    redirectTo(GHES_ORIGIN);
    expect((await check()).status).toBe(200);
    redirectTo('https://elsewhere.example');
    expect((await check()).status).toBe(404);
    expect(ghes.calls().check).toBe(4);
  });
});

describe('admin API for faults', () => {
  it('POST adds (object or array), GET lists, DELETE clears', async () => {
    const one = await admin(ghes, 'POST', 'faults', { status: 503, times: 5 });
    expect(one.status).toBe(201);
    expect(await one.json()).toMatchObject({ status: 503, times: 5, remaining: 5 });
    const many = await admin(ghes, 'POST', 'faults', [
      { latency_ms: 10 },
      { hang: true, operation: 'scoped' },
    ]);
    expect(await many.json()).toHaveLength(2);
    expect(await (await admin(ghes, 'GET', 'faults')).json()).toHaveLength(3);
    expect((await check()).status).toBe(503);
    expect(
      ((await (await admin(ghes, 'GET', 'faults')).json()) as Array<{ remaining?: number }>)[0]
        ?.remaining,
    ).toBe(4);
    expect((await admin(ghes, 'DELETE', 'faults')).status).toBe(204);
    expect(ghes.faults()).toEqual([]);
    expect((await check()).status).toBe(200);
  });

  it('refuses malformed faults with 400 and a reason, adding none', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /needs latency_ms, status, hang, drop or commit_then_fail/],
      [{ status: 200 }, /a 2xx status needs body or body_bytes/],
      [{ status: 199, body: 'x' }, /status must be an integer in 200\.\.599/],
      [{ status: 200, body: 42 }, /body must be a string/],
      [{ status: 200, body: 'x'.repeat(1_000_001) }, /body must be a string of at most/],
      [{ body: '{}', latency_ms: 5 }, /body needs a status/],
      [{ status: 200, body: '{}', body_bytes: 10 }, /body and body_bytes exclude each other/],
      [{ status: 200, body_bytes: 0 }, /body_bytes must be an integer/],
      [{ status: 503, content_type: 'text/html' }, /content_type needs body or body_bytes/],
      [{ status: 200, body: 'x', content_type: 'text/html\r\nx: y' }, /content_type must be/],
      [{ status: 429, body: 'x', primary_rate_limit: true }, /rate-limit faults bring their own/],
      [{ status: 302, body: 'x', location: 'https://x.example/' }, /a 3xx fault has no body/],
      [{ drop: true, body: 'x', commit_then_fail: true }, /body cannot be combined/],
      [{ hang: true, body: 'x' }, /body cannot be combined with hang or drop/],
      [{ commit_then_fail: true, status: 200 }, /a 2xx status needs body or body_bytes/],
      [
        { commit_then_fail: true, status: 307, location: 'https://x.example/' },
        /commit_then_fail needs a 2xx, 4xx or 5xx status/,
      ],
      [{ status: 503, operation: 'introspect' }, /operation must be one of/],
      [{ status: 503, times: 0 }, /times must be/],
      [{ latency_ms: -1 }, /latency_ms must be/],
      [{ hang: true, status: 503 }, /hang cannot be combined/],
      [{ drop: true, status: 503 }, /drop and status exclude each other/],
      [{ status: 302 }, /location is required/],
      [{ status: 503, location: 'https://x.example/' }, /location is required/],
      [{ status: 503, secondary_rate_limit: true }, /rate-limit faults use status 403 or 429/],
      [{ latency_ms: 5, retry_after: 2 }, /retry_after needs a status/],
      [{ drop: true, commit_then_fail: true, retry_after: 2 }, /retry_after needs a status/],
      [{ status: 503, colour: 'red' }, /unknown fault field\(s\): colour/],
      [{ hang: 'yes' }, /hang must be a boolean/],
      ['[{"status":503},{"status":1}]', /status must be/],
      ['not json', /body must be JSON/],
    ];
    for (const [body, message] of bad) {
      const res = await admin(ghes, 'POST', 'faults', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect(ghes.faults()).toEqual([]);
  });

  it('setFaults validates every fault before replacing', () => {
    ghes.addFault({ status: 503 });
    expect(() => ghes.setFaults({ status: 502 }, { status: 42 })).toThrow(/invalid fault/);
    expect(ghes.faults()).toMatchObject([{ status: 503 }]);
  });
});
