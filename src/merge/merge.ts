// Runs a merge method over a model set: streams the shared tensors chunk by chunk through an
// engine and keeps only what the result needs whole — τ_uni and 1-bit masks for EMR, one merged
// model for the baselines. Per-task models are produced from the result by ./task-model.
import { dtypeBytes } from '../formats/dtype';
import type { TensorName } from '../formats/tensor';
import type { ChunkInput, EmrInputViews, MergeEngine } from './engine';
import { maskWords } from './cpu/kernels';
import {
  memoryValues,
  spillValues,
  valuesBytes,
  type EmrValues,
  type EmrValuesWriter,
  type ScratchFile,
} from './emr-values';
import type { AnyMethodSpec, MethodSpec } from './methods';
import type { MergekitSpec } from './mergekit/spec';
import { runMergekit } from './mergekit/run';
import type { SpectralSpec } from './spectral/spec';
import { runSpectral } from './spectral/run';
import type { PerTaskResult } from './pertask/result';
import { runPerTask } from './pertask/run';
import { isPerTaskSpec, type PerTaskSpec } from './pertask/spec';
import type { ModelSet } from './model-set';
import { NonFiniteTally, type NonFiniteReport } from './non-finite';
import {
  canReadInto,
  chunkBytes,
  DEFAULT_BUDGET_BYTES,
  planChunks,
  streamChunks,
  type ChunkPlan,
} from './scheduler';

export interface MergeProgress {
  readonly phase: 'histogram' | 'threshold' | 'merge';
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly tensorsDone: number;
  readonly tensorsTotal: number;
}

export interface MergeOptions {
  /** Bytes the scheduler may hold for chunks in flight (default 256 MiB). */
  readonly budgetBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: MergeProgress) => void;
  /**
   * EMR only: where τ_uni and the packed masks go when they would take more than `overBytes` in
   * memory (a scratch file beside the output, or in the origin-private file system).
   */
  readonly spill?: { readonly overBytes: number; open(bytes: number): Promise<ScratchFile> };
}

export interface EmrTensorStats {
  readonly name: TensorName;
  readonly numel: number;
  /** Elements where some task's τ is positive and another's negative. */
  readonly conflicts: number;
  /** Per task: ones in M_t, Σ|τ_t| and Σ|M_t ⊙ τ_uni| over this tensor. */
  readonly maskOnes: readonly number[];
  readonly sumAbsTau: readonly number[];
  readonly sumAbsMasked: readonly number[];
}

export interface EmrTaskStats {
  readonly task: string;
  readonly lambda: number;
  /** λ's numerator and denominator: Σ over tensors of mean|τ_t| and mean|M_t⊙τ_uni| (or the global sums). */
  readonly numerator: number;
  readonly denominator: number;
  /** True when the denominator was 0 and λ was set to 1. */
  readonly lambdaDefaulted: boolean;
  /** Fraction of shared parameters whose mask bit is on. */
  readonly density: number;
}

export interface EmrResult {
  readonly spec: Extract<MethodSpec, { method: 'emr' }>;
  readonly set: ModelSet;
  /** τ_uni and the masks by range, wherever they are kept: what every reader of a result uses. */
  readonly values: EmrValues;
  /** τ_uni per shared tensor, f32 — when held in memory; empty when the values were spilled. */
  readonly tauUni: ReadonlyMap<TensorName, Float32Array>;
  /**
   * Per shared tensor, the N tasks' packed masks back to back (task t at t·⌈numel/32⌉ words) —
   * when held in memory; empty when spilled.
   */
  readonly masks: ReadonlyMap<TensorName, Uint32Array>;
  readonly lambdas: readonly number[];
  readonly tasks: readonly EmrTaskStats[];
  readonly tensors: readonly EmrTensorStats[];
  readonly bytesRead: number;
  /** NaN/±∞ in the weights as read (absent for a result loaded from a bundle). */
  readonly nonFinite?: NonFiniteReport;
}

