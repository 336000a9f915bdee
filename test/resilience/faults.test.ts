/**
 * Faults through the whole gateway (buildGateway in front of the GHES emulator), switched on with
 * the emulator's knobs: a GHES that answers after the deadline, 5xx streaks and the circuit
 * breaker, 429 / secondary-limit 403 with `retry-after`, a reset or delete whose answer is lost
 * after GHES committed it, and a KV that throws. Each test states what it expects of every case;
 * the counts feed docs/reliability.md (test/hostile/record.ts).
 *
 * Time: the gateway and the emulator share one virtual clock, `gw.clock` (test/helpers/clock.ts).
 * GHES latency and retry waits move it; per-attempt timeouts and the deadline are its timers; a
 * hang lets it run until the request's own timeout fires. Elapsed times below are exact virtual
 * milliseconds, not wall-clock measurements.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { buildGateway } from '../../src/index';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import {
  CHECK,
  DELETE,
  GH_APP,
  GRANT,
  OAUTH,
  RESET,
  expectProblem,
  forwardAuth,
  introspect,
  route,
} from '../helpers/gateway-requests';
import { StrictKv } from '../helpers/strict-kv';
import { record } from '../hostile/record';
import { executionContext } from '../helpers/execution-context';

async function expectInactive(res: Response): Promise<void> {
  expect({ status: res.status, body: await res.text() }).toEqual({
    status: 200,
    body: '{"active":false}',
  });
}

function token(gw: TestGateway, app = OAUTH, login = 'octocat'): string {
  return gw.emulator.createToken({ app, login }).token;
}

function totalCalls(gw: TestGateway): number {
  return Object.values(gw.emulator.calls()).reduce((a, b) => a + b, 0);
}

/** Whether GHES itself (not the gateway's cache) still accepts the token. */
function liveInGhes(gw: TestGateway, t: string): boolean {
  return gw.emulator.state.tokens.has(t);
}

