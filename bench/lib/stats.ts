/** Small, dependency-free statistics used by the harness. */

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Percentile by the nearest-rank method on an already sorted array (no interpolation, so the
 * value reported is one that was actually observed).
 */
export function percentileSorted(sorted: Float64Array | readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of an empty list');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Growable float buffer: the load generator records every response time without boxing. */
export class Samples {
  private buf = new Float64Array(1 << 16);
  private n = 0;

  push(value: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = value;
  }

  get length(): number {
    return this.n;
  }

  sorted(): Float64Array {
    return this.buf.slice(0, this.n).sort();
  }
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
