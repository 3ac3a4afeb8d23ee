// mergekit `model_stock`'s element-wise end: GPU twin of `stockBlend` (CPU:
// src/merge/mergekit/stock-blend.ts, CpuEngine.stockBlend). WGSL: shaders/merge/task_sum.wgsl and shaders/merge/stock_blend.wgsl.
// The per-row t comes from the cosines, computed on the CPU (mergekit/kernels.ts
// `modelStockInput`); the mean of the tasks and the blend with the base run here. Each tile takes
// (t_r, 1 − t_r) for the rows it meets; a factor or an input out of the exact range (the kernel's
// flag) sends the tile to the twin, more tasks than the kernels take the call.
import stockBlendWgsl from '../../../shaders/merge/stock_blend.wgsl?raw';
import taskSumWgsl from '../../../shaders/merge/task_sum.wgsl?raw';
import type { StockBlendInput } from '../../merge/mergekit/stock-blend';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import { stitch } from '../runtime/tiles';
import { mergeShader, MAX_GPU_TASKS, packedTasks, type MergeContext } from './chunk';

const WORKGROUP_SIZE = 256;
const code = mergeShader(taskSumWgsl + stockBlendWgsl);

/** Elements [start, end) of a blend: its base and tasks (views), and t of the rows it meets. */
function cut(x: StockBlendInput, start: number, end: number): StockBlendInput & { first: number } {
  const at = start + (x.first ?? 0); // within x's first row
  const firstRow = Math.floor(at / x.row);
  return {
    base: x.base.subarray(start, end),
    tasks: x.tasks.map((t) => t.subarray(start, end)),
    row: x.row,
    t: x.t.subarray(firstRow, Math.floor((at + end - start - 1) / x.row) + 1),
    first: at - firstRow * x.row,
  };
}

function blendPass(x: StockBlendInput & { first: number }): PassSpec {
  const n = x.base.length;
  const { tasks, stride } = packedTasks(x.tasks);
  const params = new ArrayBuffer(32);
  // (t_r, 1 − t_r) per row: 1 − t rounded to f32 here, as the twin rounds it.
  const factors = new Float32Array(x.t.length * 2);
  x.t.forEach((t, r) => factors.set([t, Math.fround(1 - t)], r * 2));
  return {
    program: 'stock-blend',
    label: 'model stock blend',
    code,
    constants: { WORKGROUP_SIZE },
    workgroups: Math.ceil(n / WORKGROUP_SIZE),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 6).set([n, x.tasks.length, stride, gx, x.row, x.first]);
      return [
        uniform('params', params),
        input('base', x.base),
        tasks,
        input('factors', factors),
        output('out', n * 4),
        output('flag', 4, 'zero'),
      ];
    },
  };
}

export async function stockBlend(ctx: MergeContext, x: StockBlendInput): Promise<Float32Array> {
  const n = x.base.length;
  if (n === 0 || x.tasks.length === 0 || x.tasks.length > MAX_GPU_TASKS) return ctx.twin.stockBlend(x);
  // The packed tasks (4 bytes a task) or, for rows of one element, the factors (8) are the largest binding.
  const limit = ctx.rt.tileElements(Math.max(8, 4 * x.tasks.length), 2048);
  const tiles = await ctx.rt.tiles(n, limit, async (start, end, slot) => {
    const part = cut(x, start, end);
    const r = await ctx.rt.run(blendPass(part), slot);
    return r.u32('flag')[0] ? ctx.twin.stockBlend(part) : r.f32('out').slice();
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  return stitch(new Float32Array(n), tiles, (out) => out);
}