describe('a slow GHES: answers come within the deadline', () => {
  const SLOW = { GHES_TIMEOUT_MS: '100', GHES_DEADLINE_MS: '300' };
  const TIMEOUT_MS = 100;
  const DEADLINE_MS = 300;

  it('a check whose answer would come after the deadline is a 504 within deadline + margin', async ({
    task,
  }) => {
    const faults = [
      { operation: 'check' as const, latency_ms: 5_000 },
      { operation: 'check' as const, hang: true },
    ];
    record(task, {
      area: 'faults',
      kind: 'slow GHES: latency past the deadline, or no answer at all (check)',
      cases: faults.length,
      expected: `504 upstream-timeout after the ${TIMEOUT_MS} ms attempt timeout`,
    });
    for (const fault of faults) {
      const gw = await createTestGateway({ vars: SLOW });
      gw.emulator.setFaults(fault);
      const started = gw.clock.now();
      const res = await gw.post(CHECK, { access_token: token(gw) });
      const elapsed = gw.clock.now() - started;
      await expectProblem(res, 504, 'upstream-timeout');
      // The per-attempt timer fired, at its time: not earlier, not after GHES's 5 s latency.
      expect(elapsed).toBe(TIMEOUT_MS);
      // A timed-out attempt is not retried: a slow GHES would only get more load.
      expect(gw.emulator.calls().check).toBe(1);
      expect(gw.emulator.hangingRequests()).toBe(0);
    }
  });

  it('introspection and forward auth against a GHES that never answers fail closed (503) within deadline + margin', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'slow GHES: introspection and forward auth',
      cases: 2,
      expected: `503 upstream-unavailable (fail closed) after the ${TIMEOUT_MS} ms attempt timeout`,
    });
    for (const send of [introspect, forwardAuth]) {
      const gw = await createTestGateway({ vars: SLOW });
      gw.emulator.setFaults({ operation: 'check', hang: true });
      const started = gw.clock.now();
      const res = await send(gw, token(gw));
      const elapsed = gw.clock.now() - started;
      const body = await expectProblem(res, 503, 'upstream-unavailable');
      expect(body).toMatchObject({ upstream_code: 'upstream-timeout' });
      expect(elapsed).toBe(TIMEOUT_MS);
      expect(gw.emulator.hangingRequests()).toBe(0);
    }
  });

  it('the overall deadline bounds retries: 503, then a hang → 504 when the deadline is spent', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'slow GHES after a 5xx: retry into a hang (check)',
      cases: 1,
      expected: `504 upstream-timeout within the ${DEADLINE_MS} ms deadline, 2 GHES calls`,
    });
    // GHES takes 80 ms to fail, the back-off waits, and the second attempt hangs: its timeout is
    // what is left of the deadline, not a full attempt timeout past it.
    const gw = await createTestGateway({ vars: { ...SLOW, GHES_TIMEOUT_MS: '250' } });
    gw.emulator.setFaults(
      { operation: 'check', latency_ms: 80, status: 503, times: 1 },
      { operation: 'check', hang: true },
    );
    const started = gw.clock.now();
    const res = await gw.post(CHECK, { access_token: token(gw) });
    const elapsed = gw.clock.now() - started;
    await expectProblem(res, 504, 'upstream-timeout');
    expect(elapsed).toBe(DEADLINE_MS);
    expect(gw.emulator.calls().check).toBe(2);
    // GHES's 80 ms, one jittered back-off (50–150 ms); the rest of the deadline was the hang.
    expect(gw.sleeps).toHaveLength(1);
    expect(gw.sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(gw.sleeps[0]).toBeLessThanOrEqual(150);
    expect(gw.logs.filter((l) => l.event === 'ghes.call_failed').map((l) => l['reason'])).toEqual([
      'server error',
      'timeout',
    ]);
  });

  it('a reset that times out is 502 outcome-unknown within the deadline, never retried, and the old token is treated as revoked', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'slow GHES on a reset (never retried)',
      cases: 1,
      expected: '502 upstream-outcome-unknown within the deadline, 1 GHES call, old token 404',
    });
    const gw = await createTestGateway({ vars: SLOW });
    const old = token(gw);
    expect((await gw.post(CHECK, { access_token: old })).status).toBe(200);
    gw.emulator.setFaults({ operation: 'reset', hang: true });
    const started = gw.clock.now();
    const res = await gw.post(RESET, { access_token: old });
    const elapsed = gw.clock.now() - started;
    await expectProblem(res, 502, 'upstream-outcome-unknown');
    expect(elapsed).toBe(TIMEOUT_MS);
    expect(gw.emulator.calls().reset).toBe(1);
    gw.emulator.clearFaults();
    // Fail closed: the gateway cannot know whether GHES reset it, so it stops vouching for it.
    const after = await gw.post(CHECK, { access_token: old });
    await expectProblem(after, 404, 'token-not-found');
    expect(gw.emulator.calls().check).toBe(1);
  });
});

