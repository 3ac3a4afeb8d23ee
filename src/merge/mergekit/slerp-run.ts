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

/** An engine's program for the element-wise step (MergeEngine.combine2); without, the CPU function. */
export type CombineStep = (f: Combine2, v0: Float32Array, v1: Float32Array) => Promise<Float32Array>;

/**
 * One tensor of the SLERP family. slerp's a·v0 + b·v1, and nuslerp's (÷ sin θ) where the tensor is
 * one vector (`nuslerp_flatten`, the default, or a 1-D tensor), run on `combine`; nuslerp's rows
 * (one factor set per vector, here on the CPU) and multislerp's chain of whole-vector steps do not.
 */
export async function slerpTensorOf(
  spec: MergekitSpec,
  a: TensorArgs,
  combine: CombineStep = (f, v0, v1) => Promise.resolve(combine2(f, v0, v1)),
): Promise<Float32Array> {
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
      const r =
        vectors.length === 1
          ? await combine(nuslerpFactors(t, d0, d1, vectors[0] as number[]), d0, d1)
          : nuslerpTensor(t, d0, d1, a.shape, spec.rowWise, spec.flatten);
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
