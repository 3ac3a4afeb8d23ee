// mergekit `linear`, element-wise: GPU twin of `linearMix` (CPU: src/merge/mergekit/linear-mix.ts,
// CpuEngine.linearMix). WGSL: shaders/merge/linear_mix.wgsl. The tasks go up as f32 (runMergekit
// has widened them), packed in one binding. Weights outside the exact range, more tasks than the
// kernels take, or a `normalize` divisor (Σ w) outside it send the call to the twin; an input out of
// range or a quotient leaving the normal range (the kernel's flag), its tile.
import linearMixWgsl from '../../../shaders/merge/linear_mix.wgsl?raw';
import { linearTotal, type LinearMixInput } from '../../merge/mergekit/linear-mix';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import { stitch } from '../runtime/tiles';
import { lambdaInRange, mergeShader, MAX_GPU_TASKS, packedTasks, type MergeContext } from './chunk';

const WORKGROUP_SIZE = 256;
const code = mergeShader(linearMixWgsl);

function linearMixPass(x: LinearMixInput, n: number): PassSpec {
  const { tasks, stride } = packedTasks(x.tasks);
  const params = new ArrayBuffer(32);
  const weights = Float32Array.from(x.weights);
  return {
    program: 'linear-mix',
    label: 'mergekit linear',
    code,
    constants: { WORKGROUP_SIZE, NORMALIZE: +x.normalize },
    workgroups: Math.ceil(n / WORKGROUP_SIZE),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 4).set([n, x.tasks.length, stride, gx]);
      new Float32Array(params, 16, 1)[0] = linearTotal(x.weights);
      return [
        uniform('params', params),
        tasks,
        input('weights', weights, Math.max(4, weights.byteLength)),
        output('out', n * 4),
        output('flag', 4, 'zero'),
      ];
    },
  };
}

/** Whether the kernel computes `x` exactly, as far as the host can tell before reading the inputs. */
function fits(x: LinearMixInput): boolean {
  if (x.tasks.length === 0 || x.tasks.length > MAX_GPU_TASKS || !x.weights.every(lambdaInRange)) return false;
  const total = linearTotal(x.weights);
  return !x.normalize || (total !== 0 && lambdaInRange(total));
}

export async function linearMix(ctx: MergeContext, x: LinearMixInput): Promise<Float32Array> {
  const n = x.tasks[0]?.length ?? 0;
  if (n === 0 || !fits(x)) return ctx.twin.linearMix(x);
  // One f32 word per task and element in the largest binding; tiles of whole 2048-element spans.
  const limit = ctx.rt.tileElements(4 * x.tasks.length, 2048);
  const tiles = await ctx.rt.tiles(n, limit, async (start, end, slot) => {
    const part = { ...x, tasks: x.tasks.map((t) => t.subarray(start, end)) };
    const r = await ctx.rt.run(linearMixPass(part, end - start), slot);
    return r.u32('flag')[0] ? ctx.twin.linearMix(part) : r.f32('out').slice();
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  return stitch(new Float32Array(n), tiles, (out) => out);
}
