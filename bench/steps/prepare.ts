/**
 * Step 4: the workers under miniflare (same settings for all), then each scenario's preflight,
 * which proves it measures what it claims before any load. A scenario whose preflight fails is
 * not run, with the reason.
 */
import type { Bundle, ProjectConfig } from '../lib/build';
import type { Emulator } from '../lib/emulator';
import { peerBindings } from '../lib/gateway-env';
import type { PartId } from '../lib/options';
import { freePort } from '../lib/profile';
import {
  baselineScenario,
  burstPreflight,
  emulatorDirectScenario,
  forwardAuthHitScenario,
  introspectHitScenario,
  introspectMissScenario,
  peerScenario,
  requiredWorkScenario,
  TokenPool,
  tokensNeeded,
  type Fixture,
  type LoadId,
  type LoadScenario,
} from '../lib/scenarios';
import { startWorker, type RunningWorker } from '../lib/workers';
import { startKvHost } from '../lib/remote-kv';
import type { Bundles } from './build';
import {
  preflightReason,
  say,
  stillWanted,
  wantsRequiredWork,
  wantsSampledGateway,
  type Context,
} from './context';
import type { Ghes } from './start-emulator';

export interface Prepared {
  /** The scenarios whose preflight passed, in the order they are run. */
  scenarios: LoadScenario[];
  /** The gateway worker of the L1-hit, forward-auth, miss and burst scenarios. */
  gatewayWorker: RunningWorker | undefined;
  /** Which worker serves each gateway scenario (for --profile). */
  profiled: Map<LoadId, RunningWorker>;
  burstReady: boolean;
}

/** The state one preparation builds up; `workers` is the caller's, which disposes of them. */
interface Prep extends Prepared {
  ctx: Context;
  project: ProjectConfig;
  workers: RunningWorker[];
  /** The KV host serving the gateways' KV (bench/lib/remote-kv.ts). */
  kvHost: string | undefined;
}

async function start(
  p: Prep,
  bundle: Bundle,
  env: Record<string, string>,
  inspect = false,
  kvHost?: string,
): Promise<RunningWorker> {
  const port = inspect ? await freePort() : undefined;
  const w = await startWorker(bundle, p.project, env, p.ctx.o.via, port, kvHost);
  p.workers.push(w);
  return w;
}

async function prepare(p: Prep, part: PartId, make: () => Promise<LoadScenario>): Promise<void> {
  if (!stillWanted(p.ctx, part)) return;
  try {
    p.scenarios.push(await make());
  } catch (e) {
    const reason = preflightReason(e);
    say(`${part} cannot run: ${reason}`);
    p.ctx.notRun.push({ scenario: part, reason });
  }
}

async function prepareBurst(p: Prep, f: Fixture, url: string, em: Emulator): Promise<void> {
  try {
    await burstPreflight(f, url, await em.mintTokens(f.app.name, 1).then((t) => t[0]!));
    p.burstReady = true;
  } catch (e) {
    const reason = preflightReason(e);
    say(`burst cannot run: ${reason}`);
    p.ctx.notRun.push({ scenario: 'burst', reason });
  }
}

/** introspect_miss, and its reference: the same requests straight to the emulator. */
async function prepareMiss(p: Prep, f: Fixture, url: string, em: Emulator): Promise<void> {
  let directPool: TokenPool | undefined;
  await prepare(p, 'introspect_miss', async () => {
    // Prove the route first, with one token; only then mint the pools.
    await introspectMissScenario(f, url, new TokenPool(await em.mintTokens(f.app.name, 1)));
    const n = tokensNeeded(p.ctx.o);
    say(`minting 2 × ${n} fresh tokens for introspect_miss and its emulator reference`);
    const gatewayPool = new TokenPool(await em.mintTokens(f.app.name, n));
    directPool = new TokenPool(await em.mintTokens(f.app.name, n));
    return introspectMissScenario(f, url, gatewayPool);
  });
  if (!p.scenarios.some((s) => s.id === 'introspect_miss') || directPool === undefined) return;
  try {
    p.scenarios.push(await emulatorDirectScenario(f, em, directPool));
  } catch (e) {
    p.ctx.notRun.push({
      scenario: 'introspect_miss',
      reason: `emulator reference: ${(e as Error).message}`,
    });
    p.scenarios.splice(
      p.scenarios.findIndex((s) => s.id === 'introspect_miss'),
      1,
    );
  }
}

/**
 * The scenarios served by one gateway worker with its L1 cache on; and the `*_sampled` ones,
 * the same requests to a second gateway worker, from the same bundle, env and KV but with
 * LOG_SAMPLE_HITS=1. Prepared (hence run, each round) right after their unsampled counterparts.
 */
