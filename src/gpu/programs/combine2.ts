// The element-wise step of mergekit's slerp, nuslerp and lerps, a·v0 + b·v1 (÷ divide): GPU twin
// of `combine2` (CPU: src/merge/mergekit/slerp-mix.ts, CpuEngine.combine2). WGSL:
// shaders/merge/combine2.wgsl. The factors come from the whole-vector pass on the CPU (slerp.ts
// `slerpFactors`, `nuslerpFactors`); factors outside the exact range or a divisor that is not a
// normal f32 send the call to the twin, an input out of range or a quotient leaving the normal
// range (the kernel's flag) its tile. `combineRows` is the same kernel with one factor set per row
// (nuslerp's vectors along the last dimension; twin `combineRows`), checked in the kernel per row.
import combine2Wgsl from '../../../shaders/merge/combine2.wgsl?raw';
import type { Combine2, CombineRowsInput } from '../../merge/mergekit/slerp-mix';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import { stitch } from '../runtime/tiles';
import { lambdaInRange, mergeShader, type MergeContext } from './chunk';

const WORKGROUP_SIZE = 256;
const code = mergeShader(combine2Wgsl);

function combinePass(f: Combine2, v0: Float32Array, v1: Float32Array): PassSpec {
  const n = v0.length;
  const params = new ArrayBuffer(32);
  return {
    program: 'combine2',
    label: 'slerp combine',
    code,
    constants: { WORKGROUP_SIZE, DIVIDE: +(f.divide !== undefined) },
    workgroups: Math.ceil(n / WORKGROUP_SIZE),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 2).set([n, gx]);
      new Float32Array(params, 8, 3).set([f.a, f.b, f.divide ?? 1]);
      return [
        uniform('params', params),
        input('v0', v0),
        input('v1', v1),
        output('out', n * 4),
        output('flag', 4, 'zero'),
        input('factors', NO_FACTORS),
      ];
    },
  };
}

/** ROWS 0 reads no factors; the binding still needs a buffer. */
const NO_FACTORS = new Float32Array(4);

/** A divisor div_any_rn takes: none, or a normal f32 (the kernel checks each quotient). */
function divisorInRange(d: number | undefined): boolean {
  if (d === undefined) return true;
  const x = Math.abs(Math.fround(d));
  return x >= 2 ** -126 && x < Infinity;
}

export async function combine2(
  ctx: MergeContext,
  f: Combine2,
  v0: Float32Array,
  v1: Float32Array,
): Promise<Float32Array> {
  const n = v0.length;
  if (n === 0 || !divisorInRange(f.divide) || !lambdaInRange(f.a) || !lambdaInRange(f.b))
    return ctx.twin.combine2(f, v0, v1);
  const limit = ctx.rt.tileElements(4, 2048);
  const tiles = await ctx.rt.tiles(n, limit, async (start, end, slot) => {
    const [a, b] = [v0.subarray(start, end), v1.subarray(start, end)];
    const r = await ctx.rt.run(combinePass(f, a, b), slot);
    return r.u32('flag')[0] ? ctx.twin.combine2(f, a, b) : r.f32('out').slice();
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  return stitch(new Float32Array(n), tiles, (out) => out);
}

/** Elements [start, end) of a per-row combine: views, and the factors of the rows it meets. */
function cutRows(x: CombineRowsInput, start: number, end: number): CombineRowsInput & { first: number } {
  const at = start + (x.first ?? 0); // within x's first row
  const firstRow = Math.floor(at / x.row);
  return {
    v0: x.v0.subarray(start, end),
    v1: x.v1.subarray(start, end),
    row: x.row,
    factors: x.factors.subarray(firstRow * 4, (Math.floor((at + end - start - 1) / x.row) + 1) * 4),
    first: at - firstRow * x.row,
  };
}

function rowsPass(x: CombineRowsInput & { first: number }): PassSpec {
  const n = x.v0.length;
  const params = new ArrayBuffer(32);
  return {
    program: 'combine2',
    label: 'nuslerp combine per row',
    code,
    constants: { WORKGROUP_SIZE, DIVIDE: 1, ROWS: 1 },
    workgroups: Math.ceil(n / WORKGROUP_SIZE),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 2).set([n, gx]);
      new Uint32Array(params, 20, 2).set([x.row, x.first]);
      return [
        uniform('params', params),
        input('v0', x.v0),
        input('v1', x.v1),
        output('out', n * 4),
        output('flag', 4, 'zero'),
        input('factors', x.factors),
      ];
    },
  };
}

/**
 * nuslerp's step with one factor set per row (the twin `combineRows`): each tile takes the rows it
 * meets; a row's factors out of the exact range (checked in the kernel) send its tile to the twin.
 */
export async function combineRows(ctx: MergeContext, x: CombineRowsInput): Promise<Float32Array> {
  const n = x.v0.length;
  if (n === 0) return ctx.twin.combineRows(x);
  // Rows of 1–3 elements make the factors (16 bytes a row) the largest binding.
  const limit = ctx.rt.tileElements(16, 2048);
  const tiles = await ctx.rt.tiles(n, limit, async (start, end, slot) => {
    const part = cutRows(x, start, end);
    const r = await ctx.rt.run(rowsPass(part), slot);
    return r.u32('flag')[0] ? ctx.twin.combineRows(part) : r.f32('out').slice();
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  return stitch(new Float32Array(n), tiles, (out) => out);
}
