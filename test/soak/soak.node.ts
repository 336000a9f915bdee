/**
 * Soak: the gateway as it deploys (the `wrangler deploy --dry-run` bundle under miniflare 5, KV
 * and all) in front of the GHES emulator, both on 127.0.0.1, under a mixed load from concurrent
 * clients — check, introspection, forward auth, reset, delete, grant delete, scoped tokens —
 * while faults are switched on and off at random (latency, 5xx streaks, 429 and secondary 403
 * with retry-after, hangs, dropped connections, answers lost after GHES committed) and tokens are
 * revoked along the way.
 *
 *   npm run test:soak                 # full: about three minutes
 *   npm run test:soak -- --short      # CI: under a minute, build included
 *   options: --duration-s N  --max-requests N  --concurrency N  --seed N  --json <file>
 *
 * At the end it checks, and prints one line per check and `N passed, M failed`:
 * - every answer had a status its route documents in /openapi.json, and a well-formed body
 *   (RFC 9457 problem with a known code for every error);
 * - no token revoked through the gateway was reported active by a request sent after the
 *   revocation was answered (reset 200, delete / grant delete 204, or a lost answer after which
 *   GHES no longer knows the token);
 * - no made-up token was ever reported active;
 * - workerd's resident memory stayed bounded while far more distinct tokens passed than the L1
 *   cache holds;
 * - after the faults stop and the breaker cools down, the gateway answers normally again.
 * Exit code 0 only when every check passed. Everything it starts is stopped on exit.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { StartedEmulator } from '../../scripts/emulator';
import type { FaultSpec } from '../../emulator/index';
import { localSecrets, startGateway, type RunningGateway } from '../e2e/lib/gateway.node.js';
import { Cleanup, CheckRunner, errorText } from '../e2e/lib/harness.node.js';
import {
  OPS,
  bodyProblem,
  contractFrom,
  saysActive,
  type Answer,
  type Contract,
  type Op,
} from './contract.node.js';
import { callerCredential, startStack } from './stack.node.js';
import { freePort, WorkerProfiler } from '../../bench/lib/profile.js';
import { HeapSampler, MiB, RssSampler } from './memory.node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  short: boolean;
  durationS: number;
  maxRequests: number;
  concurrency: number;
  seed: number;
  json: string | undefined;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      'duration-s': { type: 'string' },
      'max-requests': { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const int = (v: string | undefined, name: string, def: number) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const short = values.short === true;
  return {
    short,
    durationS: int(values['duration-s'], 'duration-s', short ? 30 : 180),
    maxRequests: int(values['max-requests'], 'max-requests', short ? 20_000 : 100_000),
    concurrency: int(values.concurrency, 'concurrency', 16),
    seed: int(values.seed, 'seed', Number.parseInt(randomBytes(3).toString('hex'), 16) + 1),
    json: values.json,
  };
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with --seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Configuration of the gateway under soak

const OAUTH = 'demo-oauth';
const GH_APP = 'demo-github-app';
const CALLER = 'soak-caller';
const ISSUER = 'https://soak.invalid/issuer';
const AUDIENCE = 'ghes-token-gateway-soak';
/** Small on purpose: the soak sends many times more distinct tokens than L1 may hold. */
const L1_CAP = 500;
const GHES_TIMEOUT_MS = 400;
const GHES_DEADLINE_MS = 1200;
const BREAKER_COOLDOWN_MS = 1000;
const CLIENT_TIMEOUT_MS = 10_000;
/** Runaway-growth guard for workerd's RSS (see the memory check). */
const RSS_LIMIT = 1536 * MiB;
/**
 * How much the gateway isolate's live heap may grow over the second half of the load, read with
 * no request in flight (L1 is long full by then). A sound gateway moved −41 to +120 KiB in ten
 * short runs and +148 KiB over the 50 000 answers of a full run's second half (code compiled and
 * optimised for paths first taken late); a planted map entry per request (~90 B) grew it 533 KiB
 * over 6 100 answers and failed this check, where RSS saw nothing.
 */
const HEAP_GROWTH_LIMIT = 256 * 1024;
/** Far under a Workers isolate's 128 MB: the gateway's own heap is a few MiB. */
const HEAP_LIMIT = 32 * MiB;