export interface MergedResultOf<S> {
  readonly spec: S;
  readonly set: ModelSet;
  /** The one merged value of every shared tensor, f32. */
  readonly merged: ReadonlyMap<TensorName, Float32Array>;
  /** TIES only: each task's |τ| threshold and the model-wide majority sign. */
  readonly ties?: { readonly thresholds: readonly number[]; readonly majority: -1 | 0 | 1 };
  readonly bytesRead: number;
  /** NaN/±∞ in the weights as read. */
  readonly nonFinite?: NonFiniteReport;
}

export type MergedResult = MergedResultOf<Exclude<MethodSpec, { method: 'emr' }>>;
/** A mergekit method's result (./mergekit): one merged model, like the baselines'. */
export type MergekitResult = MergedResultOf<MergekitSpec>;

/** A spectral method's result (./spectral): one merged model. */
export type SpectralResult = MergedResultOf<SpectralSpec>;

/** What the studio merges. */
export type MergeResult = EmrResult | MergedResult;
/** What the CLI merges: the studio's methods, mergekit's, the spectral and the per-task ones (./pertask). */
export type AnyMergeResult = MergeResult | MergekitResult | SpectralResult | PerTaskResult;

export const isEmr = (r: AnyMergeResult): r is EmrResult => r.spec.method === 'emr';

/** One streaming pass over all chunks, reporting progress. */
/**
 * Streams the plan's chunks through `run` (the engine call) and `apply` (folding its result in,
 * always in chunk order, so sums add in the same order whatever the timing). An engine that says
 * `overlap` gets chunk k+1's call issued before chunk k's result is applied — the GPU engine
 * uploads the next chunk while the current one computes; the plan is then cut for three chunks in
 * flight instead of two (planChunks' `inFlight`).
 */
async function pass<R>(
  plan: readonly ChunkPlan[],
  phase: MergeProgress['phase'],
  options: MergeOptions,
  overlap: boolean,
  run: (p: ChunkPlan, input: ChunkInput) => Promise<R>,
  apply: (p: ChunkPlan, result: R) => void | Promise<void> = () => {},
  into?: (index: number, p: ChunkPlan) => EmrInputViews,
): Promise<number> {
  // Bytes as stored (a bf16 set reads 2 a parameter), so progress matches the files.
  const storedBytes = (p: ChunkPlan) =>
    p.numel * [p.tensor.base, ...p.tensor.tasks].reduce((a, e) => a + dtypeBytes(e.dtype), 0);
  const bytesTotal = plan.reduce((a, p) => a + storedBytes(p), 0);
  const tensorsTotal = new Set(plan.map((p) => p.tensorIndex)).size;
  let bytesDone = 0;
  let bytesRead = 0;
  let tensorsDone = 0;
  const finish = async (c: { plan: ChunkPlan; input: ChunkInput; result: Promise<R> }) => {
    await apply(c.plan, await c.result);
    bytesRead += chunkBytes(c.input);
    bytesDone += storedBytes(c.plan);
    if (c.plan.start + c.plan.numel === c.plan.tensor.numel) tensorsDone++;
    options.onProgress?.({ phase, bytesDone, bytesTotal, tensorsDone, tensorsTotal });
  };
  type InFlight = { plan: ChunkPlan; input: ChunkInput; result: Promise<R> };
  let previous: InFlight | undefined;
  let current: InFlight | undefined;
  try {
    for await (const { plan: p, input } of streamChunks(plan, options.signal, into)) {
      current = { plan: p, input, result: run(p, input) };
      current.result.catch(() => {}); // surfaced by finish; never an unhandled rejection meanwhile
      if (!overlap) await finish(current);
      else {
        if (previous) await finish(previous);
        previous = current;
      }
      current = undefined;
    }
    if (previous) await finish(previous);
  } catch (e) {
    // No engine call outlives the merge that made it.
    await Promise.allSettled([previous?.result, current?.result]);
    throw e;
  }
  return bytesRead;
}

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
  // The per-task methods (TALL masks, Consensus, T-Switch) run on the CPU kernels of ./pertask.
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

