/**
 * Step 3: the GHES emulator in a child process with a fixed added latency, the caller key and
 * JWT, a token, and the gateway's bindings pointing at the emulator.
 */
import { startGhesEmulator, type Emulator, type EmulatorApp } from '../lib/emulator';
import { createCaller, gatewayBindings, pickApp, type Caller } from '../lib/gateway-env';
import type { PartId } from '../lib/options';
import type { Fixture } from '../lib/scenarios';
import { GATEWAY_PARTS, GHES_VERSION, root, say, skip, type Context } from './context';

export interface Ghes {
  /** Absent when no wanted part needs it or it failed to start (those parts are then not run). */
  emulator: Emulator | undefined;
  caller: Caller;
  fixture: Fixture;
  /** The gateway's bindings against the emulator (absent without it). */
  gatewayEnv: Record<string, string> | undefined;
}

/** The app and token stand-ins when there is no emulator (the baseline needs neither). */
interface Credentials {
  app: EmulatorApp;
  token: string;
}

async function launch(
  ctx: Context,
  needers: readonly PartId[],
  creds: Credentials,
): Promise<Emulator | undefined> {
  const { o } = ctx;
  say(`starting the GHES emulator (version ${GHES_VERSION}, +${o.latencyMs} ms)`);
  try {
    const started = await startGhesEmulator(root, {
      version: GHES_VERSION,
      latencyMs: o.latencyMs,
    });
    if (!started.ok) {
      say(`GHES emulator unavailable: ${started.reason}`);
      skip(ctx, needers, `needs the GHES emulator, which is unavailable: ${started.reason}`);
      return undefined;
    }
    const emulator = started.emulator;
    ctx.cleanup.push(() => emulator.close());
    creds.app = pickApp(await emulator.apps());
    await emulator.setLatency(0);
    creds.token = await emulator.mintToken(creds.app.name, 'bench-user');
    await emulator.setLatency(o.latencyMs);
    return emulator;
  } catch (e) {
    const reason = `the GHES emulator failed to start: ${(e as Error).message}`;
    say(reason);
    skip(ctx, needers, reason);
    return undefined;
  }
}

export async function startEmulator(ctx: Context): Promise<Ghes> {
  // The caller key and a placeholder app exist even without the emulator, for the baseline.
  const caller = await createCaller();
  const creds: Credentials = {
    app: {
      name: 'demo-oauth',
      client_id: 'Iv1.0000000000000000',
      client_secret: 'unused',
      kind: 'oauth_app',
    },
    token: `gho_${'0'.repeat(36)}`,
  };
  const needers = [...GATEWAY_PARTS, 'peer' as const].filter((p) => ctx.wants(p));
  const emulator = needers.length > 0 ? await launch(ctx, needers, creds) : undefined;
  const { app, token } = creds;
  const gatewayEnv =
    emulator === undefined
      ? undefined
      : gatewayBindings({ ghesBaseUrl: emulator.apiBase, ghesVersion: GHES_VERSION, app, caller });
  return {
    emulator,
    caller,
    fixture: { options: ctx.o, app, callerJwt: caller.jwt, token },
    gatewayEnv,
  };
}