// ---------------------------------------------------------------------------------------------
// Tokens: slots of live tokens, the revocation ledger, made-up tokens

interface Slot {
  app: typeof OAUTH | typeof GH_APP;
  login: string;
  token: string;
  busy: boolean;
}

class Ledger {
  /** token → performance.now() when the gateway's answer to its revocation arrived. */
  readonly revokedAt = new Map<string, number>();
  readonly revokedList: string[] = [];
  readonly violations: string[] = [];
  /** Made-up tokens: never issued, so never active. */
  readonly fabricated = new Set<string>();

  revoke(token: string, at: number): void {
    if (this.revokedAt.has(token)) return;
    this.revokedAt.set(token, at);
    this.revokedList.push(token);
  }

  /** Reads sent after the revocation of their token was answered: how often the rule was tested. */
  revokedReads = 0;

  /** An answer about `token` for a request sent at `sentAt`. */
  observe(op: Op, token: string, sentAt: number, active: boolean): void {
    const revoked = this.revokedAt.get(token);
    if (revoked !== undefined && sentAt > revoked) this.revokedReads++;
    if (!active) return;
    if (revoked !== undefined && sentAt > revoked) {
      this.violations.push(
        `${op} reported a token active ${Math.round(sentAt - revoked)} ms after its revocation was answered (token …${token.slice(-4)})`,
      );
    }
    if (this.fabricated.has(token))
      this.violations.push(`${op} reported a made-up token active (…${token.slice(-4)})`);
  }
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// ---------------------------------------------------------------------------------------------
// Statistics

interface Stats {
  requests: number;
  byOp: Record<string, Record<string, number>>;
  undocumented: string[];
  malformed: string[];
  noAnswer: string[];
  distinctFabricated: number;
  revocationsThroughGateway: number;
  revocationsAfterLostAnswer: number;
  faultPhases: Record<string, number>;
  activeAnswers: number;
}

function bump(stats: Stats, op: Op, key: string): void {
  const byOp = (stats.byOp[op] ??= {});
  byOp[key] = (byOp[key] ?? 0) + 1;
}

function keep(list: string[], line: string): void {
  if (list.length < 20) list.push(line);
  else if (list.length === 20) list.push('… (more not shown)');
}

// ---------------------------------------------------------------------------------------------
// Faults

type Phase =
  | 'calm'
  | 'latency'
  | '5xx streak'
  | '429 retry-after'
  | 'secondary 403'
  | 'hang'
  | 'dropped connections'
  | 'answer lost after commit';

const PHASES: Array<[Phase, number]> = [
  ['calm', 4],
  ['latency', 2],
  ['5xx streak', 2],
  ['429 retry-after', 1],
  ['secondary 403', 1],
  ['hang', 1],
  ['dropped connections', 1],
  ['answer lost after commit', 2],
];

function faultsFor(phase: Phase, random: () => number): FaultSpec[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  switch (phase) {
    case 'calm':
      return [];
    case 'latency':
      return [{ latency_ms: 30 + Math.floor(random() * 250) }];
    case '5xx streak':
      return [{ status: pick([500, 502, 503, 504]), times: 5 + Math.floor(random() * 40) }];
    case '429 retry-after':
      return [{ status: 429, retry_after: 1, times: 5 + Math.floor(random() * 20) }];
    case 'secondary 403':
      return [{ status: 403, secondary_rate_limit: true, retry_after: 1, times: 10 }];
    case 'hang':
      return [{ hang: true, operation: pick(['check', 'reset', 'delete'] as const), times: 20 }];
    case 'dropped connections':
      return [{ drop: true, times: 5 + Math.floor(random() * 20) }];
    case 'answer lost after commit':
      return [
        { commit_then_fail: true, operation: 'reset', status: 502, times: 3 },
        { commit_then_fail: true, operation: 'delete', drop: true, times: 3 },
        { commit_then_fail: true, operation: 'grant', status: 503, times: 2 },
      ];
  }
}

function weighted<T>(choices: ReadonlyArray<[T, number]>, random: () => number): T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  return (choices[choices.length - 1] as [T, number])[0];
}

// ---------------------------------------------------------------------------------------------
// The run

