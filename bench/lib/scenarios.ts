/**
 * The scenarios: what each one sends, how it is checked before load (a preflight that proves the
 * route answers what the scenario claims to measure), and what GHES traffic it must cause.
 * A scenario whose preflight fails is reported as not run, with the reason; it never yields a
 * figure.
 */
import http from 'node:http';
import type { EmulatorApp, Emulator } from './emulator';
import type { Bound, LoadTarget, RequestShape } from './load';
import type { BenchOptions, ScenarioId } from './options';

export type LoadId = Exclude<ScenarioId, 'burst'> | 'emulator_direct';

/**
 * GHES calls a measured run must cause: `none` (every answer from a cache), `each` (every answer
 * needs GHES), `n/a` (no GHES involved).
 */
export type Upstream = 'none' | 'each' | 'n/a';

export interface LoadScenario {
  id: LoadId;
  target: LoadTarget;
  upstream: Upstream;
  bound(phase: 'warmup' | 'run'): Bound;
  /** A reason the last run cannot count that only the scenario knows (e.g. it ran out of tokens). */
  problem?: () => string | undefined;
}

/** Thrown by a preflight: the scenario cannot run, for this plainly stated reason. */
export class NotRunnable extends Error {}

export interface Fixture {
  options: BenchOptions;
  app: EmulatorApp;
  callerJwt: string;
  /** Fresh GitHub token for the repeated-token scenarios. */
  token: string;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(origin: string, shape: RequestShape): Promise<Answer> {
  const res = await fetch(`${origin}${shape.path}`, {
    method: shape.method,
    headers: shape.headers,
    ...(shape.body !== undefined && { body: shape.body }),
    redirect: 'manual',
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function excerpt(a: Answer): string {
  const body = a.text.replace(/\s+/g, ' ').slice(0, 160);
  return `${a.status}${body.length > 0 ? ` ${body}` : ''}`;
}

function json(a: Answer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(a.text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const timed =
  (o: BenchOptions) =>
  (phase: 'warmup' | 'run'): Bound => ({
    durationS: phase === 'warmup' ? o.warmupS : o.durationS,
  });

export function introspectRequest(f: Fixture, token: string): RequestShape {
  return {
    method: 'POST',
    path: '/introspect',
    headers: {
      authorization: `Bearer ${f.callerJwt}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ token, app: f.app.name }).toString(),
  };
}

export function forwardAuthRequest(f: Fixture, token: string): RequestShape {
  return {
    method: 'GET',
    path: `/forward-auth?app=${encodeURIComponent(f.app.name)}`,
    headers: {
      authorization: `Bearer ${token}`,
      'x-gateway-authorization': `Bearer ${f.callerJwt}`,
    },
  };
}

/**
 * The baseline gets the very request introspect_hit sends (same method, headers, body size), so
 * the two differ only by what the worker does with it.
 */
export function baselineScenario(f: Fixture, origin: string): LoadScenario {
  return {
    id: 'baseline',
    target: { origin, request: introspectRequest(f, f.token) },
    upstream: 'n/a',
    bound: timed(f.options),
  };
}

async function expectActive(origin: string, shape: RequestShape, what: string): Promise<void> {
  const a = await send(origin, shape);
  if (a.status === 404)
    throw new NotRunnable(
      `${what}: the gateway answered 404 — the route is not implemented yet (${excerpt(a)})`,
    );
  if (a.status !== 200) throw new NotRunnable(`${what}: expected 200, got ${excerpt(a)}`);
  const body = json(a);
  if (body?.['active'] !== true)
    throw new NotRunnable(`${what}: expected a JSON answer with "active": true, got ${excerpt(a)}`);
}

/**
 * Introspection of a cached token. The preflight introspects the token twice: the first answer
 * fills the cache (one GHES call), the second must come from it. `introspect_hit_sampled` sends
 * the same to a gateway with LOG_SAMPLE_HITS=1.
 */
export async function introspectHitScenario(
  id: 'introspect_hit' | 'introspect_hit_sampled' | 'introspect_kv_hit',
  f: Fixture,
  origin: string,
  emulator: Emulator,
): Promise<LoadScenario> {
  const shape = introspectRequest(f, f.token);
  await expectActive(origin, shape, `POST /introspect (${id})`);
  const before = await emulator.checkCalls();
  await expectActive(origin, shape, `POST /introspect again (${id})`);
  const calls = (await emulator.checkCalls()) - before;
  if (calls !== 0)
    throw new NotRunnable(
      `${id}: a repeated introspection of the same token still called GHES (${calls} calls); the cache is not answering`,
    );
  return { id, target: { origin, request: shape }, upstream: 'none', bound: timed(f.options) };
}

/**
 * Forward auth of a cached token, checked as the introspection is; `forward_auth_hit_sampled`
 * sends the same to a gateway with LOG_SAMPLE_HITS=1.
 */
export async function forwardAuthHitScenario(
  id: 'forward_auth_hit' | 'forward_auth_hit_sampled',
  f: Fixture,
  origin: string,
  emulator: Emulator,
): Promise<LoadScenario> {
  const shape = forwardAuthRequest(f, f.token);
  const check = async (): Promise<void> => {
    const a = await send(origin, shape);
    if (a.status === 404)
      throw new NotRunnable(
        `GET /forward-auth (${id}): the gateway answered 404 — the route is not implemented yet (${excerpt(a)})`,
      );
    if (a.status !== 200)
      throw new NotRunnable(`GET /forward-auth (${id}): expected 200, got ${excerpt(a)}`);
  };
  await check();
  const before = await emulator.checkCalls();
  await check();
  const calls = (await emulator.checkCalls()) - before;
  if (calls !== 0)
    throw new NotRunnable(
      `${id}: a repeated forward auth of the same token still called GHES (${calls} calls)`,
    );
  return {
    id,
    target: { origin, request: shape },
    upstream: 'none',
    bound: timed(f.options),
  };
}

/**
 * Hands out each pre-minted token once. It never throws (it is called inside the load
 * generator's request loop): when empty it hands out the last token again and remembers it, and
 * the run is then rejected, since a repeated token is no longer a miss.
 */
export class TokenPool {
  private next = 0;
  exhausted = false;
  constructor(private readonly tokens: readonly string[]) {
    if (tokens.length === 0) throw new Error('empty token pool');
  }
  take(): string {
    const t = this.tokens[this.next];
    if (t !== undefined) {
      this.next++;
      return t;
    }
    this.exhausted = true;
    return this.tokens[this.tokens.length - 1]!;
  }
}

function poolProblem(pool: TokenPool): () => string | undefined {
  return () =>
    pool.exhausted
      ? 'the pool of fresh tokens ran out (bench/lib/scenarios.ts tokensNeeded)'
      : undefined;
}

/** Tokens a never-seen-token scenario consumes in one run: the answers plus connections in flight. */
export function tokensNeeded(o: BenchOptions): number {
  const runs = o.runs + (o.profile ? 1 : 0);
  return missWarmup(o) + runs * o.missRequests + (runs + 1) * o.connections * 2;
}

function missWarmup(o: BenchOptions): number {
  return Math.max(o.connections * 2, Math.round(o.missRequests / 5));
}

function missBound(o: BenchOptions) {
  return (phase: 'warmup' | 'run'): Bound => ({
    amount: phase === 'warmup' ? missWarmup(o) : o.missRequests,
    // Generous: at 32 connections and 50 ms a run takes about missRequests / 640 s.
    maxDurationS: 120,
  });
}

/** Every request introspects a token the gateway has never seen: one GHES call each. */
export async function introspectMissScenario(
  f: Fixture,
  origin: string,
  pool: TokenPool,
): Promise<LoadScenario> {
  await expectActive(
    origin,
    introspectRequest(f, pool.take()),
    'POST /introspect (introspect_miss)',
  );
  const shape = introspectRequest(f, '');
  return {
    id: 'introspect_miss',
    target: {
      origin,
      request: shape,
      vary: () => ({ body: introspectRequest(f, pool.take()).body! }),
    },
    upstream: 'each',
    bound: missBound(f.options),
  };
}

/**
 * The emulator's own check-token endpoint called directly, with the same connections, request
 * count and fresh tokens as introspect_miss: the latency the gateway adds is the difference of
 * the two medians.
 */
export async function emulatorDirectScenario(
  f: Fixture,
  emulator: Emulator,
  pool: TokenPool,
): Promise<LoadScenario> {
  const path = new URL(
    `${emulator.apiBase}/applications/${encodeURIComponent(f.app.client_id)}/token`,
  ).pathname;
  const headers = {
    authorization: `Basic ${Buffer.from(`${f.app.client_id}:${f.app.client_secret}`).toString('base64')}`,
    'content-type': 'application/json',
    accept: 'application/vnd.github+json',
    'user-agent': 'ghes-token-gateway-bench',
  };
  const shape = (token: string): RequestShape => ({
    method: 'POST',
    path,
    headers,
    body: JSON.stringify({ access_token: token }),
  });
  const a = await send(emulator.origin, shape(pool.take()));
  if (a.status !== 200)
    throw new NotRunnable(`emulator check-token answered ${excerpt(a)} to a freshly minted token`);
  return {
    id: 'emulator_direct',
    target: {
      origin: emulator.origin,
      request: shape(''),
      vary: () => ({ body: shape(pool.take()).body! }),
    },
    upstream: 'each',
    bound: missBound(f.options),
    problem: poolProblem(pool),
  };
}

/** `@octokit/oauth-app` checking the same token on every request. */
export async function peerScenario(f: Fixture, origin: string): Promise<LoadScenario> {
  const shape: RequestShape = {
    method: 'GET',
    path: '/api/github/oauth/token',
    headers: { authorization: `token ${f.token}` },
  };
  const a = await send(origin, shape);
  if (a.status !== 200) throw new NotRunnable(`peer GET /api/github/oauth/token: ${excerpt(a)}`);
  const body = json(a);
  if (typeof body?.['authentication'] !== 'object')
    throw new NotRunnable(`peer GET /api/github/oauth/token: unexpected answer ${excerpt(a)}`);
  return {
    id: 'peer',
    target: { origin, request: shape },
    upstream: 'each',
    bound: timed(f.options),
  };
}

/**
 * The required work alone (bench/required/worker.ts), sent the very requests `introspect_hit` and
 * `forward_auth_hit` send: how near any design keeping the gateway's rules can get over HTTP.
 */
export async function requiredWorkScenario(
  id: 'required_introspect' | 'required_forward_auth',
  f: Fixture,
  origin: string,
): Promise<LoadScenario> {
  const shape =
    id === 'required_introspect' ? introspectRequest(f, f.token) : forwardAuthRequest(f, f.token);
  if (id === 'required_introspect') await expectActive(origin, shape, `required work: ${id}`);
  else {
    const a = await send(origin, shape);
    if (a.status !== 200) throw new NotRunnable(`required work: ${id}: ${excerpt(a)}`);
  }
  return { id, target: { origin, request: shape }, upstream: 'n/a', bound: timed(f.options) };
}

/** The burst's route check, with a token of its own (the burst token must stay unseen). */
export async function burstPreflight(f: Fixture, origin: string, token: string): Promise<void> {
  await expectActive(origin, introspectRequest(f, token), 'POST /introspect (burst)');
}

export interface BurstResult {
  upstreamCalls: number;
  statuses: Record<string, number>;
  inactive: number;
  elapsedMs: number;
}

/**
 * `size` introspections of one token nobody has checked yet, all sent at once on separate
 * connections; the GHES calls they caused are read from the emulator's counters.
 */
export async function burst(
  f: Fixture,
  origin: string,
  emulator: Emulator,
  freshToken: string,
): Promise<BurstResult> {
  const shape = introspectRequest(f, freshToken);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const url = new URL(origin);
  const statuses: Record<string, number> = {};
  let inactive = 0;
  const before = await emulator.settledCheckCalls();
  const t0 = performance.now();
  const one = () =>
    new Promise<void>((resolveOne, reject) => {
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: shape.method,
          path: shape.path,
          headers: { ...shape.headers, 'content-length': Buffer.byteLength(shape.body ?? '') },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = String(res.statusCode);
            statuses[status] = (statuses[status] ?? 0) + 1;
            try {
              const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                active?: unknown;
              };
              if (body.active !== true) inactive++;
            } catch {
              inactive++;
            }
            resolveOne();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('burst request timed out')));
      req.on('error', reject);
      req.end(shape.body);
    });
  await Promise.all(Array.from({ length: f.options.burstSize }, one));
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  const upstreamCalls = (await emulator.settledCheckCalls()) - before;
  return { upstreamCalls, statuses, inactive, elapsedMs };
}
