/**
 * The seed policy every property relies on (test/helpers/fast-check.ts): without FC_SEED the
 * suite's properties generate the same cases on every run, and FC_SEED / FC_RUNS are checked
 * instead of silently ignored.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED, SEED, parseRuns, parseSeed, propertyPlan } from './fast-check';

describe('fast-check seed policy', () => {
  it('every fc.assert in a test file runs on the suite seed (test/fast-check.setup.ts)', () => {
    expect(fc.readConfigureGlobal().seed).toBe(SEED);
    // Same seed, same cases: two draws of an arbitrary agree, as two runs of the suite do.
    const arb = fc.tuple(fc.string({ minLength: 20 }), fc.nat(), fc.uuid());
    expect(fc.sample(arb, 10)).toEqual(fc.sample(arb, 10));
  });

  it('FC_SEED: unset is the fixed seed, an integer replays it, "random" draws a 32-bit one', () => {
    expect(parseSeed('')).toBe(DEFAULT_SEED);
    expect(parseSeed('42')).toBe(42);
    expect(parseSeed('-2003347847')).toBe(-2003347847);
    const drawn = parseSeed('random');
    expect(drawn).toBe(drawn | 0);
  });

  it.each(['abc', '1.5', '4294967296', '-2147483649', ' 1', '0x10', '1e3'])(
    'FC_SEED=%j is refused with a message naming it',
    (raw) => {
      expect(() => parseSeed(raw)).toThrow(/^FC_SEED must be a 32-bit integer or "random"/);
    },
  );

  it('FC_RUNS: unset keeps each property’s count; anything but a positive integer is refused', () => {
    expect(parseRuns('')).toBeUndefined();
    expect(parseRuns('500')).toBe(500);
    for (const raw of ['0', '-1', 'many', '2.5', '10000000']) {
      expect(() => parseRuns(raw), raw).toThrow(/^FC_RUNS must be a positive integer/);
    }
  });

  it('a plan budgets its runs plus room to shrink, and passes the seed to fc.assert', () => {
    const plan = propertyPlan(40, 300);
    expect(plan.params.seed).toBe(SEED);
    expect(plan.params.numRuns).toBe(plan.numRuns);
    expect(plan.timeoutMs).toBe((plan.numRuns + 100) * 300);
  });
});
