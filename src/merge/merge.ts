// Runs a merge method over a model set: streams the shared tensors chunk by chunk through an
// engine and keeps only what the result needs whole — τ_uni and 1-bit masks for EMR (./emr-merge),
// one merged model for the baselines (here). Per-task models are produced from the result by
// ./task-model; the result types live in ./merge-result and are re-exported here.
import type { TensorName } from '../formats/tensor';
import { pass } from './chunk-pass';
import { mergeEmr } from './emr-merge';
import type { MergeEngine } from './engine';
import type {
  AnyMergeResult,
  MergekitResult,
  MergeOptions,
  MergeResult,
  SpectralResult,
} from './merge-result';
import type { AnyMethodSpec, MethodSpec } from './methods';
import type { MergekitSpec } from './mergekit/spec';
import { runMergekit } from './mergekit/run';
import type { SpectralSpec } from './spectral/spec';
import { runSpectral } from './spectral/run';
import type { PerTaskResult } from './pertask/result';
import { runPerTask } from './pertask/run';
import { isPerTaskSpec, type PerTaskSpec } from './pertask/spec';
import type { ModelSet } from './model-set';
import { NonFiniteTally } from './non-finite';
import { DEFAULT_BUDGET_BYTES, planChunks, type ChunkPlan } from './scheduler';
import { tiesThresholds } from './ties-threshold';

export {
  isEmr,
  type AnyMergeResult,
  type EmrResult,
  type EmrTaskStats,
  type EmrTensorStats,
  type MergedResult,
  type MergedResultOf,
  type MergekitResult,
  type MergeOptions,
  type MergeProgress,
  type MergeResult,
  type SpectralResult,
} from './merge-result';

export async function runMerge(
  set: ModelSet,
  spec: MergekitSpec,
  engine: MergeEngine,
  options?: MergeOptions,
): Promise<MergekitResult>;
export async function runMerge(
  set: ModelSet,
  spec: SpectralSpec,
  engine: MergeEngine,
  options?: MergeOptions,
): Promise<SpectralResult>;
export async function runMerge(
  set: ModelSet,
  spec: MethodSpec,
  engine: MergeEngine,
  options?: MergeOptions,
): Promise<MergeResult>;
export async function runMerge(
  set: ModelSet,
  spec: PerTaskSpec,
  engine: MergeEngine,
  options?: MergeOptions,
): Promise<PerTaskResult>;
export async function runMerge(
  set: ModelSet,
  spec: AnyMethodSpec,
  engine: MergeEngine,
  options?: MergeOptions,
): Promise<AnyMergeResult>;
export async function runMerge(
  set: ModelSet,
  spec: AnyMethodSpec,
  engine: MergeEngine,
  options: MergeOptions = {},
): Promise<AnyMergeResult> {
  // mergekit's methods read each tensor whole (./mergekit/run); their generalized task arithmetic
  // mix runs on the engine's program for it (the GPU's), the rest on the CPU.
  if (spec.method === 'mergekit') return { spec, set, ...(await runMergekit(set, spec, options, engine)) };
  // The spectral methods' SVDs need whole 2-D weights: read tensor by tensor, on the CPU (./spectral/run).
  if (spec.method === 'spectral') return { spec, set, ...(await runSpectral(set, spec, options)) };
  // The per-task methods (TALL masks, Consensus, T-Switch): ./pertask, their element-wise passes on the engine.
  if (isPerTaskSpec(spec)) return runPerTask(set, spec, options, engine);
  const numTasks = set.tasks.length;
  const overlap = engine.overlap === true;
  const plan = planChunks(set.shared, numTasks, options.budgetBytes ?? DEFAULT_BUDGET_BYTES, overlap ? 3 : 2);
  if (spec.method === 'emr') return mergeEmr(set, spec, engine, plan, options, overlap);

  const merged = new Map<TensorName, Float32Array>();
  for (const s of set.shared) merged.set(s.name, new Float32Array(s.numel));
  const nonFinite = new NonFiniteTally(set);
  const out = (p: ChunkPlan) => merged.get(p.tensor.name) as Float32Array;

  if (spec.method === 'avg' || spec.method === 'ta') {
    const bytesRead = await pass(
      plan,
      'merge',
      options,
      overlap,
      (_p, input) =>
        spec.method === 'avg' ? engine.average(input) : engine.taskArithmetic(input, spec.lambda),
      (p, r) => {
        out(p).set(r.merged, p.start);
        nonFinite.add(p.tensorIndex, r.nonFinite);
      },
    );
    return { spec, set, merged, bytesRead, nonFinite: nonFinite.report() };
  }

  const thresholds = await tiesThresholds(set, spec.k, engine, plan, options, overlap);
  const pending: { tensor: Float32Array; index: number; ifPositive: number; ifNotPositive: number }[] = [];
  let signSum = 0;
  const bytesRead = await pass(
    plan,
    'merge',
    options,
    overlap,
    (_p, input) => engine.ties(input, thresholds, spec.lambda),
    (p, r) => {
      const target = out(p);
      target.set(r.merged, p.start);
      signSum += r.signSum;
      nonFinite.add(p.tensorIndex, r.nonFinite);
      for (const q of r.pending) pending.push({ ...q, tensor: target, index: p.start + q.index });
    },
  );
  // The reference resolves a zero trimmed sum with the sign of the sum of all elected signs.
  const majority = Math.sign(signSum) as -1 | 0 | 1;
  for (const q of pending) q.tensor[q.index] = majority > 0 ? q.ifPositive : q.ifNotPositive;
  return {
    spec,
    set,
    merged,
    ties: { thresholds: Array.from(thresholds), majority },
    bytesRead,
    nonFinite: nonFinite.report(),
  };
}
