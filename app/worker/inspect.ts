// The Inspect views' data from the result on screen: a tensor's mask image (band by band) and the
// |τ_uni| / |τ_t| histograms on log bins. Values are read by range: they may be spilled or in a bundle.
import { dtypeBytes, widenToF32, type MergeDType } from '../../src/formats/dtype';
import type { TensorName } from '../../src/formats/tensor';
import { maskWords } from '../../src/merge/cpu/kernels';
import { isEmr, type AnyMergeResult } from '../../src/merge/merge';
import { isPerTaskResult } from '../../src/merge/pertask/result';
import { addToHistogram, binEdges, logBins, maxAbs } from './histogram';
import { keptSigns, maskImage as imageOf, packedSource, type MaskSource } from './mask-image';
import type { Held } from './merging';
import type { Histogram, MaskImage, MaskImageRequest } from './protocol';

/** Elements of each tensor read back for the |τ_t| histograms. */
const SAMPLE_PER_TENSOR = 1 << 16;
/** τ_uni elements read at a time for the histogram. */
const HISTOGRAM_PIECE = 1 << 22;

/**
 * Where a tensor's masks come from, for every mask method (undefined for the others): EMR's τ_uni
 * and masks by range; TALL masks' and Consensus's packed masks (the one a task uses) and τ_MTL;
 * T-Switch's keep bits, and for 'sign' task t's sign bits where kept.
 */
export function maskSourceOf(result: AnyMergeResult, tensor: string): MaskSource | undefined {
  const shared = result.set.shared.find((s) => s.name === tensor);
  if (!shared) return undefined;
  const name = shared.name;
  const { shape, numel } = shared;
  const numTasks = result.set.tasks.length;
  if (isEmr(result)) {
    const { values } = result;
    return {
      shape,
      numel,
      numTasks,
      masks: (t, first, count) => values.mask(name, t, first / 32, maskWords(count)),
      signs: (_t, first, count) => values.tau(name, first, first + count),
    };
  }
  if (!isPerTaskResult(result)) return undefined;
  const m = result.modulator;
  if (m.kind === 'masked') {
    const tau = need(m.tau, name);
    return packedSource({
      shape,
      numel,
      numTasks,
      masks: need(m.masks, name),
      maskOf: (t) => m.maskOf[t] as number,
      signs: (_t, first, count) => tau.subarray(first, first + count),
    });
  }
  if (m.kind === 'switch') {
    const keep = need(m.keep, name);
    const sign = need(m.sign, name);
    return packedSource({
      shape,
      numel,
      numTasks,
      masks: keep,
      signs: (t, first, count) => keptSigns(keep, sign, numel, t, first, count),
    });
  }
  return undefined;
}

function need<V>(map: ReadonlyMap<TensorName, V>, name: TensorName): V {
  const v = map.get(name);
  if (v === undefined) throw new RangeError(`the result has no mask for tensor ${name}`);
  return v;
}

export async function maskImage(
  held: Held | undefined,
  req: MaskImageRequest,
): Promise<MaskImage | undefined> {
  const src = held && maskSourceOf(held.result, req.tensor);
  // Band by band (a multiple of 32 elements): only the grid is kept whole, whatever the tensor's size.
  return src && imageOf(src, req.mode, req.task, req.maxCells, req.otherTask);
}

/**
 * |τ_uni| and each task's |τ_t| on log bins. τ_uni is counted whole; τ_t needs the files again, so
 * each tensor contributes at most its first SAMPLE_PER_TENSOR elements — enough for the
 * distribution's shape without re-reading N full models.
 */
export async function histograms(held: Held | undefined): Promise<Histogram | undefined> {
  const result = held?.result;
  if (!held || !result || !isEmr(result)) return undefined;
  const { set } = result;
  // τ_uni a piece at a time, twice (the range first): it may be spilled to disk or in a bundle.
  const pieces = async function* () {
    for (const s of set.shared)
      for (let first = 0; first < s.numel; first += HISTOGRAM_PIECE)
        yield await result.values.tau(s.name, first, Math.min(s.numel, first + HISTOGRAM_PIECE));
  };
  let max = 0;
  for await (const tau of pieces()) max = maxAbs(tau, max);
  const bins = logBins(max);
  const tauUni: number[] = new Array<number>(bins.count).fill(0);
  let zerosUni = 0;
  for await (const tau of pieces()) zerosUni += addToHistogram(tau, bins, tauUni);
  // From a bundle the tasks' shared weights are not at hand: only τ_uni is shown then.
  const tasks: number[][] = [];
  const zeros: number[] = [];
  let sampled = false;
  if (held.summary.source === 'merge') {
    for (let t = 0; t < set.tasks.length; t++) {
      const counts = new Array<number>(bins.count).fill(0);
      let z = 0;
      for (const s of set.shared) {
        const n = Math.min(s.numel, SAMPLE_PER_TENSOR);
        sampled ||= n < s.numel;
        const entry = s.tasks[t] as (typeof s.tasks)[number];
        const read = (e: typeof entry) => e.data.read(0, n * dtypeBytes(e.dtype));
        const base = widenToF32(await read(s.base), s.base.dtype as MergeDType);
        const task = widenToF32(await read(entry), entry.dtype);
        for (let i = 0; i < n; i++) task[i] = (task[i] as number) - (base[i] as number);
        z += addToHistogram(task, bins, counts);
      }
      tasks.push(counts);
      zeros.push(z);
    }
  }
  return { log10Edges: binEdges(bins), tauUni, tasks, zeros: { tauUni: zerosUni, tasks: zeros }, sampled };
}
