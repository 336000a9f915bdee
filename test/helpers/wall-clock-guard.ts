/**
 * Fails any test that reads the wall clock or waits on a real timer, from test code or from
 * src/ (a default that should have been injected). Tests run on virtual time
 * (test/helpers/clock.ts); a test that depends on the real clock rots with the calendar (the
 * caller JWT minted on the fixed clock and verified on the real one went red on 2026-11-21).
 *
 * Watched: `Date.now()`, `new Date()` without arguments, `performance.now()`, `setTimeout` /
 * `setInterval` with a delay, `AbortSignal.timeout`, `scheduler.wait`. A call counts when some
 * frame of its stack is this project's code (vitest's and libraries' own timers do not).
 * `setTimeout(fn, 0)` is a yield, not a wait, and is allowed.
 */

export interface WallClockUse {
  what: string;
  where: string;
}

const uses: WallClockUse[] = [];
let allowed = 0;

/**
 * The first frame of this project's code. `direct`: only if it is the immediate caller (a clock
 * read by a library on its own account, such as fast-check's default seed, is not ours); else any
 * frame (a real timer a library sets for the test, such as `vi.waitFor`'s, still makes it wait).
 */
function projectFrame(stack: string, direct: boolean): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+\.[cm]?[jt]s):\d+:\d+\)?$/.exec(line.trim());
    if (m === null) continue;
    const file = m[1] as string;
    if (file.endsWith('wall-clock-guard.ts')) continue;
    if (!file.includes('/node_modules/')) return line.trim();
    if (direct) return undefined;
  }
  return undefined;
}

function note(what: string, direct = false): void {
  if (allowed > 0) return;
  const where = projectFrame(new Error().stack ?? '', direct);
  if (where !== undefined) uses.push({ what, where });
}

/** Runs `fn` with the guard off: only for tests of the real clock itself (src/lib/clock.ts). */
export async function withWallClock<T>(fn: () => Promise<T> | T): Promise<T> {
  allowed++;
  try {
    return await fn();
  } finally {
    allowed--;
  }
}

/** What was seen since the last call, and forget it. */
export function takeWallClockUses(): WallClockUse[] {
  return uses.splice(0);
}

let installed = false;

export function installWallClockGuard(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, unknown>;

  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const GuardedDate = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      if (args.length === 0) note('new Date()', true);
      return Reflect.construct(target, args, newTarget) as object;
    },
    apply(target, thisArg, args) {
      note('Date()', true);
      return Reflect.apply(target, thisArg, args) as string;
    },
    get(target, prop, receiver) {
      if (prop === 'now')
        return function now(): number {
          note('Date.now()', true);
          return realNow();
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  g['Date'] = GuardedDate;

  const perf = g['performance'] as { now: () => number } | undefined;
  if (perf !== undefined) {
    const realPerfNow = perf.now.bind(perf);
    perf.now = function now(): number {
      note('performance.now()', true);
      return realPerfNow();
    };
  }

  const realSetTimeout = globalThis.setTimeout;
  g['setTimeout'] = function setTimeout(handler: unknown, delay?: number, ...rest: unknown[]) {
    if (typeof delay === 'number' && delay > 0) note(`setTimeout(…, ${delay})`);
    return (realSetTimeout as (...a: unknown[]) => unknown)(handler, delay, ...rest);
  };
  const realSetInterval = globalThis.setInterval;
  g['setInterval'] = function setInterval(handler: unknown, delay?: number, ...rest: unknown[]) {
    note(`setInterval(…, ${delay ?? 0})`);
    return (realSetInterval as (...a: unknown[]) => unknown)(handler, delay, ...rest);
  };

  const realTimeout = AbortSignal.timeout.bind(AbortSignal);
  AbortSignal.timeout = function timeout(ms: number): AbortSignal {
    note(`AbortSignal.timeout(${ms})`);
    return realTimeout(ms);
  };

  const scheduler = g['scheduler'] as { wait?: (ms: number) => Promise<void> } | undefined;
  if (scheduler?.wait !== undefined) {
    const realWait = scheduler.wait.bind(scheduler);
    scheduler.wait = function wait(ms: number): Promise<void> {
      note(`scheduler.wait(${ms})`);
      return realWait(ms);
    };
  }
}