interface World {
  opts: Options;
  random: () => number;
  emulator: StartedEmulator;
  gateway: RunningGateway;
  jwt: string;
  contract: Contract;
  ledger: Ledger;
  stats: Stats;
  oauthSlots: Slot[];
  ghSlots: Slot[];
  scopedTokens: string[];
  fabricatedCounter: number;
}

async function send(
  w: World,
  op: Op,
  token: string,
  app: string,
): Promise<{ answer: Answer | undefined; sentAt: number }> {
  const base = w.gateway.url;
  const auth = `Bearer ${w.jwt}`;
  let url: string;
  let init: RequestInit;
  switch (op) {
    case 'introspect':
      url = `${base}/introspect`;
      init = {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, app }).toString(),
      };
      break;
    case 'forward_auth':
      url = `${base}/forward-auth/soak?app=${app}`;
      init = {
        method: 'GET',
        headers: { 'x-gateway-authorization': auth, authorization: `Bearer ${token}` },
      };
      break;
    default: {
      const path =
        op === 'grant_delete' ? 'grant/delete' : `token/${op === 'check' ? 'check' : op}`;
      const body: Record<string, unknown> = { access_token: token };
      if (op === 'scoped')
        Object.assign(body, { target: 'octocat', permissions: { contents: 'read' } });
      url = `${base}/v1/apps/${app}/${path}`;
      init = {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      };
    }
  }
  const sentAt = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    const body = await res.text();
    return {
      answer: {
        status: res.status,
        contentType: (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '',
        body,
        cacheStatus: res.headers.get('cache-status') ?? '',
      },
      sentAt,
    };
  } catch (e) {
    keep(w.stats.noAnswer, `${op}: ${errorText(e)}`);
    return { answer: undefined, sentAt };
  }
}

function record(w: World, op: Op, answer: Answer): void {
  w.stats.requests++;
  let code = '';
  if (answer.status >= 400) {
    try {
      code = String((JSON.parse(answer.body) as { code?: unknown }).code ?? '');
    } catch {
      code = '?';
    }
  }
  bump(w.stats, op, code === '' ? String(answer.status) : `${answer.status} ${code}`);
  if (!w.contract.statuses[op].has(answer.status))
    keep(w.stats.undocumented, `${op} answered ${answer.status} ${code}`);
  const problem = bodyProblem(w.contract, op, answer);
  if (problem !== undefined)
    keep(w.stats.malformed, `${op} ${answer.status}: ${problem}: ${answer.body.slice(0, 160)}`);
}

function fabricated(w: World): string {
  // Distinct, well-formed `gho_` tokens no GHES issued: each is one more L1 entry to hold.
  let n = w.fabricatedCounter++;
  let s = '';
  for (let i = 0; i < 12; i++) {
    s += BASE62[n % 62];
    n = Math.floor(n / 62);
  }
  const token = `gho_soak${s}${w.opts.seed.toString(16).padStart(20, '0')}`;
  w.ledger.fabricated.add(token);
  w.stats.distinctFabricated++;
  return token;
}

function freshToken(w: World, slot: Slot): void {
  slot.token = w.emulator.emulator.createToken({
    app: slot.app,
    login: slot.login,
    ...(slot.app === OAUTH && { scopes: ['repo'] }),
  }).token;
}

/** A read about some token: live, revoked, scoped or made up. */
async function read(w: World): Promise<void> {
  const op = weighted<Op>(
    [
      ['check', 4],
      ['introspect', 4],
      ['forward_auth', 3],
    ],
    w.random,
  );
  const kind = weighted(
    [
      ['live', 5],
      ['revoked', 2],
      ['fabricated', 4],
      ['scoped', 1],
    ] as const,
    w.random,
  );
  let token: string;
  let app: string = OAUTH;
  if (kind === 'revoked' && w.ledger.revokedList.length > 0) {
    token = w.ledger.revokedList[Math.floor(w.random() * w.ledger.revokedList.length)] as string;
  } else if (kind === 'scoped' && w.scopedTokens.length > 0) {
    token = w.scopedTokens[Math.floor(w.random() * w.scopedTokens.length)] as string;
    app = GH_APP;
  } else if (kind === 'fabricated') {
    token = fabricated(w);
  } else {
    token = (w.oauthSlots[Math.floor(w.random() * w.oauthSlots.length)] as Slot).token;
  }
  const { answer, sentAt } = await send(w, op, token, app);
  if (answer === undefined) return;
  record(w, op, answer);
  const active = saysActive(op, answer);
  if (active) w.stats.activeAnswers++;
  w.ledger.observe(op, token, sentAt, active);
}

