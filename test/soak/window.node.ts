/**
 * The real revocation window, measured: N gateway instances (each the `wrangler deploy --dry-run`
 * bundle under its own miniflare 5, so its own workerd process and isolate) share one KV namespace
 * (the same miniflare persistence directory, and the same CACHE_PEPPER) in front of one GHES
 * emulator. Tokens are revoked through one instance (POST /v1/apps/{app}/token/delete) and in
 * GHES with a webhook (the emulator's POST /_emulator/users/{login}/revoke delivers the signed
 * `github_app_authorization` to one instance's /webhooks/github/{app}), while every instance keeps
 * checking the tokens. Reported, per kind: the longest time between a revocation being answered
 * and a check *sent after it* that still answered `active: true`.
 *
 *   npm run test:window                 # full: 12 rounds, CACHE_POSITIVE_TTL_S=5
 *   npm run test:window -- --short      # under a minute, build included: 4 rounds, TTL 3 s
 *   options: --instances N (≥ 2)  --rounds N  --positive-ttl-s N  --json <file>
 *
 * Kinds: the instance that was revoked through ("same") or another ("other"); whether it held an
 * L1 (memory) positive for the token when the revocation landed ("L1 held") or had never checked
 * it, so its first check reads KV, where the revoker's positive answer is ("cold").
 * Bounds, checked (PASS/FAIL):
 * - same instance: 0 ms. The tombstone / grant epoch is in the revoker's memory before it answers.
 * - other instance, cold: 0 ms locally. The revoker writes the tombstone / epoch to KV before it
 *   answers and the cold instance reads KV; miniflare's KV is one SQLite store, so its
 *   read-after-write lag is nil (Workers KV: up to ~60 s across locations, not measurable here).
 * - other instance, L1 held: CACHE_POSITIVE_TTL_S + 500 ms. Memory hits do not read KV
 *   (docs/cache.md), so the copy is served until its freshness ends; it was loaded at most
 *   CACHE_POSITIVE_TTL_S before; 500 ms covers one loopback request. CACHE_POSITIVE_TTL_S is set
 *   small for the run (3 s / 5 s instead of the default 60 s): in production this window is
 *   up to 60 s.
 * Exit code 0 only when every bound held and the setup checks passed.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { StartedEmulator } from '../../scripts/emulator';
import { localSecrets, startGateway, type RunningGateway } from '../e2e/lib/gateway.node.js';
import { Cleanup, errorText } from '../e2e/lib/harness.node.js';
import { callerCredential, startStack } from './stack.node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const OAUTH = 'demo-oauth';
const GH_APP = 'demo-github-app';
const CALLER = 'window-caller';
const ISSUER = 'https://window.invalid/issuer';
const AUDIENCE = 'ghes-token-gateway-window';
/** One loopback request, for the L1 bound (see the header). */
const REQUEST_SLACK_MS = 500;
/** How long checking goes on after the L1 bound has passed, to see it end. */
const TAIL_MS = 1500;

interface Options {
  short: boolean;
  instances: number;
  rounds: number;
  positiveTtlS: number;
  /** Where to write the figures as JSON (scripts/reliability-report.ts reads them). */
  json: string | undefined;
}