describe('5xx streaks: the circuit breaker opens, holds GHES off, and recovers through one probe', () => {
  const BREAKER = { BREAKER_THRESHOLD: '3', BREAKER_COOLDOWN_MS: '2000' };

  /** Opens the breaker with one check (3 attempts, all 503) and returns the gateway. */
  async function openBreaker(): Promise<TestGateway> {
    const gw = await createTestGateway({ vars: BREAKER });
    gw.emulator.setFaults({ status: 503 });
    const res = await gw.post(CHECK, { access_token: token(gw) });
    await expectProblem(res, 502, 'upstream-error');
    expect(gw.emulator.calls().check).toBe(3);
    return gw;
  }

  it('while open, every operation answers 503 upstream-unavailable with Retry-After and GHES sees no call', async ({
    task,
  }) => {
    const ops: Array<[string, string, Record<string, unknown>]> = [
      [CHECK, 'check', {}],
      [RESET, 'reset', {}],
      [DELETE, 'delete', {}],
      [GRANT, 'grant', {}],
      [
        route(GH_APP, 'token/scoped'),
        'scoped',
        { target: 'octocat', permissions: { contents: 'read' } },
      ],
    ];
    record(task, {
      area: 'faults',
      kind: '5xx streak opens the breaker: calls while open',
      cases: ops.length + 2,
      expected: '503 upstream-unavailable + Retry-After, 0 GHES calls',
    });
    const gw = await openBreaker();
    const before = totalCalls(gw);
    for (const [path, , extra] of ops) {
      const app = path.includes(GH_APP) ? GH_APP : OAUTH;
      const res = await gw.post(path, { access_token: token(gw, app), ...extra });
      await expectProblem(res, 503, 'upstream-unavailable');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(2);
    }
    for (const send of [introspect, forwardAuth]) {
      const res = await send(gw, token(gw));
      await expectProblem(res, 503, 'upstream-unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(totalCalls(gw)).toBe(before);
  });

  it('after the cool-down one probe goes through; its success closes the breaker', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: '5xx streak opens the breaker: recovery after the cool-down',
      cases: 3,
      expected: 'one probe reaches GHES, then normal answers',
    });
    const gw = await openBreaker();
    gw.emulator.clearFaults();
    gw.clock.advance(2);
    // Two concurrent requests in the half-open state: only one is let through as the probe.
    gw.emulator.setFaults({ operation: 'check', latency_ms: 30, times: 1 });
    const [a, b] = await Promise.all([
      gw.post(CHECK, { access_token: token(gw) }),
      gw.post(CHECK, { access_token: token(gw) }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 503]);
    expect(gw.emulator.calls().check).toBe(4);
    const c = await gw.post(CHECK, { access_token: token(gw) });
    expect(c.status).toBe(200);
    expect(gw.emulator.calls().check).toBe(5);
  });

  it('a failed probe opens the breaker again at once', async ({ task }) => {
    record(task, {
      area: 'faults',
      kind: '5xx streak opens the breaker: failed probe',
      cases: 2,
      expected: 'probe fails → 503 again, 1 GHES call',
    });
    const gw = await openBreaker();
    gw.clock.advance(2);
    const probe = await gw.post(CHECK, { access_token: token(gw) });
    await expectProblem(probe, 503, 'upstream-unavailable');
    expect(gw.emulator.calls().check).toBe(4);
    const next = await gw.post(CHECK, { access_token: token(gw) });
    await expectProblem(next, 503, 'upstream-unavailable');
    expect(gw.emulator.calls().check).toBe(4);
  });

  it('404s and 422s are healthy answers: a run of them never opens the breaker', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'run of 404s (unknown tokens) under a low breaker threshold',
      cases: 6,
      expected: '404 every time, breaker stays closed',
    });
    const gw = await createTestGateway({ vars: BREAKER });
    for (let i = 0; i < 5; i++) {
      const res = await gw.post(CHECK, { access_token: `gho_${'Z'.repeat(35)}${i}` });
      await expectProblem(res, 404, 'token-not-found');
    }
    expect((await gw.post(CHECK, { access_token: token(gw) })).status).toBe(200);
    expect(gw.emulator.calls().check).toBe(6);
  });
});