/** A mutation on a slot no other client is using. */
async function mutate(w: World): Promise<void> {
  const op = weighted<Op>(
    [
      ['reset', 4],
      ['delete', 3],
      ['grant_delete', 2],
      ['scoped', 3],
    ],
    w.random,
  );
  const slots = op === 'scoped' ? w.ghSlots : w.oauthSlots;
  const idle = slots.filter((s) => !s.busy);
  if (idle.length === 0) return read(w);
  const slot = idle[Math.floor(w.random() * idle.length)] as Slot;
  slot.busy = true;
  try {
    const old = slot.token;
    const { answer } = await send(w, op, old, slot.app);
    if (answer === undefined) return;
    const answeredAt = performance.now();
    record(w, op, answer);
    if (op === 'scoped') {
      if (answer.status === 200) {
        w.scopedTokens.push((JSON.parse(answer.body) as { token: string }).token);
        if (w.scopedTokens.length > 200) w.scopedTokens.shift();
      }
      return;
    }
    const ok = answer.status === 200 || answer.status === 204;
    // GHES is the oracle for answers that were lost: if it no longer knows the token, the
    // revocation happened, and the gateway promised to stop vouching for it (fail closed).
    const goneInGhes = !w.emulator.emulator.state.tokens.has(old);
    if (ok || goneInGhes) {
      w.ledger.revoke(old, answeredAt);
      if (ok) w.stats.revocationsThroughGateway++;
      else w.stats.revocationsAfterLostAnswer++;
    }
    if (op === 'reset' && answer.status === 200) {
      slot.token = (JSON.parse(answer.body) as { token: string }).token;
    } else if (ok || goneInGhes) {
      freshToken(w, slot);
    } else if (answer.status === 502 || answer.status === 504) {
      // Unclear outcome but GHES still has it: the gateway no longer vouches for it (tombstone);
      // retire it from GHES too and carry on with a new one.
      w.emulator.emulator.revokeToken(old);
      freshToken(w, slot);
    }
  } finally {
    slot.busy = false;
  }
}

async function client(w: World, until: number, maxRequests: number): Promise<void> {
  while (performance.now() < until && w.stats.requests < maxRequests) {
    if (w.random() < 0.12) await mutate(w);
    else await read(w);
  }
}

/**
 * Every fault kind once first (in a seeded random order, each followed by a calm phase, so the
 * gateway is also seen recovering), then phases drawn by weight until the run ends.
 */
async function faultDriver(w: World, until: number, phaseMs: number): Promise<void> {
  const em = w.emulator.emulator;
  const kinds: Phase[] = PHASES.map(([p]) => p).filter((p) => p !== 'calm');
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(w.random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j] as Phase, kinds[i] as Phase];
  }
  const first: Phase[] = kinds.flatMap((k) => [k, 'calm' as const]);
  while (performance.now() < until && w.stats.requests < w.opts.maxRequests) {
    const phase = first.shift() ?? weighted(PHASES, w.random);
    w.stats.faultPhases[phase] = (w.stats.faultPhases[phase] ?? 0) + 1;
    em.setFaults(...faultsFor(phase, w.random));
    await new Promise((r) => setTimeout(r, phaseMs * (0.5 + w.random())));
    em.clearFaults();
    em.releaseHangs();
  }
}

/**
 * Proves the L1 cap in the deployed bundle from outside, through RFC 9211 `Cache-Status`: a token
 * answered from L1 (`detail=l1`) is answered from KV (`detail=kv`) once `2 × cap` other distinct
 * tokens have been checked, i.e. it was evicted. Returns how many were checked in between, or
 * throws saying what was seen.
 */
