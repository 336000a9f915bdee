/** The virtual clock every test runs on (test/helpers/clock.ts), and settleWithin over it. */
import { describe, expect, it } from 'vitest';
import { settleWithin } from '../../src/lib/clock';
import { TestClock, until, yieldTurns } from '../helpers/clock';

describe('TestClock', () => {
  it('fires timeouts when time reaches them, in order, and never early', () => {
    const clock = new TestClock(1000);
    const a = clock.timeout(50);
    const b = clock.timeout(20);
    clock.advanceMs(19);
    expect([a.aborted, b.aborted]).toEqual([false, false]);
    clock.advanceMs(1);
    expect([a.aborted, b.aborted]).toEqual([false, true]);
    expect((b.reason as DOMException).name).toBe('TimeoutError');
    clock.advanceMs(30);
    expect(a.aborted).toBe(true);
    expect(clock.now()).toBe(1050);
  });

  it('sleep moves time at once, fires timers due on the way, and records the wait', async () => {
    const clock = new TestClock(0);
    const t = clock.timeout(10);
    await clock.sleep(25);
    expect(t.aborted).toBe(true);
    expect(clock.now()).toBe(25);
    expect(clock.sleeps).toEqual([25]);
  });

  it('a sleep cut short by its signal ends at the abort, not at its own end', async () => {
    const clock = new TestClock(0);
    await expect(clock.elapse(5000, clock.timeout(100))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(clock.now()).toBe(100);
    expect(clock.sleeps).toEqual([]);
  });

  it('a hang runs time until its signal aborts; without a timer it stays pending', async () => {
    const clock = new TestClock(0);
    const other = clock.timeout(30);
    await expect(clock.sleep(Number.POSITIVE_INFINITY, clock.timeout(70))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(other.aborted).toBe(true);
    expect(clock.now()).toBe(70);
    let settled = false;
    const controller = new AbortController();
    const hang = clock.sleep(Number.POSITIVE_INFINITY, controller.signal);
    void hang.catch(() => undefined).finally(() => (settled = true));
    await yieldTurns();
    expect(settled).toBe(false);
    controller.abort(new Error('released'));
    await expect(hang).rejects.toThrow('released');
  });

  it('refuses to move backwards', () => {
    expect(() => new TestClock(0).advanceMs(-1)).toThrow(RangeError);
  });
});

describe('settleWithin', () => {
  it('answers with the promise when it settles first, with the fallback once time is up', async () => {
    const clock = new TestClock(0);
    await expect(settleWithin(clock, Promise.resolve('v'), 10, 'late')).resolves.toBe('v');
    let result: string | undefined;
    void settleWithin(clock, new Promise<string>(() => undefined), 10, 'late').then(
      (r) => (result = r),
    );
    clock.advanceMs(9);
    await yieldTurns();
    expect(result).toBeUndefined();
    clock.advanceMs(1);
    await until(() => result !== undefined);
    expect(result).toBe('late');
  });
});
