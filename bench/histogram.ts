/** Latencies in microseconds, kept as counts: constant memory however many are recorded. */
const FINE_US = 10; // 10 µs buckets up to 100 ms
const FINE_BUCKETS = 10_000;
const COARSE_US = 1000; // then 1 ms buckets up to 10 s
const COARSE_BUCKETS = 9_900;

export class Histogram {
  private readonly counts = new Float64Array(FINE_BUCKETS + COARSE_BUCKETS + 1);
  private total = 0;
  max = 0;

  record(micros: number): void {
    const value = Math.max(0, micros);
    const fine = Math.floor(value / FINE_US);
    const index =
      fine < FINE_BUCKETS ? fine : Math.min(FINE_BUCKETS + Math.floor((value - FINE_BUCKETS * FINE_US) / COARSE_US), this.counts.length - 1);
    this.counts[index]!++;
    this.total++;
    if (value > this.max) this.max = value;
  }

  /** The upper bound of the bucket holding the p-th percentile, in microseconds. */
  percentile(p: number): number {
    let seen = 0;
    const wanted = (this.total * p) / 100;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= wanted && seen > 0) {
        return i < FINE_BUCKETS ? (i + 1) * FINE_US : FINE_BUCKETS * FINE_US + (i - FINE_BUCKETS + 1) * COARSE_US;
      }
    }
    return this.max;
  }
}