async function mergeEmr(
  set: ModelSet,
  spec: Extract<MethodSpec, { method: 'emr' }>,
  engine: MergeEngine,
  plan: readonly ChunkPlan[],
  options: MergeOptions,
  overlap: boolean,
): Promise<EmrResult> {
  const numTasks = set.tasks.length;
  const tauUni = new Map<TensorName, Float32Array>();
  const masks = new Map<TensorName, Uint32Array>();
  const stats = set.shared.map((s) => ({
    name: s.name,
    numel: s.numel,
    conflicts: 0,
    maskOnes: new Array<number>(numTasks).fill(0),
    sumAbsTau: new Array<number>(numTasks).fill(0),
    sumAbsMasked: new Array<number>(numTasks).fill(0),
  }));
  const nonFinite = new NonFiniteTally(set);
  const wholeBytes = valuesBytes(set.shared, numTasks);
  let spill: EmrValuesWriter | undefined;
  if (options.spill && wholeBytes > options.spill.overBytes)
    spill = spillValues(await options.spill.open(wholeBytes), set.shared, numTasks);
  else
    for (const s of set.shared) {
      tauUni.set(s.name, new Float32Array(s.numel));
      masks.set(s.name, new Uint32Array(numTasks * maskWords(s.numel)));
    }

  const into = directInputs(set, engine, plan, overlap);
  let bytesRead: number;
  try {
    bytesRead = await pass(
      plan,
      'merge',
      options,
      overlap,
      (_p, input) => engine.emr(input),
      async (p, r) => {
        const tensorWords = maskWords(p.tensor.numel);
        const chunkWords = maskWords(p.numel);
        const st = stats[p.tensorIndex] as (typeof stats)[number];
        st.conflicts += r.conflicts;
        nonFinite.add(p.tensorIndex, r.nonFinite);
        for (let t = 0; t < numTasks; t++) {
          const words = r.masks.subarray(t * chunkWords, (t + 1) * chunkWords);
          st.maskOnes[t] = (st.maskOnes[t] as number) + popcount(words);
          st.sumAbsTau[t] = (st.sumAbsTau[t] as number) + (r.sumAbsTau[t] as number);
          st.sumAbsMasked[t] = (st.sumAbsMasked[t] as number) + (r.sumAbsMasked[t] as number);
        }
        if (spill) return spill.put(p.tensor.name, p.start, r.tauUni, r.masks);
        (tauUni.get(p.tensor.name) as Float32Array).set(r.tauUni, p.start);
        const all = masks.get(p.tensor.name) as Uint32Array;
        for (let t = 0; t < numTasks; t++)
          all.set(r.masks.subarray(t * chunkWords, (t + 1) * chunkWords), t * tensorWords + p.start / 32);
      },
      into,
    );
  } catch (e) {
    await spill?.abort().catch(() => {});
    throw e;
  }
  const values = spill ? await spill.done() : memoryValues(tauUni, masks);

  const sharedParameters = set.report.sharedParameters;
  const tasks: EmrTaskStats[] = set.tasks.map((task, t) => {
    let numerator = 0;
    let denominator = 0;
    let ones = 0;
    for (const st of stats) {
      const a = st.sumAbsTau[t] as number;
      const m = st.sumAbsMasked[t] as number;
      // tensor-mean: Σ_tensors mean(|τ_t|) / Σ_tensors mean(|M_t⊙τ_uni|), as the reference does.
      numerator += spec.rescale === 'tensor-mean' ? (st.numel ? a / st.numel : 0) : a;
      denominator += spec.rescale === 'tensor-mean' ? (st.numel ? m / st.numel : 0) : m;
      ones += st.maskOnes[t] as number;
    }
    const lambdaDefaulted = denominator === 0;
    return {
      task: task.name,
      lambda: lambdaDefaulted ? 1 : numerator / denominator,
      numerator,
      denominator,
      lambdaDefaulted,
      density: sharedParameters ? ones / sharedParameters : 0,
    };
  });
  return {
    spec,
    set,
    values,
    tauUni,
    masks,
    lambdas: tasks.map((t) => t.lambda),
    tasks,
    tensors: stats,
    bytesRead,
    nonFinite: nonFinite.report(),
  };
}

