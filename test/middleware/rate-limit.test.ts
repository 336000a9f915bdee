/**
 * callerRateLimit: the real Workers rate-limiting bindings that miniflare builds from
 * wrangler.toml, a fake limiter for exact denial behaviour, and the fail-open paths.
 */
import { env } from 'cloudflare:test';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Caller, CallerAuthVariables } from '../../src/auth/caller';
import { callerAuth } from '../../src/auth/caller-auth';
import { createCallerKeySet } from '../../src/auth/keys';
import type { CallerPolicyEntry } from '../../src/config/types';
import {
  ConfigurationError,
  isGatewayError,
  PROBLEM_TYPE_PREFIX,
  problemResponse,
  type Problem,
} from '../../src/lib/errors';
import type { LogRecord } from '../../src/lib/log';
import {
  callerRateLimit,
  ghesCheckBudget,
  type CallerRateLimitOptions,
  type GhesCheckBudgetOptions,
  type RateLimitBucket,
} from '../../src/middleware/rate-limit';
import {
  TEST_CALLER_AUDIENCE,
  TEST_CALLER_ISSUER,
  createTestCallerKeys,
  mintCallerJwt,
  type TestCallerKeys,
} from '../helpers/caller';

const bindings = env as unknown as Record<string, unknown>;
const POLICY: CallerPolicyEntry = { apps: ['*'], operations: ['introspect', 'reset'] };

/** A caller sub no other test (or earlier run in this isolate) has counted against. */
const freshSub = (label: string) => `svc-${label}-${crypto.randomUUID()}`;

function callerFor(sub: string): Caller {
  return {
    source: 'jwt',
    sub,
    policy: POLICY,
    claims: { iss: TEST_CALLER_ISSUER, aud: TEST_CALLER_AUDIENCE, exp: 2_000_000_000 },
  };
}

/** A fake binding that answers what the test says and records every key it was asked about. */
function fakeLimiter(answer: (key: string) => unknown | Promise<unknown>) {
  const keys: string[] = [];
  return {
    keys,
    limiter: {
      limit: async ({ key }: { key: string }) => {
        keys.push(key);
        return answer(key);
      },
    },
  };
}

/**
 * An app where a stub sets the caller from `x-test-sub` (as callerAuth would), the rate limit
 * runs, and the handler counts what reached it.
 */
function limitedApp(
  options: Omit<CallerRateLimitOptions, 'log'>,
  appEnv: Record<string, unknown>,
  { authenticate = true } = {},
) {
  const logs: LogRecord[] = [];
  const handled: string[] = [];
  const app = new Hono<{ Variables: CallerAuthVariables }>();
  if (authenticate)
    app.use('*', async (c, next) => {
      const sub = c.req.header('x-test-sub');
      if (sub !== undefined) c.set('caller', callerFor(sub));
      await next();
    });
  app.use('*', callerRateLimit({ ...options, log: (r) => logs.push(r) }));
  app.get('/op', (c) => {
    handled.push(c.get('caller').sub);
    return c.text('ok');
  });
  app.onError((err) => {
    if (isGatewayError(err)) return problemResponse(err);
    throw err;
  });
  const call = (sub: string) =>
    Promise.resolve(app.request('/op', { headers: { 'x-test-sub': sub } }, appEnv));
  return { app, logs, handled, call };
}

const MUTATION = { limiter: 'MUTATION_RATE_LIMITER', bucket: 'mutation', periodS: 60 } as const;
const INTROSPECTION = {
  limiter: 'INTROSPECTION_RATE_LIMITER',
  bucket: 'introspection',
  periodS: 60,
} as const;

