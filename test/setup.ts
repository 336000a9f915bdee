/**
 * Every test file:
 * - unmocked outbound requests fail the test. Code under test receives an injected `fetch`
 *   (usually routed into the GHES emulator); anything that reaches the global `fetch` instead is
 *   a bug in the test or the code;
 * - reading the wall clock or waiting on a real timer fails the test
 *   (test/helpers/wall-clock-guard.ts): time is always the injected virtual clock.
 */
import { afterEach, beforeEach } from 'vitest';
import { installWallClockGuard, takeWallClockUses } from './helpers/wall-clock-guard';

installWallClockGuard();

const realFetch = globalThis.fetch;

/** Module scope, `beforeAll` and the test body alike: no wall clock anywhere in a test file. */
function failOnWallClock(): void {
  const uses = takeWallClockUses();
  if (uses.length > 0) {
    const lines = [...new Set(uses.map((u) => `${u.what} at ${u.where}`))];
    throw new Error(
      `this test read the wall clock or waited on a real timer; inject a clock (test/helpers/clock.ts):\n  ${lines.join('\n  ')}`,
    );
  }
}

beforeEach(() => {
  failOnWallClock();
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    const url = input instanceof Request ? input.url : String(input);
    throw new Error(`unexpected outbound request in a test: ${new URL(url).origin}`);
  }) as typeof fetch;
});

afterEach(() => {
  globalThis.fetch = realFetch;
  failOnWallClock();
});