/** The JSON summary `--json` writes. */
export interface WindowSummary {
  instances: number;
  rounds: number;
  positive_ttl_s: number;
  windows: Array<{
    path: 'gateway' | 'webhook';
    relation: string;
    max_ms: number;
    bound_ms: number;
    active_after: number;
    checks_after: number;
  }>;
  checks: { passed: number; failed: number };
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      instances: { type: 'string' },
      rounds: { type: 'string' },
      'positive-ttl-s': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const int = (v: string | undefined, name: string, def: number, min: number) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const short = values.short === true;
  return {
    short,
    instances: int(values.instances, 'instances', 2, 2),
    rounds: int(values.rounds, 'rounds', short ? 4 : 12, 2),
    positiveTtlS: int(values['positive-ttl-s'], 'positive-ttl-s', short ? 3 : 5, 1),
    json: values.json,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Path = 'gateway' | 'webhook';
type Relation = 'same, L1 held' | 'other, L1 held' | 'other, cold';
const RELATIONS: readonly Relation[] = ['same, L1 held', 'other, L1 held', 'other, cold'];

interface Window {
  /** Longest (check sent − revocation answered) of an active answer; 0 when none. */
  maxMs: number;
  activeAfter: number;
  checksAfter: number;
}

interface World {
  emulator: StartedEmulator;
  gateways: RunningGateway[];
  jwt: string;
  windows: Map<string, Window>;
  errors: string[];
}

interface CheckAnswer {
  active: boolean;
  status: number;
  cacheStatus: string;
  sentAt: number;
}

async function check(w: World, g: number, app: string, token: string): Promise<CheckAnswer> {
  const sentAt = performance.now();
  const res = await fetch(`${w.gateways[g]?.url}/v1/apps/${app}/token/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({ access_token: token }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  // The check endpoint answers 200 with the token's details when active, 404 when not.
  const active = res.status === 200;
  if (res.status !== 200 && res.status !== 404 && w.errors.length < 20)
    w.errors.push(`check on instance ${g} answered ${res.status}: ${body.slice(0, 160)}`);
  return { active, status: res.status, cacheStatus: res.headers.get('cache-status') ?? '', sentAt };
}

function windowOf(w: World, path: Path, relation: Relation): Window {
  const key = `${path} / ${relation}`;
  let win = w.windows.get(key);
  if (win === undefined) w.windows.set(key, (win = { maxMs: 0, activeAfter: 0, checksAfter: 0 }));
  return win;
}

/**
 * Checks `token` on instance `g` back to back until `until`, holding every answer to a request
 * sent after `revokedAt()` (undefined: not revoked yet) against the window of its kind.
 */
async function keepChecking(
  w: World,
  g: number,
  app: string,
  token: string,
  until: number,
  revokedAt: () => number | undefined,
  kind: () => Window,
): Promise<void> {
  while (performance.now() < until) {
    let answer: CheckAnswer;
    try {
      answer = await check(w, g, app, token);
    } catch (e) {
      if (w.errors.length < 20) w.errors.push(`check on instance ${g}: ${errorText(e)}`);
      continue;
    }
    const at = revokedAt();
    if (at === undefined || answer.sentAt <= at) continue;
    const win = kind();
    win.checksAfter++;
    if (answer.active) {
      win.activeAfter++;
      win.maxMs = Math.max(win.maxMs, answer.sentAt - at);
    }
  }
}

/** One round: two fresh tokens (two users), revoked through `path` at instance `revoker`. */
async function round(w: World, opts: Options, path: Path, revoker: number): Promise<void> {
  const app = path === 'gateway' ? OAUTH : GH_APP;
  // Two users: an isolate that reads a user's grant epoch from KV (for the cold token) learns it
  // for every token of that user, which would cut the warm token's L1 window short.
  const mint = () => {
    const login = `window-${randomBytes(4).toString('hex')}`;
    const { token } = w.emulator.emulator.createToken({
      app,
      login,
      ...(app === OAUTH && { scopes: ['repo'] }),
    });
    return { login, token };
  };
  const { login: warmLogin, token: warm } = mint();
  const { login: coldLogin, token: cold } = mint();
  const others = w.gateways.map((_, i) => i).filter((i) => i !== revoker);
  // Every instance holds `warm` in L1; only the revoker has checked `cold` (its positive is in KV).
  for (let g = 0; g < w.gateways.length; g++)
    if (!(await check(w, g, app, warm)).active) throw new Error(`warm token inactive on ${g}`);
  if (!(await check(w, revoker, app, cold)).active) throw new Error('cold token inactive');
  await sleep(300); // the positives' KV writes run under waitUntil, after the answers

  let warmRevokedAt: number | undefined;
  let coldRevokedAt: number | undefined;
  const start = performance.now();
  const until = start + 200 + opts.positiveTtlS * 1000 + REQUEST_SLACK_MS + TAIL_MS;
  const relation = (g: number): Relation => (g === revoker ? 'same, L1 held' : 'other, L1 held');
  const warmCheckers = w.gateways.map((_, g) =>
    keepChecking(
      w,
      g,
      app,
      warm,
      until,
      () => warmRevokedAt,
      () => windowOf(w, path, relation(g)),
    ),
  );
  await sleep(200);
  for (const [token, login, set] of [
    [warm, warmLogin, (t: number) => (warmRevokedAt = t)],
    [cold, coldLogin, (t: number) => (coldRevokedAt = t)],
  ] as const) {
    if (path === 'gateway') {
      const res = await fetch(`${w.gateways[revoker]?.url}/v1/apps/${app}/token/delete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.jwt}`, 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: token }),
      });
      await res.body?.cancel();
      if (res.status !== 204) throw new Error(`token/delete answered ${res.status}`);
    } else {
      // GHES revokes the user's grant, then delivers the webhook and waits for its answer.
      const res = await fetch(`${w.emulator.url}/_emulator/users/${login}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ app }),
      });
      const answer = (await res.json()) as { webhook?: { status?: number | null } | null };
      if (res.status !== 200 || answer.webhook?.status !== 200)
        throw new Error(`GHES revoke: ${res.status} ${JSON.stringify(answer)}`);
    }
    set(performance.now());
  }
  // `cold` is checked only from now on: the other instances' first check of it reads KV.
  const coldCheckers = [
    keepChecking(
      w,
      revoker,
      app,
      cold,
      until,
      () => coldRevokedAt,
      () => windowOf(w, path, 'same, L1 held'),
    ),
    ...others.map((g) =>
      keepChecking(
        w,
        g,
        app,
        cold,
        until,
        () => coldRevokedAt,
        () => windowOf(w, path, 'other, cold'),
      ),
    ),
  ];
  await Promise.all([...warmCheckers, ...coldCheckers]);
}

