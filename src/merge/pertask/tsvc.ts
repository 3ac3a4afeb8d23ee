// Runs TSV-C (./lowrank: compress_tv of AntoAndGar/task_singular_vectors) over a model set, one
// shared tensor at a time and one task at a time within it: the base's tensor and one task's are
// held (widened to f32) with the SVD's float64 work, about 10 float64 matrices of the tensor's size,
// never the inputs whole. Every step runs on the CPU, the SVD included (the GPU engine has no SVD):
// a GPU engine only changes nothing here, and its reconstruction of a TSV-C task model runs the CPU
// twin too (src/gpu/programs/pertask.ts). The result keeps, per task, the f32 factors of each 2-D
// tensor and the own τ of every other shared tensor.
import type { TensorName } from '../../formats/tensor';
import { countNonFinite } from '../cpu/kernels';
import type { ModelSet, SharedTensor } from '../model-set';
import { NonFiniteTally } from '../non-finite';
import { forEachWholeTensor, type WholeTensorOptions } from '../whole-tensors';
import type { LowRankTensor, PerTaskResult } from './result';
import { defaultSvReduction, type PerTaskSpec } from './spec';
import { ownTau, tsvcCompress, tsvcRank } from './lowrank';

export class TsvcSetError extends RangeError {
  override readonly name = 'TsvcSetError';
}

/** compress_tv's `len(layer.shape) == 2`: which shared tensors are factored. */
export const isTsvcMatrix = (s: { readonly shape: readonly number[] }): boolean => s.shape.length === 2;

/** The f32 values task t stores for a tensor: k·(rows + cols + 1) for a 2-D one, numel for another. */
export const tsvcStoredValues = (s: SharedTensor, svReduction: number): number => {
  if (!isTsvcMatrix(s)) return s.numel;
  const [rows, cols] = s.shape as [number, number];
  return tsvcRank(rows, cols, svReduction) * (rows + cols + 1);
};

export async function runTsvc(
  set: ModelSet,
  spec: Extract<PerTaskSpec, { method: 'tsv_c' }>,
  options: WholeTensorOptions = {},
): Promise<PerTaskResult> {
  const n = set.tasks.length;
  const svReduction = spec.svReduction ?? defaultSvReduction(n);
  const factors = new Map<TensorName, LowRankTensor>();
  const dense = new Map<TensorName, Float32Array>();
  const nonFinite = new NonFiniteTally(set);
  const bytesRead = await forEachWholeTensor(set, options, async (w) => {
    const { tensor } = w;
    const numel = tensor.numel;
    const base = await w.base();
    const counts = new Uint32Array(1 + n);
    counts[0] = countNonFinite(base, numel);
    const matrix = isTsvcMatrix(tensor);
    const [rows, cols] = tensor.shape as [number, number];
    const rank = matrix ? tsvcRank(rows, cols, svReduction) : 0;
    const u: Float32Array[] = [];
    const s: Float32Array[] = [];
    const vt: Float32Array[] = [];
    const energy: number[] = [];
    const own = matrix ? undefined : new Float32Array(n * numel);
    for (let t = 0; t < n; t++) {
      const task = await w.task(t);
      counts[t + 1] = countNonFinite(task, numel);
      if (own) {
        own.set(ownTau(base, task, numel), t * numel);
        continue;
      }
      if (counts[0] || counts[t + 1]) {
        const who = counts[0] ? 'the base' : `task "${set.tasks[t]?.name}"`;
        throw new TsvcSetError(
          `${tensor.name}: NaN or ±∞ in its weights (${who}); tsv_c's SVD (as torch.linalg.svd) cannot take them`,
        );
      }
      const f = tsvcCompress(base, task, rows, cols, svReduction);
      u.push(f.u);
      s.push(f.s);
      vt.push(f.vt);
      energy.push(f.energy);
    }
    if (own) dense.set(tensor.name, own);
    else factors.set(tensor.name, { rows, cols, rank, u, s, vt, energy });
    nonFinite.add(w.index, counts);
  });
  const d = set.report.sharedParameters;
  const stored = set.shared.reduce((a, x) => a + tsvcStoredValues(x, svReduction), 0);
  return {
    spec,
    set,
    modulator: { kind: 'lowrank', factors, dense },
    tasks: set.tasks.map((task) => ({ task: task.name, density: d ? stored / d : 0 })),
    bytesRead,
    nonFinite: nonFinite.report(),
  };
}
