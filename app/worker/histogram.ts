// Histograms of magnitudes on a log scale: weight deltas span many decades, so evenly spaced
// log10 bins show their shape where linear bins would put everything in the first one.

export interface LogBins {
  readonly lo: number; // log10 of the lowest edge
  readonly hi: number; // log10 of the highest edge
  readonly count: number;
}

/** Bins from max·10⁻⁶ to max; smaller non-zero values land in the first bin. */
export function logBins(max: number, count = 48, decades = 6): LogBins {
  const hi = max > 0 ? Math.log10(max) : 0;
  return { lo: hi - decades, hi, count };
}

export function binEdges(bins: LogBins): number[] {
  return Array.from({ length: bins.count + 1 }, (_, i) => bins.lo + ((bins.hi - bins.lo) * i) / bins.count);
}

/** Adds |values| into `counts`; returns how many were exactly zero (not binned). */
export function addToHistogram(values: ArrayLike<number>, bins: LogBins, counts: number[]): number {
  let zeros = 0;
  const scale = bins.count / (bins.hi - bins.lo);
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i] as number);
    if (a === 0 || Number.isNaN(a)) {
      zeros++;
      continue;
    }
    const k = Math.min(bins.count - 1, Math.max(0, Math.floor((Math.log10(a) - bins.lo) * scale)));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return zeros;
}

export function maxAbs(values: ArrayLike<number>, start = 0): number {
  let m = start;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i] as number);
    if (a > m) m = a;
  }
  return m;
}