/** The instances share KV: a positive stored by instance 0 is a KV hit on every other one. */
async function sharedKv(w: World): Promise<string> {
  const token = w.emulator.emulator.createToken({
    app: OAUTH,
    login: `window-kv-${randomBytes(4).toString('hex')}`,
    scopes: ['repo'],
  }).token;
  const first = await check(w, 0, OAUTH, token);
  if (!first.active) throw new Error(`instance 0 did not answer active (${first.status})`);
  const lines: string[] = [];
  for (let g = 1; g < w.gateways.length; g++) {
    const deadline = performance.now() + 3000;
    let last = '';
    for (;;) {
      const a = await check(w, g, OAUTH, token);
      last = a.cacheStatus;
      if (a.active && /; hit\b/.test(last) && last.includes('detail=kv')) break;
      if (performance.now() > deadline)
        throw new Error(`instance ${g} never read instance 0's answer from KV: ${last}`);
      await sleep(50);
    }
    lines.push(`instance ${g}: ${last}`);
  }
  return lines.join('; ');
}

async function main(): Promise<number> {
  const opts = options();
  const cleanup = new Cleanup();
  const stop = () => void cleanup.runAll().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.log(
    `window: ${opts.instances} instances sharing KV, ${opts.rounds} rounds, CACHE_POSITIVE_TTL_S=${opts.positiveTtlS} (set small for the run; default 60)`,
  );
  const started = performance.now();
  const results: string[] = [];
  let failed = 0;
  const summary: WindowSummary = {
    instances: opts.instances,
    rounds: opts.rounds,
    positive_ttl_s: opts.positiveTtlS,
    windows: [],
    checks: { passed: 0, failed: 0 },
  };
  const verdict = (ok: boolean, line: string) => {
    results.push(`${ok ? 'PASS' : 'FAIL'}  ${line}`);
    if (!ok) failed++;
  };
  try {
    const { dir, mainPath, project, emulator } = await startStack(root, cleanup, 'window');
    const caller = await callerCredential({ issuer: ISSUER, audience: AUDIENCE, sub: CALLER });
    // One set of secrets for all: the same CACHE_PEPPER, or the instances' KV keys would differ.
    const bindings: Record<string, string> = {
      ...localSecrets(root, project, emulator.emulator.apps()),
      GHES_BASE_URL: `${emulator.url}/api/v3`,
      CACHE_POSITIVE_TTL_S: String(opts.positiveTtlS),
      CALLER_ISSUER: ISSUER,
      CALLER_AUDIENCE: AUDIENCE,
      CALLER_JWKS: caller.jwks,
      CALLER_JWKS_URL: '',
      CALLER_POLICY: JSON.stringify({
        [CALLER]: { apps: ['*'], operations: ['check', 'delete'], default_app: OAUTH },
      }),
    };
    const kvPersist = join(dir, 'kv');
    const gateways: RunningGateway[] = [];
    for (let i = 0; i < opts.instances; i++) {
      const gateway = await startGateway({ mainPath, project, bindings, kvPersist });
      cleanup.add(`stop gateway ${i}`, () => gateway.dispose());
      gateways.push(gateway);
    }
    const w: World = { emulator, gateways, jwt: caller.jwt, windows: new Map(), errors: [] };
    console.log(`window: shared KV verified (${await sharedKv(w)})`);
    const setupS = (performance.now() - started) / 1000;

    const revocations: Record<Path, number> = { gateway: 0, webhook: 0 };
    for (let r = 0; r < opts.rounds; r++) {
      const path: Path = r % 2 === 0 ? 'gateway' : 'webhook';
      const revoker = Math.floor(r / 2) % opts.instances;
      emulator.emulator.configure({
        webhook_url: `${gateways[revoker]?.url}/webhooks/github/{app}`,
      });
      await round(w, opts, path, revoker);
      revocations[path] += 2;
    }
    console.log(
      `window: setup ${setupS.toFixed(1)} s, rounds ${((performance.now() - started) / 1000 - setupS).toFixed(1)} s; revocations: ${revocations.gateway} token deletes through the gateway, ${revocations.webhook} GHES revocations by webhook`,
    );

    const ttlBound = opts.positiveTtlS * 1000 + REQUEST_SLACK_MS;
    const bounds: Record<Relation, number> = {
      'same, L1 held': 0,
      'other, L1 held': ttlBound,
      'other, cold': 0,
    };
    console.log('window: longest active answer after the revocation was answered, per kind:');
    for (const path of ['gateway', 'webhook'] as const) {
      for (const rel of RELATIONS) {
        const win = w.windows.get(`${path} / ${rel}`);
        if (win === undefined || win.checksAfter === 0) {
          verdict(false, `${path} / ${rel}: never checked after a revocation`);
          continue;
        }
        const line = `${path.padEnd(7)} / ${rel.padEnd(14)}: ${Math.round(win.maxMs)
          .toString()
          .padStart(
            5,
          )} ms (bound ${bounds[rel]} ms; ${win.activeAfter} active of ${win.checksAfter} checks after revocation)`;
        console.log(`  ${line}`);
        verdict(win.maxMs <= bounds[rel], line);
        summary.windows.push({
          path,
          relation: rel,
          max_ms: Math.round(win.maxMs),
          bound_ms: bounds[rel],
          active_after: win.activeAfter,
          checks_after: win.checksAfter,
        });
      }
    }
    verdict(
      w.errors.length === 0,
      `every check answered 200 or 404${w.errors.length > 0 ? `: ${w.errors.join('; ')}` : ''}`,
    );
  } catch (e) {
    verdict(false, `setup and run: ${errorText(e)}`);
  }
  await cleanup.runAll();
  for (const line of results) console.log(line);
  summary.checks = { passed: results.length - failed, failed };
  if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify(summary, null, 2) + '\n');
  console.log(
    `${failed === 0 ? 'PASS' : 'FAIL'}: revocation windows ${failed === 0 ? 'within' : 'NOT within'} their bounds (${results.length - failed} passed, ${failed} failed)`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`window failed: ${errorText(e)}`);
    console.log('FAIL');
    process.exit(1);
  },
);
