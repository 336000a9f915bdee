/**
 * Step 6b: the gateway's per-request cost inside one isolate, no HTTP (bench/lib/hot-path.ts),
 * against the emulator: the loops must be cache hits, so a GHES call during them fails the probe.
 */
import type { ProjectConfig } from '../lib/build';
import { hotModes, measureHotPath } from '../lib/hot-path';
import { median, round } from '../lib/stats';
import type { Bundles } from './build';
import { say, skip, stillWanted, type Context } from './context';
import type { Ghes } from './start-emulator';

export async function hotPathProbe(
  ctx: Context,
  project: ProjectConfig,
  { gateway, required }: Bundles,
  { emulator, gatewayEnv, fixture }: Ghes,
): Promise<void> {
  if (!stillWanted(ctx, 'hot_path')) return;
  if (gateway === undefined || gatewayEnv === undefined || emulator === undefined) return;
  const { hotPathRounds: rounds, hotPathRequests: n } = ctx.o;
  say(
    `hot path inside one isolate: ${rounds} rounds × ${n} requests of ${hotModes(required !== undefined).join(', ')}`,
  );
  try {
    const { timings: t, calls } = await measureHotPath({
      bundle: gateway,
      required,
      project,
      bindings: gatewayEnv,
      callerJwt: fixture.callerJwt,
      token: fixture.token,
      app: fixture.app.name,
      rounds,
      requests: n,
      ghesCalls: () => emulator.settledCheckCalls(),
    });
    const f = ctx.figures;
    f.hot_hello_us = round(median(t.hello), 2);
    f.hot_introspect_us = round(median(t.introspect), 2);
    f.hot_forward_auth_us = round(median(t.forward_auth), 2);
    f.hot_introspect_sampled_us = round(median(t.introspect_sampled), 2);
    f.hot_introspect_sampled_min_us = round(Math.min(...t.introspect_sampled), 2);
    f.hot_hello_min_us = round(Math.min(...t.hello), 2);
    f.hot_introspect_min_us = round(Math.min(...t.introspect), 2);
    f.hot_forward_auth_min_us = round(Math.min(...t.forward_auth), 2);
    f.hot_introspect_calls = calls.introspect?.total ?? null;
    f.hot_forward_auth_calls = calls.forward_auth?.total ?? null;
    f.hot_required_introspect_calls = calls.required_introspect?.total ?? null;
    f.hot_required_forward_auth_calls = calls.required_forward_auth?.total ?? null;
    for (const [mode, c] of Object.entries(calls))
      say(`runtime calls, ${mode}: ${c.total} (${c.detail})`);
    if (required !== undefined) {
      f.hot_required_introspect_us = round(median(t.required_introspect), 2);
      f.hot_required_introspect_min_us = round(Math.min(...t.required_introspect), 2);
      f.hot_required_forward_auth_us = round(median(t.required_forward_auth), 2);
      f.hot_required_forward_auth_min_us = round(Math.min(...t.required_forward_auth), 2);
    }
    say(
      `hot path: hello ${f.hot_hello_us} µs, introspect ${f.hot_introspect_us} µs (hit lines sampled at 1 %: ${f.hot_introspect_sampled_us} µs), forward auth ${f.hot_forward_auth_us} µs per request (medians)` +
        (required === undefined
          ? ''
          : `; the required work alone: introspection ${f.hot_required_introspect_us} µs, forward auth ${f.hot_required_forward_auth_us} µs`),
    );
  } catch (e) {
    const reason = `hot path failed: ${(e as Error).message}`;
    say(reason);
    skip(ctx, ['hot_path'], reason);
  }
}
