/**
 * Issue 12 §1: a stale positive can never overwrite a revocation. Three gateway instances (three
 * isolates: each its own build, L1 and clock) share one Workers KV namespace and one GHES. A
 * check on A whose GHES answer arrives late (GHES said 200 before the delete, the answer lands
 * after it) must not bring a token deleted through B back to life anywhere: not on a third
 * instance C reading KV, and not on A itself once its KV write has run.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { until } from '../helpers/clock';
import { introspect } from '../introspection/requests';

const OAUTH = 'demo-oauth';
const CHECK = `/v1/apps/${OAUTH}/token/check`;
const DELETE = `/v1/apps/${OAUTH}/token/delete`;

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function isCheck(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  const url = new URL(input instanceof Request ? input.url : String(input));
  return (init?.method ?? 'GET') === 'POST' && url.pathname.endsWith('/token');
}

async function active(gw: TestGateway, t: string): Promise<boolean> {
  const res = await introspect(gw, { token: t });
  expect(res.status).toBe(200);
  return ((await res.json()) as { active: boolean }).active;
}

/**
 * A: its next GHES check is answered by GHES at once, but the answer reaches the gateway only
 * when `late` opens. B and C: plain instances on A's GHES. All three: one pepper, one KV.
 */
async function instances(opts: { aL1MaxEntries?: number } = {}) {
  const pepper = `race-pepper-${crypto.randomUUID()}`;
  let late: Gate | undefined;
  let a: TestGateway | undefined;
  a = await createTestGateway({
    vars: {
      CACHE_PEPPER: pepper,
      ...(opts.aL1MaxEntries !== undefined && {
        CACHE_L1_MAX_ENTRIES: String(opts.aL1MaxEntries),
      }),
    },
    upstream: async (input, init) => {
      const held = late;
      if (held === undefined || !isCheck(input, init)) return undefined;
      late = undefined;
      const res = await a!.emulator.fetch(input, init); // GHES answers while the token is live
      await held.promise; // ... and the answer arrives after the delete
      return res;
    },
  });
  const ghes = a.emulator;
  // Same GHES, same app secrets (the emulator draws them at random), same pepper and KV.
  const shared = {
    vars: {
      CACHE_PEPPER: pepper,
      ...Object.fromEntries(
        a.apps.map((app) => [
          `${app.name.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`,
          app.client_secret,
        ]),
      ),
    },
    startMs: a.clock.now(),
    upstream: (input: RequestInfo | URL, init: RequestInit | undefined) => ghes.fetch(input, init),
  };
  const b = await createTestGateway(shared);
  const c = await createTestGateway(shared);
  const holdNextCheck = (): Gate => (late = gate());
  return { a, b, c, ghes, holdNextCheck };
}

describe('a check answered after a delete on another instance', () => {
  it('cannot write its positive over the revocation: no instance answers active afterwards', async () => {
    const { a, b, c, ghes, holdNextCheck } = await instances();
    const t = ghes.createToken({ app: OAUTH, login: 'octocat' }).token;

    const late = holdNextCheck();
    const checking = a.post(CHECK, { access_token: t });
    await until(() => ghes.calls().check === 1); // GHES said 200; the answer is on its way

    expect((await b.post(DELETE, { access_token: t })).status).toBe(204);
    await b.settle();
    expect(ghes.state.tokens.has(t)).toBe(false);

    late.open();
    // A's own answer was given concurrently with the delete; either answer is linearizable.
    await checking;
    await a.settle(); // A's KV work (the write of its positive, today) runs to completion

    const checksBefore = ghes.calls().check;
    expect(await active(c, t)).toBe(false); // C reads KV: the revocation, not A's positive
    expect(await active(b, t)).toBe(false);
    expect(await active(a, t)).toBe(false); // A learnt of the revocation when it stored
    expect(ghes.calls().check).toBe(checksBefore); // all three from their caches
    // And still so later, when A's positive would have been fresh in KV.
    for (const gw of [a, b, c]) gw.clock.advance(30);
    expect(await active(c, t)).toBe(false);
  });

  it('an instance without L1 reads KV each time and never sees the late positive', async () => {
    const { a, b, ghes, holdNextCheck } = await instances({ aL1MaxEntries: 0 });
    const t = ghes.createToken({ app: OAUTH, login: 'octocat' }).token;

    const late = holdNextCheck();
    const checking = a.post(CHECK, { access_token: t });
    await until(() => ghes.calls().check === 1);
    expect((await b.post(DELETE, { access_token: t })).status).toBe(204);
    await b.settle();
    late.open();
    await checking;
    await a.settle();

    expect(await active(a, t)).toBe(false);
    a.clock.advance(45);
    expect(await active(a, t)).toBe(false);
  });
});