describe('GHES rate limits: retry-after is honoured', () => {
  it('a check limited with retry-after (429, or a secondary 403) is retried after waiting at least that long', async ({
    task,
  }) => {
    const faults = [
      { operation: 'check' as const, status: 429, retry_after: 2, times: 1 },
      {
        operation: 'check' as const,
        status: 403,
        secondary_rate_limit: true,
        retry_after: 1,
        times: 1,
      },
    ];
    record(task, {
      area: 'faults',
      kind: 'GHES 429 / secondary 403 with retry-after inside the deadline (check)',
      cases: faults.length,
      expected: 'retried after ≥ retry-after, then 200',
    });
    for (const fault of faults) {
      const gw = await createTestGateway();
      gw.emulator.setFaults(fault);
      const t0 = gw.clock.now();
      const res = await gw.post(CHECK, { access_token: token(gw) });
      expect(res.status).toBe(200);
      expect(gw.emulator.calls().check).toBe(2);
      expect(gw.sleeps).toHaveLength(1);
      expect(gw.sleeps[0]).toBeGreaterThanOrEqual(fault.retry_after * 1000);
      expect(gw.clock.now() - t0).toBeGreaterThanOrEqual(fault.retry_after * 1000);
    }
  });

  it('a retry-after beyond the deadline is passed on: 429 with retry-after and x-ratelimit-*, no wait', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'GHES 429 with retry-after past the deadline (check)',
      cases: 1,
      expected: '429 upstream-rate-limited, headers passed through, 1 GHES call',
    });
    const gw = await createTestGateway();
    gw.emulator.setFaults({ operation: 'check', status: 429, retry_after: 30 });
    const res = await gw.post(CHECK, { access_token: token(gw) });
    await expectProblem(res, 429, 'upstream-rate-limited');
    expect(res.headers.get('retry-after')).toBe('30');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(gw.emulator.calls().check).toBe(1);
    expect(gw.sleeps).toEqual([]);
  });

  it('introspection behind a long GHES rate limit fails closed with the retry-after passed on', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'GHES 429 with retry-after past the deadline (introspection)',
      cases: 1,
      expected: '503 upstream-unavailable with retry-after, never active:false',
    });
    const gw = await createTestGateway();
    gw.emulator.setFaults({ operation: 'check', status: 429, retry_after: 30 });
    const res = await introspect(gw, token(gw));
    await expectProblem(res, 503, 'upstream-unavailable');
    expect(res.headers.get('retry-after')).toBe('30');
    expect(gw.emulator.calls().check).toBe(1);
  });

  it('reset and scoped are never retried on a rate limit: 429 with the headers, one GHES call', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'GHES 429 on credential-minting calls (reset, scoped)',
      cases: 2,
      expected: '429 upstream-rate-limited, 1 GHES call each',
    });
    const gw = await createTestGateway();
    gw.emulator.setFaults({ status: 429, retry_after: 1, times: 2 });
    const reset = await gw.post(RESET, { access_token: token(gw) });
    await expectProblem(reset, 429, 'upstream-rate-limited');
    expect(reset.headers.get('retry-after')).toBe('1');
    const scoped = await gw.post(route(GH_APP, 'token/scoped'), {
      access_token: token(gw, GH_APP),
      target: 'octocat',
      permissions: { contents: 'read' },
    });
    await expectProblem(scoped, 429, 'upstream-rate-limited');
    expect(gw.emulator.calls()).toMatchObject({ reset: 1, scoped: 1 });
    expect(gw.sleeps).toEqual([]);
  });
});

