// Turns a tensor's masks (or τ_uni's sign) into a grid of cells to draw: one cell per element
// when the tensor fits the cell budget, else square blocks of elements averaged together.
import type { MaskImage, ViewMode } from './protocol';

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

export interface MaskSource {
  readonly shape: readonly number[];
  readonly numel: number;
  readonly numTasks: number;
  /** Every task's packed mask, task t at t·⌈numel/32⌉ words; bit i & 31 of word i >> 5. */
  readonly masks: Uint32Array;
  readonly tauUni: Float32Array;
}

/** Elements [first, first + count) of a tensor: the mask words of the tasks needed, τ_uni for 'sign'. */
export interface MaskBand {
  /** A multiple of 32, so mask words line up. */
  readonly first: number;
  readonly count: number;
  /** Task t's words for the band, where the mode needs task t. */
  readonly masks: ReadonlyMap<number, Uint32Array>;
  readonly tauUni?: Float32Array;
}

/** The tasks whose masks a mode reads (τ_uni alone for 'sign'). */
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
      if (mode === 'sign') v = Math.sign(band.tauUni?.[j] as number);
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

/** The image of a tensor whose masks and τ_uni are at hand whole (one band). */
export function maskImage(
  src: MaskSource,
  mode: ViewMode,
  task: number,
  maxCells: number,
  otherTask = task,
): MaskImage {
  const builder = new MaskImageBuilder(src.shape, src.numTasks, mode, task, maxCells, otherTask);
  const words = Math.ceil(src.numel / 32);
  const masks = new Map(
    tasksNeeded(mode, task, src.numTasks, otherTask).map(
      (t) => [t, src.masks.subarray(t * words, (t + 1) * words)] as const,
    ),
  );
  builder.add({ first: 0, count: src.numel, masks, tauUni: src.tauUni });
  return builder.finish();
}

/** Ones in each task's mask of one tensor (src/flow/mask-ones.ts, shared with the summary). */
export { maskOnes } from '../../src/flow/mask-ones';