async function prepareGateway(p: Prep, gateway: Bundle, env: Record<string, string>, ghes: Ghes) {
  const { ctx } = p;
  const em = ghes.emulator!;
  const f = ghes.fixture;
  const parts: PartId[] = ['introspect_hit', 'forward_auth_hit', 'introspect_miss', 'burst'];
  const wanted = (ps: PartId[]) => ps.some((part) => ctx.wants(part));
  const w = wanted(parts) ? await start(p, gateway, env, ctx.o.profile, p.kvHost) : undefined;
  const sampledEnv = { ...env, LOG_SAMPLE_HITS: '1' };
  const sampled = wantsSampledGateway(ctx)
    ? await start(p, gateway, sampledEnv, ctx.o.profile, p.kvHost)
    : undefined;
  if (w !== undefined) {
    p.gatewayWorker = w;
    for (const id of ['introspect_hit', 'forward_auth_hit', 'introspect_miss'] as const)
      p.profiled.set(id, w);
    await prepare(p, 'introspect_hit', () => introspectHitScenario('introspect_hit', f, w.url, em));
  }
  if (sampled !== undefined) {
    for (const id of ['introspect_hit_sampled', 'forward_auth_hit_sampled'] as const)
      p.profiled.set(id, sampled);
    await prepare(p, 'introspect_hit_sampled', () =>
      introspectHitScenario('introspect_hit_sampled', f, sampled.url, em),
    );
  }
  if (w !== undefined)
    await prepare(p, 'forward_auth_hit', () =>
      forwardAuthHitScenario('forward_auth_hit', f, w.url, em),
    );
  if (sampled !== undefined)
    await prepare(p, 'forward_auth_hit_sampled', () =>
      forwardAuthHitScenario('forward_auth_hit_sampled', f, sampled.url, em),
    );
  if (w === undefined) return;
  if (ctx.wants('burst')) await prepareBurst(p, f, w.url, em);
  if (ctx.wants('introspect_miss')) await prepareMiss(p, f, w.url, em);
}

/** introspect_kv_hit: a second gateway worker with its L1 cache off, so every hit is from KV. */
async function prepareKvHit(p: Prep, gateway: Bundle, env: Record<string, string>, ghes: Ghes) {
  const l1Off = { ...env, CACHE_L1_MAX_ENTRIES: '0' };
  const w = await start(p, gateway, l1Off, p.ctx.o.profile, p.kvHost);
  p.profiled.set('introspect_kv_hit', w);
  await prepare(p, 'introspect_kv_hit', () =>
    introspectHitScenario('introspect_kv_hit', ghes.fixture, w.url, ghes.emulator!),
  );
}

export async function prepareScenarios(
  ctx: Context,
  project: ProjectConfig,
  bundles: Bundles,
  ghes: Ghes,
  workers: RunningWorker[],
): Promise<Prepared> {
  const p: Prep = {
    ctx,
    project,
    workers,
    scenarios: [],
    gatewayWorker: undefined,
    profiled: new Map(),
    burstReady: false,
    kvHost: undefined,
  };
  const { emulator, gatewayEnv, fixture } = ghes;
  if (bundles.baseline !== undefined && ctx.wants('baseline')) {
    const w = await start(p, bundles.baseline, {});
    await prepare(p, 'baseline', async () => baselineScenario(fixture, w.url));
  }
  if (emulator !== undefined && gatewayEnv !== undefined && bundles.gateway !== undefined) {
    if (project.kvBindings.length > 0 && ctx.o.kv === 'host') {
      const host = await startKvHost(project.compatibilityDate);
      ctx.cleanup.push(host.dispose);
      p.kvHost = host.url;
    }
    await prepareGateway(p, bundles.gateway, gatewayEnv, ghes);
    if (ctx.wants('introspect_kv_hit')) await prepareKvHit(p, bundles.gateway, gatewayEnv, ghes);
  }
  if (bundles.required !== undefined && wantsRequiredWork(ctx)) {
    const w = await start(p, bundles.required, {
      REQUIRED_CALLER_JWT: fixture.callerJwt,
      REQUIRED_TOKEN: fixture.token,
    });
    for (const id of ['required_introspect', 'required_forward_auth'] as const)
      if (ctx.wants(id)) await prepare(p, id, () => requiredWorkScenario(id, fixture, w.url));
  }
  if (emulator !== undefined && bundles.peer !== undefined && ctx.wants('peer')) {
    const w = await start(p, bundles.peer, peerBindings(emulator.apiBase, fixture.app));
    await prepare(p, 'peer', () => peerScenario(fixture, w.url));
  }
  const { scenarios, gatewayWorker, profiled, burstReady } = p;
  return { scenarios, gatewayWorker, profiled, burstReady };
}

/**
 * Stops the workers: before the probes that need a quiet machine, and (`atExit`, errors ignored)
 * whatever is left when the run ends.
 */
export async function stopWorkers(workers: RunningWorker[], atExit = false): Promise<void> {
  for (const w of workers.splice(0))
    await (atExit ? w.dispose().catch(() => undefined) : w.dispose());
}