describe('answers lost after GHES committed', () => {
  it('a reset whose answer is lost: one upstream reset, 502 outcome-unknown, old token not active', async ({
    task,
  }) => {
    const faults = [
      { operation: 'reset' as const, commit_then_fail: true, status: 502, times: 1 },
      { operation: 'reset' as const, commit_then_fail: true, drop: true, times: 1 },
      { operation: 'reset' as const, commit_then_fail: true, status: 500, times: 1 },
    ];
    record(task, {
      area: 'faults',
      kind: 'reset committed by GHES, answer lost (502 / dropped connection / 500)',
      cases: faults.length,
      expected:
        '502 upstream-outcome-unknown, exactly 1 GHES reset; old token then 404 / inactive / denied',
    });
    for (const fault of faults) {
      const gw = await createTestGateway();
      const old = token(gw);
      // Cached as active first, so a stale cache entry would show.
      expect((await gw.post(CHECK, { access_token: old })).status).toBe(200);
      gw.emulator.setFaults(fault);
      const res = await gw.post(RESET, { access_token: old });
      const body = await expectProblem(res, 502, 'upstream-outcome-unknown');
      expect(JSON.stringify(body)).not.toContain(old);
      expect(gw.emulator.calls().reset).toBe(1);
      expect(liveInGhes(gw, old)).toBe(false);
      const check = await gw.post(CHECK, { access_token: old });
      await expectProblem(check, 404, 'token-not-found');
      // Answered by the gateway's own revocation record, not by asking GHES again.
      expect(gw.emulator.calls().check).toBe(1);
      await expectInactive(await introspect(gw, old));
      const denied = await forwardAuth(gw, old);
      await expectProblem(denied, 401, 'invalid-token');
    }
  });

  it('a scoped-token mint whose answer is lost is 502 outcome-unknown after one GHES call', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'scoped token minted by GHES, answer lost',
      cases: 1,
      expected: '502 upstream-outcome-unknown, exactly 1 GHES call',
    });
    const gw = await createTestGateway();
    gw.emulator.setFaults({ operation: 'scoped', commit_then_fail: true, status: 504, times: 1 });
    const res = await gw.post(route(GH_APP, 'token/scoped'), {
      access_token: token(gw, GH_APP),
      target: 'octocat',
      permissions: { contents: 'read' },
    });
    await expectProblem(res, 502, 'upstream-outcome-unknown');
    expect(gw.emulator.calls().scoped).toBe(1);
  });

  it('a delete or grant delete whose answer is lost is retried; the 404 on retry counts as done → 204', async ({
    task,
  }) => {
    const cases = [
      { path: DELETE, op: 'delete' as const, fault: { status: 502 } },
      { path: DELETE, op: 'delete' as const, fault: { drop: true } },
      { path: GRANT, op: 'grant' as const, fault: { status: 503 } },
      { path: GRANT, op: 'grant' as const, fault: { drop: true } },
    ];
    record(task, {
      area: 'faults',
      kind: 'delete / grant delete committed by GHES, answer lost',
      cases: cases.length,
      expected: '204 after one retry (404 = done), token 404 afterwards',
    });
    for (const c of cases) {
      const gw = await createTestGateway();
      const t = token(gw);
      expect((await gw.post(CHECK, { access_token: t })).status).toBe(200);
      gw.emulator.setFaults({ operation: c.op, commit_then_fail: true, times: 1, ...c.fault });
      const res = await gw.post(c.path, { access_token: t });
      expect({ status: res.status, body: await res.text() }).toEqual({ status: 204, body: '' });
      expect(gw.emulator.calls()[c.op]).toBe(2);
      expect(liveInGhes(gw, t)).toBe(false);
      await expectProblem(await gw.post(CHECK, { access_token: t }), 404, 'token-not-found');
    }
  });

  it('a delete that keeps failing answers 502 and the gateway stops vouching for the token (fail closed)', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'delete against a 5xx streak (outcome unclear)',
      cases: 1,
      expected: '502 upstream-error after 3 attempts, token not reported active afterwards',
    });
    const gw = await createTestGateway();
    const t = token(gw);
    expect((await gw.post(CHECK, { access_token: t })).status).toBe(200);
    gw.emulator.setFaults({ operation: 'delete', status: 500 });
    await expectProblem(await gw.post(DELETE, { access_token: t }), 502, 'upstream-error');
    expect(gw.emulator.calls().delete).toBe(3);
    await expectProblem(await gw.post(CHECK, { access_token: t }), 404, 'token-not-found');
  });
});

