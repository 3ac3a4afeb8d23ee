// Turns a tensor's masks (or τ_uni's sign) into a grid of cells to draw: one cell per element
// when the tensor fits the cell budget, else square blocks of elements averaged together.
import type { MaskImage, ViewMode } from './protocol';

/** How a tensor is laid out in 2-D: matrices as they are, ≥3-D as [dim0, rest], 1-D as a strip. */
export function view2d(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [1, shape[0] as number];
  const rows = shape[0] as number;
  return [rows, shape.slice(1).reduce((a, d) => a * d, 1)];
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

export function maskImage(
  src: MaskSource,
  mode: ViewMode,
  task: number,
  maxCells: number,
  otherTask = task,
): MaskImage {
  const [viewRows, viewCols] = view2d(src.shape);
  const [blockRows, blockCols] = blockSize(viewRows, viewCols, maxCells);
  const rows = Math.ceil(viewRows / blockRows);
  const cols = Math.ceil(viewCols / blockCols);
  const sums = new Float32Array(rows * cols);
  const counts = new Uint32Array(rows * cols);
  const words = Math.ceil(src.numel / 32);
  const bit = (t: number, i: number) => ((src.masks[t * words + (i >>> 5)] as number) >>> (i & 31)) & 1;
  const shown = mode === 'other-mask' ? otherTask : task;
  for (let i = 0; i < src.numel; i++) {
    const r = Math.floor(i / viewCols);
    const c = i - r * viewCols;
    const cell = Math.floor(r / blockRows) * cols + Math.floor(c / blockCols);
    let v: number;
    if (mode === 'sign') v = Math.sign(src.tauUni[i] as number);
    else if (mode === 'agreement') {
      let on = 0;
      for (let t = 0; t < src.numTasks; t++) on += bit(t, i);
      v = on / src.numTasks;
    } else v = bit(shown, i);
    sums[cell] = (sums[cell] as number) + v;
    counts[cell] = (counts[cell] as number) + 1;
  }
  for (let k = 0; k < sums.length; k++) sums[k] = (sums[k] as number) / Math.max(1, counts[k] as number);
  return {
    rows,
    cols,
    blockRows,
    blockCols,
    viewRows,
    viewCols,
    values: sums,
    mode,
    numTasks: src.numTasks,
  };
}

/** Ones in each task's mask of one tensor. */
export function maskOnes(masks: Uint32Array, numel: number, numTasks: number): number[] {
  const words = Math.ceil(numel / 32);
  return Array.from({ length: numTasks }, (_, t) => {
    let n = 0;
    for (let w = t * words; w < (t + 1) * words; w++) {
      let x = masks[w] as number;
      while (x) {
        x &= x - 1;
        n++;
      }
    }
    return n;
  });
}