describe('the rate-limiting bindings from wrangler.toml (miniflare)', () => {
  it('are provided to tests as rate limiters', () => {
    for (const name of ['INTROSPECTION_RATE_LIMITER', 'MUTATION_RATE_LIMITER']) {
      expect(typeof (bindings[name] as { limit?: unknown }).limit).toBe('function');
    }
  });

  it('let requests under the limit through to the handler', async () => {
    const { call, handled, logs } = limitedApp(INTROSPECTION, bindings);
    const sub = freshSub('reader');
    for (let i = 0; i < 20; i++) expect((await call(sub)).status).toBe(200);
    expect(handled).toHaveLength(20);
    expect(logs).toEqual([]);
  });

  it('deny a caller over the mutation limit (60 per 60 s) with 429 and Retry-After', async () => {
    const { call, handled } = limitedApp(MUTATION, bindings);
    const sub = freshSub('writer');
    // The binding counts in real time; if its window turns over during the loop, up to 2 × 60 - 1
    // requests pass before the first denial. Never fewer than 60: that is the configured limit.
    let allowed = 0;
    let denied: Response | undefined;
    for (let i = 0; i < 121 && denied === undefined; i++) {
      const res = await call(sub);
      if (res.status === 200) allowed += 1;
      else denied = res;
    }
    expect(denied?.status).toBe(429);
    expect(allowed).toBeGreaterThanOrEqual(60);
    expect(allowed).toBeLessThan(120);
    expect(handled).toHaveLength(allowed);
    expect(denied?.headers.get('retry-after')).toBe('60');
    expect((await denied?.json()) as Problem).toMatchObject({
      type: PROBLEM_TYPE_PREFIX + 'rate-limited',
      code: 'rate-limited',
      status: 429,
      detail: 'Too many mutation requests from this caller; retry after 60 seconds.',
    });
  });

  it('count each caller and each bucket separately', async () => {
    const mutation = limitedApp(MUTATION, bindings);
    const introspection = limitedApp(INTROSPECTION, bindings);
    const busy = freshSub('busy');
    const quiet = freshSub('quiet');
    let denied = false;
    for (let i = 0; i < 121 && !denied; i++) denied = (await mutation.call(busy)).status === 429;
    expect(denied).toBe(true);
    expect((await mutation.call(quiet)).status).toBe(200);
    expect((await introspection.call(busy)).status).toBe(200);
  });
});

describe('callerRateLimit with a fake limiter', () => {
  it('asks the binding with key "<bucket>:<sub>" and passes allowed requests on', async () => {
    const fake = fakeLimiter(() => ({ success: true }));
    const { call, handled } = limitedApp(INTROSPECTION, {
      INTROSPECTION_RATE_LIMITER: fake.limiter,
    });
    expect((await call('svc-a')).status).toBe(200);
    expect((await call('svc-b')).status).toBe(200);
    expect(fake.keys).toEqual(['introspection:svc-a', 'introspection:svc-b']);
    expect(handled).toEqual(['svc-a', 'svc-b']);
  });

  it.each<[RateLimitBucket, 10 | 60]>([
    ['mutation', 10],
    ['introspection', 60],
  ])('denies %s with 429, Retry-After %i, and never runs the handler', async (bucket, periodS) => {
    const fake = fakeLimiter(() => ({ success: false }));
    const { call, handled, logs } = limitedApp(
      { limiter: 'LIMITER', bucket, periodS },
      { LIMITER: fake.limiter },
    );
    const res = await call('svc-noisy');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(String(periodS));
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toEqual({
      type: PROBLEM_TYPE_PREFIX + 'rate-limited',
      code: 'rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `Too many ${bucket} requests from this caller; retry after ${periodS} seconds.`,
    });
    expect(handled).toEqual([]);
    expect(fake.keys).toEqual([`${bucket}:svc-noisy`]);
    expect(logs).toEqual([]);
  });

  it('names the caller and the binding in the logged reason of a denial', async () => {
    const fake = fakeLimiter(() => ({ success: false }));
    const app = new Hono<{ Variables: CallerAuthVariables }>();
    let reason: string | undefined;
    app.use('*', async (c, next) => {
      c.set('caller', callerFor('svc-noisy'));
      await next();
    });
    app.use('*', callerRateLimit({ ...MUTATION, log: () => {} }));
    app.get('/op', (c) => c.text('ok'));
    app.onError((err) => {
      if (!isGatewayError(err)) throw err;
      reason = err.reason;
      return problemResponse(err);
    });
    await app.request('/op', {}, { MUTATION_RATE_LIMITER: fake.limiter });
    expect(reason).toBe('caller "svc-noisy" over the mutation rate limit (MUTATION_RATE_LIMITER)');
  });
});

