// How the model set maps onto mergekit's SLERP family (the set's base is the recipe's base_model,
// its tasks the other models, in order): SlerpTask.execute interpolates from the base to the one
// other model; NuSlerpTask.execute takes two models, their offsets from the base when there is one;
// multislerp takes every model, less the base when there is one.
import type { TensorArgs } from './kernels';
import { multislerpTensor, nuslerpT, nuslerpTensor, slerpTensor } from './slerp';
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

export function slerpTensorOf(spec: MergekitSpec, a: TensorArgs): Float32Array {
  const weight = (t: number) => (a.params[t] as ModelParams).weight;
  const [v0, v1] = a.tasks as [Float32Array, Float32Array];
  switch (spec.name) {
    case 'slerp':
      return slerpTensor(spec.t, a.base, v0);
    case 'nuslerp': {
      const t = nuslerpT(weight(0), weight(1));
      if (!spec.useBase) return nuslerpTensor(t, v0, v1, a.shape, spec.rowWise, spec.flatten);
      const n = a.base.length;
      const d0 = new Float32Array(n);
      const d1 = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        d0[i] = (v0[i] as number) - (a.base[i] as number);
        d1[i] = (v1[i] as number) - (a.base[i] as number);
      }
      const r = nuslerpTensor(t, d0, d1, a.shape, spec.rowWise, spec.flatten);
      for (let i = 0; i < n; i++) r[i] = (a.base[i] as number) + (r[i] as number);
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