describe('KV failures: requests are still answered correctly', () => {
  async function kvGateway(configure: (kv: StrictKv) => void) {
    const kv = new StrictKv(env.TOKEN_CACHE);
    configure(kv);
    const gw = await createTestGateway({ kv: kv.kv });
    return { gw, kv };
  }

  it('every KV read throwing: checks answer 200/404 from GHES, then from L1', async ({ task }) => {
    record(task, {
      area: 'faults',
      kind: 'KV get throws (every read)',
      cases: 8,
      expected: 'correct answers: check 200/404, introspect active/inactive, forward auth 200/401',
    });
    const { gw, kv } = await kvGateway((k) => {
      k.failGets = true;
    });
    const good = token(gw);
    const bogus = `gho_${'Q'.repeat(36)}`;
    expect((await gw.post(CHECK, { access_token: good })).status).toBe(200);
    await expectProblem(await gw.post(CHECK, { access_token: bogus }), 404, 'token-not-found');
    const again = await gw.post(CHECK, { access_token: good });
    expect(again.status).toBe(200);
    expect(again.headers.get('cache-status')).toMatch(/detail=l1/);
    await expectProblem(await gw.post(CHECK, { access_token: bogus }), 404, 'token-not-found');
    const active = await introspect(gw, good);
    expect(active.status).toBe(200);
    expect(await active.json()).toMatchObject({ active: true, token_type: 'bearer' });
    await expectInactive(await introspect(gw, bogus));
    expect((await forwardAuth(gw, good)).status).toBe(200);
    await expectProblem(await forwardAuth(gw, bogus), 401, 'invalid-token');
    expect(kv.gets.length).toBeGreaterThan(0);
    expect(gw.logs.some((l) => l.level === 'error' && l.event === 'request')).toBe(false);
  });

  it('every KV write throwing (500, then 429): checks and revocations still answer correctly', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'KV put throws (500 on every write; 429 rate limit)',
      cases: 7,
      expected: 'correct answers; a revoked token is 404 at once in this isolate',
    });
    const { gw } = await kvGateway((k) => {
      k.failPuts = true;
    });
    const t = token(gw);
    expect((await gw.post(CHECK, { access_token: t })).status).toBe(200);
    expect((await gw.post(DELETE, { access_token: t })).status).toBe(204);
    await expectProblem(await gw.post(CHECK, { access_token: t }), 404, 'token-not-found');
    await expectInactive(await introspect(gw, t));
    expect(gw.logs.some((l) => l.event === 'cache.invalidation_not_replicated')).toBe(true);

    const limited = await kvGateway((k) => {
      k.rateLimitNextPuts = 3;
    });
    const u = token(limited.gw);
    expect((await limited.gw.post(CHECK, { access_token: u })).status).toBe(200);
    const reset = await limited.gw.post(RESET, { access_token: u });
    expect(reset.status).toBe(200);
    const fresh = ((await reset.json()) as { token: string }).token;
    await expectProblem(await limited.gw.post(CHECK, { access_token: u }), 404, 'token-not-found');
    expect((await limited.gw.post(CHECK, { access_token: fresh })).status).toBe(200);
  });

  it('a second isolate whose KV reads fail treats them as misses and asks GHES, never serving a stale positive', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'KV get throws in a second isolate (token revoked in GHES meanwhile)',
      cases: 1,
      expected: '404 from GHES, never the 200 the first isolate stored',
    });
    const shared = new StrictKv(env.TOKEN_CACHE);
    const first = await createTestGateway({ kv: shared.kv });
    const t = token(first);
    expect((await first.post(CHECK, { access_token: t })).status).toBe(200);
    await first.settle(); // the KV write runs under waitUntil
    expect(shared.puts.length).toBeGreaterThan(0);
    first.emulator.revokeToken(t);
    shared.failGets = true;
    // Another isolate: same env (KV, pepper, secrets) and the same GHES, its own empty L1.
    const second = buildGateway(first.vars as Parameters<typeof buildGateway>[0], {
      fetch: first.emulator.fetch,
      clock: first.clock,
      log: () => undefined,
    });
    if (!second.ok) throw new Error(second.error.join('; '));
    const res = await second.value(
      new Request(`https://gateway.test${CHECK}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await first.caller()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ access_token: t }),
      }),
      first.vars as Parameters<typeof buildGateway>[0],
      executionContext(),
    );
    await expectProblem(res, 404, 'token-not-found');
    expect(first.emulator.calls().check).toBe(2);
  });
});