describe('callerRateLimit failure handling', () => {
  it('is off, with one warning, when the binding is not configured', async () => {
    const { call, handled, logs } = limitedApp(MUTATION, {});
    for (let i = 0; i < 3; i++) expect((await call('svc-a')).status).toBe(200);
    expect(handled).toHaveLength(3);
    expect(logs).toEqual([
      {
        level: 'warn',
        event: 'rate_limit.disabled',
        bucket: 'mutation',
        binding: 'MUTATION_RATE_LIMITER',
        reason: 'binding not configured; this limit is off',
      },
    ]);
  });

  it('is off, with one error log, when the name holds something that is not a rate limiter', async () => {
    const { call, handled, logs } = limitedApp(MUTATION, { MUTATION_RATE_LIMITER: '60' });
    expect((await call('svc-a')).status).toBe(200);
    expect((await call('svc-a')).status).toBe(200);
    expect(handled).toHaveLength(2);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'error', event: 'rate_limit.misconfigured' }),
    ]);
  });

  it('fails open, logging each failure, when the binding throws', async () => {
    const fake = fakeLimiter(() => {
      throw new Error('rate limiter unavailable');
    });
    const { call, handled, logs } = limitedApp(MUTATION, { MUTATION_RATE_LIMITER: fake.limiter });
    expect((await call('svc-a')).status).toBe(200);
    expect((await call('svc-b')).status).toBe(200);
    expect(handled).toEqual(['svc-a', 'svc-b']);
    expect(logs).toEqual([
      {
        level: 'error',
        event: 'rate_limit.error',
        bucket: 'mutation',
        binding: 'MUTATION_RATE_LIMITER',
        caller: 'svc-a',
        error: 'Error: rate limiter unavailable',
      },
      expect.objectContaining({ event: 'rate_limit.error', caller: 'svc-b' }),
    ]);
  });

  it.each<[string, unknown]>([
    ['no outcome', undefined],
    ['an outcome without success', {}],
    ['a non-boolean success', { success: 'false' }],
  ])('fails open with a log on %s', async (_name, outcome) => {
    const fake = fakeLimiter(() => outcome);
    const { call, handled, logs } = limitedApp(MUTATION, { MUTATION_RATE_LIMITER: fake.limiter });
    expect((await call('svc-a')).status).toBe(200);
    expect(handled).toEqual(['svc-a']);
    expect(logs).toEqual([
      expect.objectContaining({
        event: 'rate_limit.error',
        error: 'TypeError: limit() answered no boolean "success"',
      }),
    ]);
  });

  it('fails closed (500) when mounted before caller authentication', async () => {
    const fake = fakeLimiter(() => ({ success: true }));
    const { app, handled } = limitedApp(
      MUTATION,
      { MUTATION_RATE_LIMITER: fake.limiter },
      { authenticate: false },
    );
    const res = await app.request('/op', {}, { MUTATION_RATE_LIMITER: fake.limiter });
    expect(res.status).toBe(500);
    expect(((await res.json()) as Problem).code).toBe('internal');
    expect(handled).toEqual([]);
    expect(fake.keys).toEqual([]);
  });

  it.each<[string, Partial<CallerRateLimitOptions> | Record<string, unknown>, RegExp]>([
    ['a lower-case binding name', { limiter: 'mutation' }, /"limiter" must name a binding/],
    ['an unknown bucket', { bucket: 'check' }, /"bucket" must be one of introspection, mutation/],
    ['no logger', { log: undefined }, /"log" must be a Logger/],
  ])('refuses to build with %s', (_name, patch, message) => {
    const options = { ...MUTATION, log: () => {}, ...patch } as CallerRateLimitOptions;
    expect(() => callerRateLimit(options)).toThrow(message);
    expect(() => callerRateLimit(options)).toThrow(ConfigurationError);
  });
});

describe('callerRateLimit behind callerAuth', () => {
  let keys: TestCallerKeys;
  beforeAll(async () => {
    keys = await createTestCallerKeys('k1');
  });

  function gatewayLike(limiter: unknown) {
    const app = new Hono<{ Variables: CallerAuthVariables }>();
    app.use(
      '*',
      callerAuth({
        issuer: TEST_CALLER_ISSUER,
        audience: TEST_CALLER_AUDIENCE,
        algorithms: ['ES256'],
        keySet: createCallerKeySet({ jwks: keys.jwks, jwksUrl: undefined, algorithms: ['ES256'] }),
        clockToleranceS: 30,
        maxTokenAgeS: 0,
        policy: { 'svc-demo': POLICY },
        log: () => {},
        now: () => Date.UTC(2026, 0, 15),
      }),
    );
    app.use('*', callerRateLimit({ ...MUTATION, log: () => {} }));
    app.post('/op', (c) => c.text(c.get('caller').sub));
    app.onError((err) => {
      if (isGatewayError(err)) return problemResponse(err);
      throw err;
    });
    return (headers: Record<string, string>) =>
      Promise.resolve(
        app.request('/op', { method: 'POST', headers }, { MUTATION_RATE_LIMITER: limiter }),
      );
  }

  it('limits by the authenticated sub, and never counts unauthenticated requests', async () => {
    const fake = fakeLimiter(() => ({ success: true }));
    const send = gatewayLike(fake.limiter);
    expect((await send({})).status).toBe(401);
    expect((await send({ authorization: 'Bearer not.a.jwt' })).status).toBe(401);
    expect(fake.keys).toEqual([]);
    const token = await mintCallerJwt(
      keys,
      { sub: 'svc-demo' },
      {},
      { now: Date.UTC(2026, 0, 15) },
    );
    expect((await send({ authorization: `Bearer ${token}` })).status).toBe(200);
    expect(fake.keys).toEqual(['mutation:svc-demo']);
  });
});

