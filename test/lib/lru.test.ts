import { describe, expect, it } from 'vitest';
import { Lru } from '../../src/lib/lru';

describe('Lru', () => {
  it('never holds more than maxEntries, evicting the least recently used', () => {
    const lru = new Lru<number>(3);
    for (let i = 0; i < 30; i++) {
      lru.set(`k${i}`, i);
      expect(lru.size).toBeLessThanOrEqual(3);
    }
    expect(lru.peek('k26')).toBeUndefined();
    expect([lru.peek('k27'), lru.peek('k28'), lru.peek('k29')]).toEqual([27, 28, 29]);
  });

  it('get refreshes recency, peek does not', () => {
    const lru = new Lru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.peek('b')).toBeUndefined();
    expect(lru.peek('a')).toBe(1);
    expect(lru.peek('a')).toBe(1);
    lru.set('d', 4);
    expect(lru.peek('a')).toBeUndefined();
  });

  it('replacing a key does not grow it', () => {
    const lru = new Lru<number>(2);
    lru.set('a', 1);
    lru.set('a', 2);
    expect(lru.size).toBe(1);
    expect(lru.get('a')).toBe(2);
  });

  it('0 disables it', () => {
    const lru = new Lru<number>(0);
    lru.set('a', 1);
    expect(lru.size).toBe(0);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.enabled).toBe(false);
  });

  it('deleteWhere removes exactly the matching entries', () => {
    const lru = new Lru<number>(10);
    for (let i = 0; i < 10; i++) lru.set(`k${i}`, i);
    expect(lru.deleteWhere((v) => v % 2 === 0)).toBe(5);
    expect(lru.size).toBe(5);
    expect(lru.peek('k2')).toBeUndefined();
    expect(lru.peek('k3')).toBe(3);
  });

  it('rejects a bad bound', () => {
    expect(() => new Lru(-1)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
  });
});
