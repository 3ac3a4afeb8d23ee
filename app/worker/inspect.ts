// The Inspect views' data from the result on screen: a tensor's mask image (band by band) and the
// |τ_uni| / |τ_t| histograms on log bins. Values are read by range: they may be spilled or in a bundle.
import { dtypeBytes, widenToF32, type MergeDType } from '../../src/formats/dtype';
import { maskWords } from '../../src/merge/cpu/kernels';
import { isEmr } from '../../src/merge/merge';
import { addToHistogram, binEdges, logBins, maxAbs } from './histogram';
import { MaskImageBuilder, tasksNeeded } from './mask-image';
import type { Held } from './merging';
import type { Histogram, MaskImage, MaskImageRequest } from './protocol';

/** Elements of each tensor read back for the |τ_t| histograms. */
const SAMPLE_PER_TENSOR = 1 << 16;
/** Elements read at a time for a mask image (a multiple of 32). */
const MASK_IMAGE_BAND = 1 << 22;
/** τ_uni elements read at a time for the histogram. */
const HISTOGRAM_PIECE = 1 << 22;

export async function maskImage(
  held: Held | undefined,
  req: MaskImageRequest,
): Promise<MaskImage | undefined> {
  const result = held?.result;
  if (!result || !isEmr(result)) return undefined;
  const shared = result.set.shared.find((s) => s.name === req.tensor);
  if (!shared) return undefined;
  // Band by band (a multiple of 32 elements): only the grid is kept whole, whatever the tensor's size.
  const numTasks = result.set.tasks.length;
  const builder = new MaskImageBuilder(
    shared.shape,
    numTasks,
    req.mode,
    req.task,
    req.maxCells,
    req.otherTask,
  );
  const needed = tasksNeeded(req.mode, req.task, numTasks, req.otherTask);
  for (let first = 0; first < shared.numel; first += MASK_IMAGE_BAND) {
    const count = Math.min(MASK_IMAGE_BAND, shared.numel - first);
    const masks = new Map<number, Uint32Array>();
    for (const t of needed)
      masks.set(t, await result.values.mask(shared.name, t, first / 32, maskWords(count)));
    const tauUni =
      req.mode === 'sign' ? await result.values.tau(shared.name, first, first + count) : undefined;
    builder.add({ first, count, masks, ...(tauUni ? { tauUni } : {}) });
  }
  return builder.finish();
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
