// Turns a tensor's masks (or a sign) into a grid of cells to draw: one cell per element when the
// tensor fits the cell budget, else square blocks of elements averaged together. One builder for
// every mask method: each supplies, band by band, task t's mask words and what 'sign' draws
// (EMR: τ_uni; TALL masks and Consensus: τ_MTL; T-Switch: task t's sign bits where kept).
import type { MaskImage, ViewMode } from './protocol';

/** Elements read at a time for a mask image (a multiple of 32). */
export const MASK_IMAGE_BAND = 1 << 22;

/**
 * How a tensor is laid out in 2-D, its unit dimensions dropped first (a ViT's pos_embed [1, 17, 64]
 * is the 17 × 64 matrix it holds, not a 1 × 1088 strip): matrices as they are, ≥3-D as [dim0, rest],
 * 1-D as a strip.
 */
export function view2d(shape: readonly number[]): [number, number] {
  const dims = shape.filter((d) => d !== 1);
  if (dims.length === 0) return [1, 1];
  if (dims.length === 1) return [1, dims[0] as number];
  const rows = dims[0] as number;
  return [rows, dims.slice(1).reduce((a, d) => a * d, 1)];
}

/** Smallest square block (b × b elements, capped by each axis) so the grid has ≤ maxCells cells. */
export function blockSize(rows: number, cols: number, maxCells: number): [number, number] {
  if (rows * cols <= maxCells) return [1, 1];
  let b = Math.max(1, Math.floor(Math.sqrt((rows * cols) / maxCells)));
  while (Math.ceil(rows / Math.min(b, rows)) * Math.ceil(cols / b) > maxCells) b++;
  return [Math.min(b, rows), b];
}

/**
 * One tensor's masks, read a band at a time (they may be spilled to disk or in a bundle). Bands
 * start at a multiple of 32 elements, so mask words line up: bit i & 31 of word i >> 5.
 */
export interface MaskSource {
  readonly shape: readonly number[];
  readonly numel: number;
  readonly numTasks: number;
  /** Task t's mask words for elements [first, first + count). */
  masks(task: number, first: number, count: number): Uint32Array | Promise<Uint32Array>;
  /** What 'sign' draws for `task` over elements [first, first + count): its sign, one value an element. */
  signs(task: number, first: number, count: number): Float32Array | Promise<Float32Array>;
}

/** Elements [first, first + count) of a tensor: the mask words of the tasks needed, the signs for 'sign'. */
export interface MaskBand {
  /** A multiple of 32, so mask words line up. */
  readonly first: number;
  readonly count: number;
  /** Task t's words for the band, where the mode needs task t. */
  readonly masks: ReadonlyMap<number, Uint32Array>;
  readonly signs?: Float32Array;
}

/** The tasks whose masks a mode reads (the signs alone for 'sign'). */
export function tasksNeeded(mode: ViewMode, task: number, numTasks: number, otherTask = task): number[] {
  if (mode === 'sign') return [];
  if (mode === 'agreement') return Array.from({ length: numTasks }, (_, t) => t);
  return [mode === 'other-mask' ? otherTask : task];
}

/**
 * Pools a tensor into the grid band by band, so a tensor larger than memory (an LLM's embedding, its
 * values spilled to disk) is drawn from pieces: only the grid is kept whole.
 */
export class MaskImageBuilder {
  private readonly viewRows: number;
  private readonly viewCols: number;
  private readonly blockRows: number;
  private readonly blockCols: number;
  private readonly rows: number;
  private readonly cols: number;
  private readonly sums: Float32Array<ArrayBuffer>;
  private readonly counts: Uint32Array;

  constructor(
    shape: readonly number[],
    private readonly numTasks: number,
    private readonly mode: ViewMode,
    private readonly task: number,
    maxCells: number,
    private readonly otherTask = task,
  ) {
    [this.viewRows, this.viewCols] = view2d(shape);
    [this.blockRows, this.blockCols] = blockSize(this.viewRows, this.viewCols, maxCells);
    this.rows = Math.ceil(this.viewRows / this.blockRows);
    this.cols = Math.ceil(this.viewCols / this.blockCols);
    this.sums = new Float32Array(this.rows * this.cols);
    this.counts = new Uint32Array(this.rows * this.cols);
  }