async function l1EvictionProbe(w: World): Promise<number> {
  const mint = () =>
    w.emulator.emulator.createToken({
      app: OAUTH,
      login: `probe-${randomBytes(4).toString('hex')}`,
    }).token;
  const probe = mint();
  const statusOf = async (token: string): Promise<string> => {
    const { answer } = await send(w, 'check', token, OAUTH);
    if (answer?.status !== 200)
      throw new Error(`probe check answered ${answer?.status ?? 'nothing'}`);
    return answer.cacheStatus ?? '';
  };
  await statusOf(probe);
  const before = await statusOf(probe);
  if (!/; hit;.*detail=l1/.test(before)) throw new Error(`not an L1 hit at first: ${before}`);
  const others = Array.from({ length: 2 * L1_CAP }, mint);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < others.length) await statusOf(others[next++] as string);
    }),
  );
  const after = await statusOf(probe);
  if (!/; hit;.*detail=kv/.test(after))
    throw new Error(
      `after ${others.length} other tokens the probe was not answered from KV: ${after}`,
    );
  return others.length;
}

/** Concurrent first checks of one new token in the stampede probe. */
const STAMPEDE = 48;

/**
 * Concurrent checks of one token nobody has checked, all in flight together (GHES answers the
 * check 300 ms late): one request leads the GHES check and the others join it, and every one must
 * answer on its own. workerd refuses a request's I/O from another request's context; followers
 * once resumed by the leader's promise answered 500 ("Cannot perform I/O on behalf of a different
 * request", docs/cache.md). The vitest pool does not enforce that rule; this workerd does.
 * Returns the GHES check calls the stampede caused.
 */
async function stampedeProbe(w: World): Promise<number> {
  const em = w.emulator.emulator;
  const token = em.createToken({
    app: OAUTH,
    login: `stampede-${randomBytes(4).toString('hex')}`,
    scopes: ['repo'],
  }).token;
  em.setFaults({ operation: 'check', latency_ms: 300 });
  const before = em.calls().check;
  const ops: Op[] = ['introspect', 'forward_auth', 'check'];
  try {
    const answers = await Promise.all(
      Array.from({ length: STAMPEDE }, (_, i) => {
        const op = ops[i % ops.length] as Op;
        return send(w, op, token, OAUTH).then(({ answer }) => ({ op, answer }));
      }),
    );
    const wrong = answers.filter(
      ({ op, answer }) => answer === undefined || !saysActive(op, answer),
    );
    if (wrong.length > 0)
      throw new Error(
        `${wrong.length} of ${STAMPEDE} concurrent first checks did not answer active, e.g. ${wrong
          .slice(0, 3)
          .map(
            ({ op, answer }) =>
              `${op} ${answer?.status ?? 'no answer'} ${answer?.body.slice(0, 120) ?? ''}`,
          )
          .join(' | ')}`,
      );
  } finally {
    em.clearFaults();
  }
  return em.calls().check - before;
}