/**
 * Reads straight into the engine's memory, two slots in turn, when it offers them (the CPU engine's
 * WebAssembly kernels) and every input is F32 read in place (the CLI's files): no copy into the
 * kernels, and no fresh array per read for the garbage collector. Not with an engine that overlaps
 * calls (three chunks in flight would need three slots).
 */
function directInputs(
  set: ModelSet,
  engine: MergeEngine,
  plan: readonly ChunkPlan[],
  overlap: boolean,
): ((index: number, p: ChunkPlan) => EmrInputViews) | undefined {
  const first = plan[0];
  if (overlap || !first || !engine.emrInputs || !canReadInto(set.shared)) return undefined;
  const maxNumel = plan.reduce((m, p) => Math.max(m, p.numel), 0);
  const numTasks = set.tasks.length;
  if (!engine.emrInputs(0, first.numel, maxNumel, numTasks)) return undefined;
  return (index, p) => engine.emrInputs?.((index % 2) as 0 | 1, p.numel, maxNumel, numTasks) as EmrInputViews;
}

function popcount(words: Uint32Array): number {
  let n = 0;
  for (let w of words) {
    w = w - ((w >>> 1) & 0x55555555);
    w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
    n += (Math.imul((w + (w >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
  }
  return n;
}

/**
 * Each task's TIES threshold: the value of the (d − ⌊d·k⌋)-th smallest |τ_t| over all shared
 * elements (d of them), so that |τ_t| ≥ threshold keeps the top k — the reference's kthvalue rule.
 * Found exactly by a two-level radix select over the f32 bits, each level one streaming pass.
 */
async function tiesThresholds(
  set: ModelSet,
  k: number,
  engine: MergeEngine,
  plan: readonly ChunkPlan[],
  options: MergeOptions,
  overlap: boolean,
): Promise<Float32Array> {
  const numTasks = set.tasks.length;
  const d = set.report.sharedParameters;
  const rank = d - Math.floor(d * k); // 1-based rank of the threshold among ascending |τ|
  const thresholds = new Float32Array(numTasks);
  if (rank < 1) return thresholds; // keep everything
  const high = new Uint32Array(numTasks * 65536);
  await pass(plan, 'histogram', options, overlap, (_p, input) =>
    engine.absHistogram(input, 0, undefined, high),
  );
  const prefix = new Uint32Array(numTasks);
  const below = new Float64Array(numTasks); // elements in bins under the chosen one
  for (let t = 0; t < numTasks; t++) {
    const [bin, before] = findRank(high.subarray(t * 65536, (t + 1) * 65536), rank);
    prefix[t] = bin;
    below[t] = before;
  }
  const low = new Uint32Array(numTasks * 65536);
  await pass(plan, 'threshold', options, overlap, (_p, input) => engine.absHistogram(input, 1, prefix, low));
  const bits = new Uint32Array(thresholds.buffer);
  for (let t = 0; t < numTasks; t++) {
    const [bin] = findRank(low.subarray(t * 65536, (t + 1) * 65536), rank - (below[t] as number));
    bits[t] = (((prefix[t] as number) << 16) | bin) >>> 0;
  }
  return thresholds;
}

/** The bin holding the `rank`-th smallest element (1-based), and how many elements lie in earlier bins. */
function findRank(counts: Uint32Array, rank: number): [number, number] {
  let seen = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    const c = counts[bin] as number;
    if (seen + c >= rank) return [bin, seen];
    seen += c;
  }
  throw new Error(`rank ${rank} is past the ${seen} counted elements`);
}