  add(band: MaskBand): void {
    const { mode, viewCols, blockRows, blockCols, cols, sums, counts } = this;
    const needed = tasksNeeded(mode, this.task, this.numTasks, this.otherTask);
    const words = needed.map((t) => band.masks.get(t) as Uint32Array);
    const shown = words[0] as Uint32Array;
    for (let j = 0; j < band.count; j++) {
      const i = band.first + j;
      const r = Math.floor(i / viewCols);
      const c = i - r * viewCols;
      const cell = Math.floor(r / blockRows) * cols + Math.floor(c / blockCols);
      let v: number;
      if (mode === 'sign') v = Math.sign(band.signs?.[j] as number);
      else if (mode === 'agreement') {
        let on = 0;
        for (const w of words) on += ((w[j >>> 5] as number) >>> (j & 31)) & 1;
        v = on / this.numTasks;
      } else v = ((shown[j >>> 5] as number) >>> (j & 31)) & 1;
      sums[cell] = (sums[cell] as number) + v;
      counts[cell] = (counts[cell] as number) + 1;
    }
  }

  finish(): MaskImage {
    const { sums, counts } = this;
    for (let k = 0; k < sums.length; k++) sums[k] = (sums[k] as number) / Math.max(1, counts[k] as number);
    return {
      rows: this.rows,
      cols: this.cols,
      blockRows: this.blockRows,
      blockCols: this.blockCols,
      viewRows: this.viewRows,
      viewCols: this.viewCols,
      values: sums,
      mode: this.mode,
      numTasks: this.numTasks,
    };
  }
}

/** A tensor's image for one request, read from its source band by band (`band` a multiple of 32). */
export async function maskImage(
  src: MaskSource,
  mode: ViewMode,
  task: number,
  maxCells: number,
  otherTask = task,
  band = MASK_IMAGE_BAND,
): Promise<MaskImage> {
  const builder = new MaskImageBuilder(src.shape, src.numTasks, mode, task, maxCells, otherTask);
  const needed = tasksNeeded(mode, task, src.numTasks, otherTask);
  for (let first = 0; first < src.numel; first += band) {
    const count = Math.min(band, src.numel - first);
    const masks = new Map<number, Uint32Array>();
    for (const t of needed) masks.set(t, await src.masks(t, first, count));
    const signs = mode === 'sign' ? await src.signs(task, first, count) : undefined;
    builder.add({ first, count, masks, ...(signs ? { signs } : {}) });
  }
  return builder.finish();
}

/**
 * A source over packed masks in memory: mask j at j·⌈numel/32⌉ words, task t's mask `maskOf(t)`
 * (TALL masks and T-Switch: its own; Consensus: the one every task shares).
 */
export function packedSource(p: {
  readonly shape: readonly number[];
  readonly numel: number;
  readonly numTasks: number;
  readonly masks: Uint32Array;
  readonly maskOf?: (task: number) => number;
  readonly signs: MaskSource['signs'];
}): MaskSource {
  const words = Math.ceil(p.numel / 32);
  const maskOf = p.maskOf ?? ((t: number) => t);
  return {
    shape: p.shape,
    numel: p.numel,
    numTasks: p.numTasks,
    masks: (t, first, count) => {
      const at = maskOf(t) * words + first / 32;
      return p.masks.subarray(at, at + Math.ceil(count / 32));
    },
    signs: p.signs,
  };
}

/**
 * T-Switch's sign for task t over a band: −1 where kept with its sign bit on, +1 where kept with
 * it off, 0 where dropped (keep and sign packed as its masks, task t at t·⌈numel/32⌉ words).
 */
export function keptSigns(
  keep: Uint32Array,
  sign: Uint32Array,
  numel: number,
  task: number,
  first: number,
  count: number,
): Float32Array {
  const at = task * Math.ceil(numel / 32);
  const out = new Float32Array(count);
  for (let j = 0; j < count; j++) {
    const w = at + ((first + j) >>> 5);
    const b = (first + j) & 31;
    if (((keep[w] as number) >>> b) & 1) out[j] = ((sign[w] as number) >>> b) & 1 ? -1 : 1;
  }
  return out;
}

/** Ones in each task's mask of one tensor (src/flow/mask-ones.ts, shared with the summary). */
export { maskOnes } from '../../src/flow/mask-ones';
