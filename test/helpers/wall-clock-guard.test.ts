/**
 * The guard that keeps every test off the wall clock (test/setup.ts) really sees each way of
 * reading it or waiting on it, from test code and from src/ defaults alike.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock';
import { takeWallClockUses, withWallClock } from './wall-clock-guard';

/** Runs `fn`, returns what the guard saw, and clears it so this test itself stays green. */
function seen(fn: () => void): string[] {
  takeWallClockUses();
  fn();
  return takeWallClockUses().map((u) => u.what);
}

describe('the wall-clock guard', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['Date.now()', () => Date.now(), /^Date\.now\(\)$/],
    ['new Date()', () => new Date(), /^new Date\(\)$/],
    ['Date()', () => Date(), /^Date\(\)$/],
    ['performance.now()', () => performance.now(), /^performance\.now\(\)$/],
    ['setTimeout with a delay', () => clearTimeout(setTimeout(() => undefined, 10)), /setTimeout/],
    ['setInterval', () => clearInterval(setInterval(() => undefined, 10)), /setInterval/],
    ['AbortSignal.timeout', () => AbortSignal.timeout(10), /AbortSignal\.timeout\(10\)/],
    ['the real clock of src/ (a default left in place)', () => systemClock.now(), /Date\.now/],
    ['a real timer of src/', () => systemClock.timeout(10), /AbortSignal\.timeout/],
  ])('sees %s', (_name, use, expected) => {
    const uses = seen(() => void use());
    expect(uses).toHaveLength(1);
    expect(uses[0]).toMatch(expected);
  });

  it('lets through what is not a clock read or a wait', () => {
    expect(
      seen(() => {
        void new Date(0);
        void Date.UTC(2026, 0, 1);
        void Date.parse('2026-01-01T00:00:00Z');
        clearTimeout(setTimeout(() => undefined, 0));
      }),
    ).toEqual([]);
  });

  it('withWallClock switches it off, only for tests of the real clock itself', async () => {
    takeWallClockUses();
    const t = await withWallClock(() => systemClock.now());
    expect(Number.isFinite(t)).toBe(true);
    expect(takeWallClockUses()).toEqual([]);
  });
});