describe('ghesCheckBudget (the beforeGhes hook of token checks)', () => {
  const OPTIONS: GhesCheckBudgetOptions = {
    caller: { limiter: 'INTROSPECTION_RATE_LIMITER', periodS: 60 },
    client: { limiter: 'CLIENT_RATE_LIMITER', periodS: 10, header: 'X-Forwarded-For' },
    log: () => {},
  };

  /** An app whose handler runs the hook `charges` times, as a cache loader would. */
  function hookApp(appEnv: Record<string, unknown>, logs: LogRecord[] = [], withCaller = true) {
    const budget = ghesCheckBudget({ ...OPTIONS, log: (r) => logs.push(r) });
    const app = new Hono<{ Variables: CallerAuthVariables }>();
    if (withCaller)
      app.use('*', async (c, next) => {
        c.set('caller', callerFor('svc-gw'));
        await next();
      });
    app.get('/op', async (c) => {
      const charge = budget(c);
      await charge();
      return c.text('ok');
    });
    app.onError((err) => {
      if (isGatewayError(err)) return problemResponse(err);
      throw err;
    });
    return (headers: Record<string, string> = {}) =>
      Promise.resolve(app.request('/op', { headers }, appEnv));
  }

  it('asks the client bucket first, then the caller bucket', async () => {
    const caller = fakeLimiter(() => ({ success: true }));
    const client = fakeLimiter(() => ({ success: true }));
    const send = hookApp({
      INTROSPECTION_RATE_LIMITER: caller.limiter,
      CLIENT_RATE_LIMITER: client.limiter,
    });
    expect((await send({ 'x-forwarded-for': '192.0.2.1' })).status).toBe(200);
    expect(client.keys).toEqual(['client:svc-gw:192.0.2.1']);
    expect(caller.keys).toEqual(['introspection:svc-gw']);
  });

  it('a client over its limit is refused with its own Retry-After, sparing the caller budget', async () => {
    const caller = fakeLimiter(() => ({ success: true }));
    const client = fakeLimiter(() => ({ success: false }));
    const send = hookApp({
      INTROSPECTION_RATE_LIMITER: caller.limiter,
      CLIENT_RATE_LIMITER: client.limiter,
    });
    const res = await send({ 'x-forwarded-for': '192.0.2.1' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(caller.keys).toEqual([]);
  });

  it('fails open, logged, when the client limiter throws', async () => {
    const logs: LogRecord[] = [];
    const client = fakeLimiter(() => {
      throw new Error('down');
    });
    const send = hookApp({ CLIENT_RATE_LIMITER: client.limiter }, logs);
    expect((await send({ 'x-forwarded-for': '192.0.2.1' })).status).toBe(200);
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'rate_limit.error', bucket: 'client' }),
        expect.objectContaining({ event: 'rate_limit.disabled', bucket: 'introspection' }),
      ]),
    );
  });

  it('fails closed (500) without an authenticated caller', async () => {
    const caller = fakeLimiter(() => ({ success: true }));
    const send = hookApp({ INTROSPECTION_RATE_LIMITER: caller.limiter }, [], false);
    expect((await send()).status).toBe(500);
    expect(caller.keys).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a bad caller binding', { caller: { limiter: 'x', periodS: 60 } }, /caller: "limiter"/],
    ['a bad client binding', { client: { ...OPTIONS.client, limiter: 'x' } }, /client: "limiter"/],
    ['no header', { client: { ...OPTIONS.client, header: '' } }, /"client.header"/],
    ['a header with a space', { client: { ...OPTIONS.client, header: 'X F' } }, /"client.header"/],
    ['no logger', { log: undefined }, /"log" must be a Logger/],
  ])('refuses to build with %s', (_name, patch, message) => {
    const build = () => ghesCheckBudget({ ...OPTIONS, ...patch } as GhesCheckBudgetOptions);
    expect(build).toThrow(message);
    expect(build).toThrow(ConfigurationError);
  });
});