async function main(): Promise<number> {
  const opts = options();
  const checks = new CheckRunner();
  const cleanup = new Cleanup();
  const stop = () => {
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.log(
    `soak: ${opts.short ? 'short' : 'full'} run, ${opts.durationS} s or ${opts.maxRequests} requests, ${opts.concurrency} clients, seed ${opts.seed}`,
  );
  const started = performance.now();
  const stats: Stats = {
    requests: 0,
    byOp: {},
    undocumented: [],
    malformed: [],
    noAnswer: [],
    distinctFabricated: 0,
    revocationsThroughGateway: 0,
    revocationsAfterLostAnswer: 0,
    faultPhases: {},
    activeAnswers: 0,
  };
  const ledger = new Ledger();
  const sampler = new RssSampler();
  let heap: HeapSampler | undefined;
  let heapError = 'not run';
  /** The heap with no request in flight: halfway through the load, and at its end. */
  const quietHeap: { answers: number; bytes: number }[] = [];
  const checkLines: string[] = [];
  let loadStart = 0;
  let loadEnd = 0;
  let recovered: Answer | undefined;
  let l1EvictedAfter: number | undefined;
  let l1ProbeError = 'not run';
  let stampedeCalls: number | undefined;
  let stampedeError = 'not run';
  try {
    // GHES's own rate limiting is out of the way; the soak's own 429 phases stand in for it.
    const { mainPath, project, emulator } = await startStack(root, cleanup, 'soak');
    const caller = await callerCredential({ issuer: ISSUER, audience: AUDIENCE, sub: CALLER });
    const bindings: Record<string, string> = {
      ...localSecrets(root, project, emulator.emulator.apps()),
      GHES_BASE_URL: `${emulator.url}/api/v3`,
      GHES_TIMEOUT_MS: String(GHES_TIMEOUT_MS),
      GHES_DEADLINE_MS: String(GHES_DEADLINE_MS),
      BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
      CACHE_L1_MAX_ENTRIES: String(L1_CAP),
      CALLER_ISSUER: ISSUER,
      CALLER_AUDIENCE: AUDIENCE,
      CALLER_JWKS: caller.jwks,
      CALLER_JWKS_URL: '',
      CALLER_POLICY: JSON.stringify({
        [CALLER]: { apps: ['*'], operations: [...OPS], default_app: OAUTH },
      }),
    };
    // DevTools on the gateway, to read its isolate's live heap (the heap check).
    const inspectorPort = await freePort();
    const gateway = await startGateway({ mainPath, project, bindings, inspectorPort });
    cleanup.add('stop gateway', () => gateway.dispose());
    const devtools = await WorkerProfiler.connect(inspectorPort, 'ghes-token-gateway');
    cleanup.add('close the DevTools session', () => devtools.close());
    heap = new HeapSampler(
      () => devtools.heapAfterGc(),
      () => stats.requests,
    );
    const doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as Parameters<
      typeof contractFrom
    >[0];
    const contract = contractFrom(doc);

    const oauthSlots: Slot[] = [];
    const ghSlots: Slot[] = [];
    for (let i = 0; i < 64; i++) {
      const slot: Slot = { app: OAUTH, login: `soak-user-${i}`, token: '', busy: false };
      freshToken({ emulator } as World, slot);
      oauthSlots.push(slot);
    }
    for (let i = 0; i < 8; i++) {
      const slot: Slot = { app: GH_APP, login: 'octocat', token: '', busy: false };
      freshToken({ emulator } as World, slot);
      ghSlots.push(slot);
    }
    const w: World = {
      opts,
      random: prng(opts.seed),
      emulator,
      gateway,
      jwt: caller.jwt,
      contract,
      ledger,
      stats,
      oauthSlots,
      ghSlots,
      scopedTokens: [],
      fabricatedCounter: 0,
    };

    if (!sampler.start(250)) throw new Error('no workerd process found under /proc to sample');
    loadStart = performance.now();
    // About a dozen readings over the load, each a heap snapshot that pauses the isolate ~0.2 s.
    heap.start(Math.max(1000, (opts.durationS * 1000) / 12));
    const setupS = (loadStart - started) / 1000;
    const until = loadStart + opts.durationS * 1000;
    const clients = (end: number, maxRequests: number) =>
      Promise.all(Array.from({ length: opts.concurrency }, () => client(w, end, maxRequests)));
    // The load in two halves, with the clients stopped in between: the gateway's heap is read
    // when no request is in flight (readings under load move by the requests in flight).
    const faults = faultDriver(w, until, opts.short ? 1200 : 2500);
    const readQuiet = async () => {
      try {
        quietHeap.push({ answers: stats.requests, bytes: await devtools.heapAfterGc() });
      } catch (e) {
        heapError = `reading the heap through DevTools failed: ${errorText(e)}`;
      }
    };
    await clients(loadStart + opts.durationS * 500, opts.maxRequests / 2);
    await readQuiet();
    await Promise.all([faults, clients(until, opts.maxRequests)]);
    loadEnd = performance.now();
    await readQuiet();
    try {
      await heap.stop();
      if (quietHeap.length === 2) heapError = '';
    } catch (e) {
      heapError = `reading the heap through DevTools failed: ${errorText(e)}`;
    }
    emulator.emulator.clearFaults();
    emulator.emulator.releaseHangs();
    // Recovery: once the breaker has cooled down, a live token checks fine again.
    await new Promise((r) => setTimeout(r, BREAKER_COOLDOWN_MS + 200));
    const probe = oauthSlots.find((s) => !s.busy) as Slot;
    freshToken(w, probe);
    recovered = (await send(w, 'check', probe.token, OAUTH)).answer;
    try {
      l1EvictedAfter = await l1EvictionProbe(w);
    } catch (e) {
      l1ProbeError = errorText(e);
    }
    try {
      stampedeCalls = await stampedeProbe(w);
    } catch (e) {
      stampedeError = errorText(e);
    }
    sampler.stop();
    console.log(
      `soak: setup ${setupS.toFixed(1)} s, load ${((loadEnd - loadStart) / 1000).toFixed(1)} s, ${stats.requests} answers`,
    );
  } catch (e) {
    checks.fail('soak setup and run', e);
    checkLines.push(`FAIL  soak setup and run: ${errorText(e).split('\n')[0] ?? ''}`);
  }

  // ----- the checks (each line is also kept for the JSON summary)
  const verify = async (name: string, body: () => Promise<void>): Promise<void> => {
    let why = '';
    const ok = await checks.check(name, async () => {
      try {
        await body();
      } catch (e) {
        why = errorText(e);
        throw e;
      }
    });
    checkLines.push(ok ? `PASS  ${name}` : `FAIL  ${name}: ${why.split('\n')[0] ?? ''}`);
  };
  const loadMs = loadEnd - loadStart;
  const minRequests = opts.short ? 1000 : 5000;
  await verify(`ran a real load (≥ ${minRequests} answers, every operation)`, async () => {
    if (stats.requests < minRequests) throw new Error(`only ${stats.requests} answers`);
    const missing = OPS.filter((op) => Object.keys(stats.byOp[op] ?? {}).length === 0);
    if (missing.length > 0) throw new Error(`never ran: ${missing.join(', ')}`);
  });
  await verify(`switched every fault kind on and off (${PHASES.length - 1} kinds)`, async () => {
    const missing = PHASES.map(([p]) => p).filter((p) => (stats.faultPhases[p] ?? 0) === 0);
    if (missing.length > 0)
      throw new Error(`never ran: ${missing.join(', ')} (${JSON.stringify(stats.faultPhases)})`);
  });
  await verify('revoked tokens along the way (through the gateway)', async () => {
    if (stats.revocationsThroughGateway < (opts.short ? 20 : 100))
      throw new Error(`only ${stats.revocationsThroughGateway} revocations`);
  });
  await verify('every request got an answer', async () => {
    if (stats.noAnswer.length > 0) throw new Error(stats.noAnswer.join('\n'));
  });
  await verify('every answer had a status its route documents in /openapi.json', async () => {
    if (stats.undocumented.length > 0) throw new Error(stats.undocumented.join('\n'));
  });
  await verify('every answer had a well-formed body (problem+json for errors)', async () => {
    if (stats.malformed.length > 0) throw new Error(stats.malformed.join('\n'));
  });
  await verify(
    'no revoked token reported active after its revocation answered; no made-up token active',
    async () => {
      if (ledger.violations.length > 0) throw new Error(ledger.violations.slice(0, 20).join('\n'));
    },
  );
  // Sample times count from the start of the load.
  const warmMax = sampler.maxBetween(0, loadMs * 0.25 + 1);
  const lateMax = sampler.maxBetween(loadMs * 0.75, Number.POSITIVE_INFINITY);
  const peak = sampler.samples.reduce((m, s) => Math.max(m, s.bytes), 0);
  await verify(
    `L1 cap holds in the deployed bundle (${stats.distinctFabricated} distinct made-up tokens passed an L1 of ${L1_CAP}; an early token is evicted to KV)`,
    async () => {
      if (stats.distinctFabricated < L1_CAP * 2)
        throw new Error(`only ${stats.distinctFabricated} distinct tokens: L1 was never full`);
      if (l1EvictedAfter === undefined) throw new Error(l1ProbeError);
    },
  );
  await verify(
    `${STAMPEDE} concurrent first checks of one token each answered active, with one GHES call`,
    async () => {
      if (stampedeCalls === undefined) throw new Error(stampedeError);
      if (stampedeCalls !== 1) throw new Error(`${stampedeCalls} GHES check calls`);
    },
  );
  // workerd under miniflare grows its heap for a while under any load (a hello-world worker
  // plateaus near 800 MiB after a few hundred thousand requests), so RSS cannot prove a cap; it
  // does catch runaway growth outside the isolate. The gateway's own heap is checked below.
  await verify(`workerd resident memory stayed under ${RSS_LIMIT / MiB} MiB`, async () => {
    if (sampler.samples.length < 4)
      throw new Error(`not enough RSS samples (${sampler.samples.length})`);
    if (peak > RSS_LIMIT) throw new Error(`peak RSS ${(peak / MiB).toFixed(0)} MiB`);
  });
  // The gateway's own memory, read in its isolate: flat once L1 is full, whatever RSS does.
  const [heapMid, heapEnd] = quietHeap;
  const heapPeak = Math.max(
    0,
    ...(heap?.samples ?? []).map((h) => h.bytes),
    ...quietHeap.map((h) => h.bytes),
  );
  await verify(
    `gateway isolate's live heap, read with no request in flight, grew under ${HEAP_GROWTH_LIMIT / 1024} KiB over the second half of the load; peak under ${HEAP_LIMIT / MiB} MiB`,
    async () => {
      if (heapError !== '') throw new Error(heapError);
      if (heapMid === undefined || heapEnd === undefined) throw new Error('no heap readings');
      const growth = heapEnd.bytes - heapMid.bytes;
      const answers = heapEnd.answers - heapMid.answers;
      if (answers < minRequests / 2) throw new Error(`only ${answers} answers in the second half`);
      if (growth > HEAP_GROWTH_LIMIT)
        throw new Error(
          `grew ${(growth / 1024).toFixed(0)} KiB over ${answers} answers (${(growth / answers).toFixed(0)} B per answer)`,
        );
      if (heapPeak > HEAP_LIMIT) throw new Error(`peak ${(heapPeak / MiB).toFixed(1)} MiB`);
    },
  );
  await verify('answers normally once faults stop and the breaker cools down', async () => {
    if (recovered?.status !== 200)
      throw new Error(`check answered ${recovered?.status ?? 'nothing'}: ${recovered?.body ?? ''}`);
  });

  const summary = {
    mode: opts.short ? 'short' : 'full',
    seed: opts.seed,
    concurrency: opts.concurrency,
    load_s: Math.round(loadMs / 100) / 10,
    requests: stats.requests,
    by_operation: stats.byOp,
    fault_phases: stats.faultPhases,
    revocations_through_gateway: stats.revocationsThroughGateway,
    revocations_after_lost_answer: stats.revocationsAfterLostAnswer,
    revoked_tokens_tracked: ledger.revokedAt.size,
    reads_of_revoked_tokens: ledger.revokedReads,
    distinct_made_up_tokens: stats.distinctFabricated,
    active_answers: stats.activeAnswers,
    l1_cap: L1_CAP,
    l1_evicted_after: l1EvictedAfter ?? null,
    rss_mib: {
      first_quarter_max: warmMax === undefined ? null : Math.round(warmMax / MiB),
      last_quarter_max: lateMax === undefined ? null : Math.round(lateMax / MiB),
      peak: Math.round(peak / MiB),
      // The highest sample in each tenth of the load, to see a trend rather than one number.
      by_tenth: Array.from({ length: 10 }, (_, i) => {
        const m = sampler.maxBetween((loadMs * i) / 10, (loadMs * (i + 1)) / 10);
        return m === undefined ? null : Math.round(m / MiB);
      }),
    },
    heap_kib: {
      // With no request in flight: [answers so far, KiB] halfway and at the end of the load.
      quiet: quietHeap.map((h) => [h.answers, Math.round(h.bytes / 1024)]),
      peak: Math.round(heapPeak / 1024),
      // Every reading: [ms into the load, answers so far, KiB].
      readings: (heap?.samples ?? []).map((h) => [
        Math.round(h.atMs),
        h.answers,
        Math.round(h.bytes / 1024),
      ]),
    },
    violations: ledger.violations.length,
    undocumented: stats.undocumented.length,
    malformed: stats.malformed.length,
    no_answer: stats.noAnswer.length,
    checks: { passed: checks.passed, failed: checks.failed, lines: checkLines },
  };
  console.log(`soak: answers by operation and status: ${JSON.stringify(stats.byOp)}`);
  console.log(`soak: fault phases: ${JSON.stringify(stats.faultPhases)}`);
  console.log(
    `soak: ${stats.revocationsThroughGateway} revocations through the gateway, ${stats.revocationsAfterLostAnswer} after a lost answer; RSS ${JSON.stringify(summary.rss_mib)} MiB; isolate heap after GC ${JSON.stringify(summary.heap_kib)} KiB`,
  );
  if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify(summary, null, 2)}\n`);
  await cleanup.runAll();
  console.log(checks.summary());
  return checks.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`soak failed: ${errorText(e)}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
