// TIES' per-task |τ| thresholds, found exactly by a two-level radix select over the engine's histograms.
import { pass } from './chunk-pass';
import type { MergeEngine } from './engine';
import type { MergeOptions } from './merge-result';
import type { ModelSet } from './model-set';
import type { ChunkPlan } from './scheduler';

/**
 * Each task's TIES threshold: the value of the (d − ⌊d·k⌋)-th smallest |τ_t| over all shared
 * elements (d of them), so that |τ_t| ≥ threshold keeps the top k — the reference's kthvalue rule.
 * Found exactly by a two-level radix select over the f32 bits, each level one streaming pass.
 */
export async function tiesThresholds(
  set: ModelSet,
  k: number,
  engine: MergeEngine,
  plan: readonly ChunkPlan[],
  options: MergeOptions,
  overlap: boolean,
): Promise<Float32Array> {
  const histograms: HistogramPasses = {
    high: async (high) => {
      await pass(plan, 'histogram', options, overlap, (_p, input) =>
        engine.absHistogram(input, 0, undefined, high),
      );
    },
    low: async (prefix, low) => {
      await pass(plan, 'threshold', options, overlap, (_p, input) =>
        engine.absHistogram(input, 1, prefix, low),
      );
    },
  };
  return radixSelectThresholds(set.tasks.length, set.report.sharedParameters, k, histograms);
}

/** The two streaming passes a radix select reads: |τ_t|'s high 16 bits, then the low 16 under a prefix. */
export interface HistogramPasses {
  /** Fills `high` (N × 65 536 counts) with every task's |τ| bits' high halves. */
  high(high: Uint32Array): Promise<void>;
  /** Fills `low` with the low halves of the elements whose high half is task t's `prefix[t]`. */
  low(prefix: Uint32Array, low: Uint32Array): Promise<void>;
}

/**
 * Each task's threshold keeping its top `keep` of `d` elements by |τ|: the value of the
 * (d − ⌊d·keep⌋)-th smallest |τ_t|, found exactly from the f32 bits — the high 16 bits' bin
 * holding that rank, then the low 16 bits' within it (two passes, whatever the model's size).
 */
export async function radixSelectThresholds(
  numTasks: number,
  d: number,
  keep: number,
  histograms: HistogramPasses,
): Promise<Float32Array> {
  const rank = d - Math.floor(d * keep); // 1-based rank of the threshold among ascending |τ|
  const thresholds = new Float32Array(numTasks);
  if (rank < 1) return thresholds; // keep everything
  const high = new Uint32Array(numTasks * 65536);
  await histograms.high(high);
  const prefix = new Uint32Array(numTasks);
  const below = new Float64Array(numTasks); // elements in bins under the chosen one
  for (let t = 0; t < numTasks; t++) {
    const [bin, before] = findRank(high.subarray(t * 65536, (t + 1) * 65536), rank);
    prefix[t] = bin;
    below[t] = before;
  }
  const low = new Uint32Array(numTasks * 65536);
  await histograms.low(prefix, low);
  const bits = new Uint32Array(thresholds.buffer);
  for (let t = 0; t < numTasks; t++) {
    const [bin] = findRank(low.subarray(t * 65536, (t + 1) * 65536), rank - (below[t] as number));
    bits[t] = (((prefix[t] as number) << 16) | bin) >>> 0;
  }
  return thresholds;
}

/** The bin holding the `rank`-th smallest element (1-based), and how many elements lie in earlier bins. */
function findRank(counts: Uint32Array, rank: number): [number, number] {
  let seen = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    const c = counts[bin] as number;
    if (seen + c >= rank) return [bin, seen];
    seen += c;
  }
  throw new Error(`rank ${rank} is past the ${seen} counted elements`);
}
