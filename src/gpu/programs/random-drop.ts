// DARE's random drops (mergekit's `random` sparsification, before the rescale) and DELLA's (with a
// probability per element from the CPU's ranks): GPU twin of `randomDrop`/`probabilityDrop` (CPU: src/merge/mergekit/sparsify.ts, CpuEngine.randomDrop), with the same
// counter-based words (src/merge/mergekit/rng.ts). WGSL: shaders/merge/random_drop.wgsl. A tile with
// NaN/±∞ in τ (the kernel's flag) is recomputed by the twin.
import randomDropWgsl from '../../../shaders/merge/random_drop.wgsl?raw';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import { stitch } from '../runtime/tiles';
import type { MergeContext } from './chunk';

const WORKGROUP_SIZE = 256;

function dropPass(tau: Float32Array, key: number, start: number, p: number | Float32Array): PassSpec {
  const n = tau.length;
  const params = new ArrayBuffer(32);
  const probs = typeof p === 'number' ? new Float32Array(1) : p;
  return {
    program: 'random-drop',
    label: 'random drop',
    code: randomDropWgsl,
    constants: { WORKGROUP_SIZE, PER_ELEMENT: +(typeof p !== 'number') },
    workgroups: Math.ceil(n / WORKGROUP_SIZE),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 4).set([n, key >>> 0, start, gx]);
      new Float32Array(params, 16, 1)[0] = typeof p === 'number' ? p : 0;
      return [
        uniform('params', params),
        input('tau', tau),
        output('out', n * 4),
        output('flag', 4, 'zero'),
        input('probs', probs),
      ];
    },
  };
}

/** `p`: DARE's density, or DELLA's probability per element. */
export async function randomDrop(
  ctx: MergeContext,
  tau: Float32Array,
  key: number,
  p: number | Float32Array,
): Promise<Float32Array> {
  const n = tau.length;
  if (n === 0) return ctx.twin.randomDrop(tau, key, p);
  const limit = ctx.rt.tileElements(4, 2048);
  const tiles = await ctx.rt.tiles(n, limit, async (start, end, slot) => {
    const part = tau.subarray(start, end);
    const r = await ctx.rt.run(
      dropPass(part, key, start, typeof p === 'number' ? p : p.subarray(start, end)),
      slot,
    );
    // The twin draws from index 0: a flagged tile is cut from the whole tensor's drop.
    if (r.u32('flag')[0]) return (await ctx.twin.randomDrop(tau, key, p)).subarray(start, end);
    return r.f32('out').slice();
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  return stitch(new Float32Array(n), tiles, (out) => out);
}
