// How the model set maps onto mergekit's SLERP family (the set's base is the recipe's base_model,
// its tasks the other models, in order): SlerpTask.execute interpolates from the base to the one
// other model; NuSlerpTask.execute takes two models, their offsets from the base when there is one;
// multislerp takes every model, less the base when there is one.
import type { TensorArgs } from './kernels';
import {
  multislerpTensor,
  nuslerpFactors,
  nuslerpT,
  nuslerpTensor,
  nuslerpVectors,
  slerpFactors,
} from './slerp';
import { combine2, type Combine2 } from './slerp-mix';
import type { MergeEngine } from '../engine';
import type { MergekitSpec, ModelParams } from './spec';

export class SlerpSetError extends RangeError {
  override readonly name = 'SlerpSetError';
}

/** Refuses a set with the wrong number of models for the method, as mergekit does. */
export function checkSlerpSet(spec: MergekitSpec, numTasks: number): void {
  if (spec.name === 'slerp' && numTasks !== 1)
    throw new SlerpSetError(
      `slerp interpolates between the base model and exactly one other; the set has ${numTasks} other models`,
    );
  if (spec.name === 'nuslerp' && numTasks !== 2)
    throw new SlerpSetError(
      `nuslerp interpolates between exactly two models (plus an optional base); the set has ${numTasks}`,
    );
}

/** An engine's programs for the element-wise steps; without them, the CPU functions. */
export type SlerpSteps = Pick<MergeEngine, 'combine2' | 'combineRows'>;

/**
 * One tensor of the SLERP family. slerp's a·v0 + b·v1 and nuslerp's (÷ sin θ) run on the engine's
 * `combine2` where the tensor is one vector (`nuslerp_flatten`, the default, or a 1-D tensor), on
 * its `combineRows` with one factor set per row along the last dimension; nuslerp's vectors along
 * dim 0 (`nuslerp_row_wise`, strided) and multislerp's chain of whole-vector steps stay here.
 */
export async function slerpTensorOf(
  spec: MergekitSpec,
  a: TensorArgs,
  steps?: SlerpSteps,
): Promise<Float32Array> {
  const combine = (f: Combine2, v0: Float32Array, v1: Float32Array) =>
    steps?.combine2 ? steps.combine2(f, v0, v1) : Promise.resolve(combine2(f, v0, v1));
  const weight = (t: number) => (a.params[t] as ModelParams).weight;
  const [v0, v1] = a.tasks as [Float32Array, Float32Array];
  switch (spec.name) {
    case 'slerp':
      return combine(slerpFactors(spec.t, a.base, v0), a.base, v0);
    case 'nuslerp': {
      const t = nuslerpT(weight(0), weight(1));
      const n = a.base.length;
      let [d0, d1] = [v0, v1];
      if (spec.useBase) {
        [d0, d1] = [new Float32Array(n), new Float32Array(n)];
        for (let i = 0; i < n; i++) {
          d0[i] = (v0[i] as number) - (a.base[i] as number);
          d1[i] = (v1[i] as number) - (a.base[i] as number);
        }
      }
      const vectors = nuslerpVectors(n, a.shape, spec.rowWise, spec.flatten);
      let r: Float32Array;
      if (vectors.length === 1) r = await combine(nuslerpFactors(t, d0, d1, vectors[0] as number[]), d0, d1);
      else if (!spec.rowWise && steps?.combineRows) {
        // Rows along the last dimension, contiguous: (a, b, sin θ or 1) per row, four floats a row.
        const factors = new Float32Array(vectors.length * 4);
        vectors.forEach((idx, k) => {
          const f = nuslerpFactors(t, d0, d1, idx);
          factors.set([f.a, f.b, f.divide ?? 1], k * 4);
        });
        r = await steps.combineRows({ v0: d0, v1: d1, row: (vectors[0] as number[]).length, factors });
      } else r = nuslerpTensor(t, d0, d1, a.shape, spec.rowWise, spec.flatten);
      if (spec.useBase) for (let i = 0; i < n; i++) r[i] = (a.base[i] as number) + (r[i] as number);
      return r;
    }
    case 'multislerp':
      return multislerpTensor(
        a.tasks,
        a.tasks.map((_, t) => weight(t)),
        spec.useBase ? a.base : undefined,
        spec.normalizeWeights,
        spec.eps,
      );
    default:
      throw new SlerpSetError(`${spec.name} is no spherical interpolation`);
  }
}
