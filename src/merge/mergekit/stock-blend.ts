// mergekit `model_stock`'s element-wise end (ModelStockMergeTask.execute once t is known): per
// element of row r, t_r·mean_t θ_t + (1 − t_r)·θ₀. CPU twin of the GPU program
// src/gpu/programs/stock-blend.ts (shaders/merge/stock_blend.wgsl): the tasks' sum in task order
// from +0, its quotient by N, 1 − t_r, both products and their sum each round to f32 in this order,
// never fused, so both give the same bits. t_r comes from the cosines (./kernels modelStockInput).

const fr = Math.fround;

export interface StockBlendInput {
  readonly base: Float32Array;
  /** θ_t per task, task order, in f32. */
  readonly tasks: readonly Float32Array[];
  /** Elements per row (the whole tensor, or its last dimension with `filter_wise`). */
  readonly row: number;
  /** t per row, f32. */
  readonly t: Float32Array;
  /** Where element 0 lies in its row, t[0]'s (0 but for a GPU tile handed back to the twin). */
  readonly first?: number;
}

export function stockBlend(x: StockBlendInput): Float32Array {
  const n = x.base.length;
  const numTasks = x.tasks.length;
  const avg = new Float32Array(n);
  for (const task of x.tasks) for (let i = 0; i < n; i++) avg[i] = (avg[i] as number) + (task[i] as number);
  for (let i = 0; i < n; i++) avg[i] = (avg[i] as number) / numTasks;
  const out = new Float32Array(n);
  for (let r = 0, start = -(x.first ?? 0); start < n; r++, start += x.row) {
    const t = x.t[r] as number;
    const rest = fr(1 - t);
    const end = Math.min(n, start + x.row);
    for (let i = Math.max(0, start); i < end; i++)
      out[i] = fr(t * (avg[i] as number)) + fr(rest * (x.base[i] as number));
  }
  return out;
}
