// Runs a spectral method (./spec) over a model set, one shared tensor at a time, as mergekit's methods
// run (../mergekit/run): an SVD needs a weight's whole task vectors, so each shared tensor is read
// whole (the base and the N tasks, widened to f32) and merged on the CPU; every 2-D weight not in
// exclude_keys by the method's kernel (./kernels), every other tensor by the mean of its task vectors
// (the references' running mean; Iso-C's sum / N). Task vectors are float64, made one task at a time
// from the f32 inputs, so memory is about (N + 1) · 4 bytes an element of the largest tensor plus
// ~10 float64 matrices of its size in the SVD steps, and the merged model; never the inputs whole. The result is one merged model (f32), rounded
// once from θ₀ + scale · merged task vector computed in float64.
import type { TensorName } from '../../formats/tensor';
import type { ModelSet } from '../model-set';
import { NonFiniteTally, type NonFiniteReport } from '../non-finite';
import { forEachWholeTensor, type WholeTensorOptions } from '../whole-tensors';
import { nonFiniteCounts } from '../cpu/kernels';
import { isoCLayer, isoCtsLayer, tsvmLayer, type TaskVectors } from './kernels';
import type { SpectralSpec } from './spec';

export class SpectralSetError extends RangeError {
  override readonly name = 'SpectralSetError';
}

/** What runMerge's options give this pass. */
export type SpectralRunOptions = WholeTensorOptions;

export interface SpectralOutput {
  readonly merged: ReadonlyMap<TensorName, Float32Array>;
  readonly bytesRead: number;
  readonly nonFinite: NonFiniteReport;
}

export async function runSpectral(
  set: ModelSet,
  spec: SpectralSpec,
  options: SpectralRunOptions = {},
): Promise<SpectralOutput> {
  const numTasks = set.tasks.length;
  const perTask = typeof spec.alpha === 'number' ? undefined : spec.alpha;
  if (perTask && perTask.length !== numTasks)
    throw new SpectralSetError(`alpha has ${perTask.length} values, the set has ${numTasks} tasks`);
  const names = new Set<string>(set.shared.map((s) => s.name));
  const unknown = spec.excludeKeys.filter((k) => !names.has(k));
  if (unknown.length)
    throw new SpectralSetError(
      `exclude_keys: no shared tensor is named ${unknown.map((k) => `"${k}"`).join(', ')}`,
    );
  // merged = θ₀ + scale · merged τ: tsv_m's number alpha, the Iso methods' scaling_factor.
  const scale = spec.name === 'tsv_m' ? (perTask ? 1 : (spec.alpha as number)) : spec.scalingFactor;

  const merged = new Map<TensorName, Float32Array>();
  const nonFinite = new NonFiniteTally(set);
  const bytesRead = await forEachWholeTensor(set, options, async (w) => {
    const { tensor } = w;
    const { base, tasks } = await w.all();
    const counts = nonFiniteCounts(base, tasks, tensor.numel);
    nonFinite.add(w.index, counts);
    const n = tensor.numel;
    // τ_t = θ_t − θ₀ (exact in float64 for f32 inputs of like magnitude), times tsv_m's alpha_t.
    const tau: TaskVectors = (t) => {
      const x = tasks[t] as Float32Array;
      const a = perTask?.[t] ?? 1;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = ((x[i] as number) - (base[i] as number)) * a;
      return out;
    };
    const [m, cols] = tensor.shape;
    const spectral = tensor.shape.length === 2 && !spec.excludeKeys.includes(tensor.name);
    if (spectral && counts.some((c) => c > 0)) {
      // Name the first file that holds them: the base (index 0) or a task.
      const at = counts.findIndex((c) => c > 0);
      const where = at === 0 ? set.base : set.tasks[at - 1]?.checkpoint;
      const who = at === 0 ? 'the base' : `task "${set.tasks[at - 1]?.name}"`;
      throw new SpectralSetError(
        `${tensor.name}: NaN or ±∞ in its weights (${who}, ${where?.files[0] ?? '?'}); ${spec.name}'s SVD (as torch.linalg.svd) cannot take them`,
      );
    }
    const mergedTau = spectral
      ? layer(spec, tau, numTasks, m as number, cols as number)
      : mean(spec, tau, numTasks, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (base[i] as number) + scale * (mergedTau[i] as number);
    merged.set(tensor.name, out);
  });
  return { merged, bytesRead, nonFinite: nonFinite.report() };
}

function layer(spec: SpectralSpec, tau: TaskVectors, numTasks: number, m: number, n: number): Float64Array {
  if (spec.name === 'tsv_m') return tsvmLayer(tau, numTasks, m, n);
  if (spec.name === 'iso_c') return isoCLayer(tau, numTasks, m, n);
  return isoCtsLayer(tau, numTasks, m, n, spec.commonSpaceFraction);
}

/**
 * The mean of the task vectors as each reference writes it: Iso-C's sum(tvs) / N; TSV-M's and
 * Iso-CTS's running mean, new += (τ_i − new) / (i + 1).
 */
function mean(spec: SpectralSpec, tau: TaskVectors, numTasks: number, n: number): Float64Array {
  const acc = new Float64Array(n);
  for (let t = 0; t < numTasks; t++) {
    const x = tau(t);
    if (spec.name === 'iso_c') for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + (x[i] as number);
    else if (t === 0) acc.set(x);
    else
      for (let i = 0; i < n; i++)
        acc[i] = (acc[i] as number) + ((x[i] as number) - (acc[i] as number)) / (t + 1);
  }
  if (spec.name === 'iso_c') for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) / numTasks;
  return acc;
}
