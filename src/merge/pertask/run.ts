// Runs a per-task method over a model set (TSV-C: ./tsvc), in chunks within the budget (TALL masks, Consensus) or
// one shared tensor at a time (T-Switch: its drop needs a tensor's whole task vector), widened to
// f32, on the CPU kernels of ./kernels — except the element-wise passes that a GPU engine has
// programs for (../engine.ts: each task's TALL mask, T-Switch's keep/sign bits), which go to it with
// the chunk in its stored dtype, bit-identical. τ_MTL's sums, the TIES fix-ups, the consensus
// count, T-Switch's thresholds (a sort) and scalars (torch's norm) stay on the CPU. TIES'
// thresholds are model-wide, as in the original (one kthvalue over the flattened model): two
// radix-histogram passes find them exactly first.
import { dtypeBytes, widenToF32 } from '../../formats/dtype';
import type { TensorName } from '../../formats/tensor';
import type { ChunkInput, MergeEngine, RawChunk } from '../engine';
import { absHistogramChunk, nonFiniteCounts } from '../cpu/kernels';
import type { ModelSet, SharedTensor } from '../model-set';
import { NonFiniteTally } from '../non-finite';
import { DEFAULT_BUDGET_BYTES, planChunks, readChunk } from '../scheduler';
import { radixSelectThresholds } from '../ties-threshold';
import {
  consensusMask,
  tallMask,
  tallMaskBit,
  taSum,
  tiesSum,
  tSwitchScale,
  tSwitchTensor,
  tSwitchThresholds,
} from './kernels';
import type { PerTaskModulator, PerTaskResult, PerTaskTaskStats } from './result';
import { lambdaOf, TALL_TIES_KEEP, type PerTaskSpec } from './spec';
import { runTsvc } from './tsvc';

export interface PerTaskRunOptions {
  /** Bytes for chunks in flight (TALL masks and Consensus stream by chunk; T-Switch reads whole tensors). */
  readonly budgetBytes?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?:
    | ((p: {
        phase: 'histogram' | 'threshold' | 'merge';
        bytesDone: number;
        bytesTotal: number;
        tensorsDone: number;
        tensorsTotal: number;
      }) => void)
    | undefined;
}

interface Widened {
  readonly base: Float32Array;
  readonly tasks: readonly Float32Array[];
  readonly bytes: number;
  /** The chunk as read, in its stored dtype (what an engine's pass takes). */
  readonly raw: ChunkInput;
}

/** The engine's passes a per-task method can use: a GPU engine's programs (see runPerTask). */
export type PerTaskEngine = Pick<MergeEngine, 'kind' | 'tallMask' | 'tSwitchBits'>;

/**
 * The shared tensors widened, in order, with progress for `phase`: in chunks within the budget
 * (starting on multiples of 32 elements, so mask words line up), or each tensor whole.
 */
async function* tensors(
  set: ModelSet,
  phase: 'histogram' | 'threshold' | 'merge',
  options: PerTaskRunOptions,
  whole = false,
): AsyncGenerator<{ index: number; tensor: SharedTensor; start: number; numel: number } & Widened> {
  const stored = (s: SharedTensor, numel: number) =>
    numel * [s.base, ...s.tasks].reduce((a, e) => a + dtypeBytes(e.dtype), 0);
  const bytesTotal = set.shared.reduce((a, s) => a + stored(s, s.numel), 0);
  const plan = whole
    ? set.shared.map((tensor, tensorIndex) => ({ tensor, tensorIndex, start: 0, numel: tensor.numel }))
    : planChunks(set.shared, set.tasks.length, options.budgetBytes ?? DEFAULT_BUDGET_BYTES);
  let bytesDone = 0;
  for (const p of plan) {
    options.signal?.throwIfAborted();
    const input = await readChunk(p);
    const base = widenToF32(input.base.bytes, input.base.dtype);
    const tasks = input.tasks.map((t) => widenToF32(t.bytes, t.dtype));
    const bytes = input.base.bytes.byteLength + input.tasks.reduce((a, t) => a + t.bytes.byteLength, 0);
    yield {
      index: p.tensorIndex,
      tensor: p.tensor,
      start: p.start,
      numel: p.numel,
      base,
      tasks,
      bytes,
      raw: input,
    };
    bytesDone += stored(p.tensor, p.numel);
    const finished = p.start + p.numel === p.tensor.numel;
    options.onProgress?.({
      phase,
      bytesDone,
      bytesTotal,
      tensorsDone: p.tensorIndex + (finished ? 1 : 0),
      tensorsTotal: set.shared.length,
    });
  }
}

/** topk_values_mask's per-task threshold over all shared elements: the (d − ⌊d·keep⌋)-th smallest |τ_t|. */
function tiesThresholds(set: ModelSet, keep: number, options: PerTaskRunOptions): Promise<Float32Array> {
  return radixSelectThresholds(set.tasks.length, set.report.sharedParameters, keep, {
    high: async (high) => {
      for await (const x of tensors(set, 'histogram', options))
        absHistogramChunk(x.base, x.tasks, x.numel, 0, undefined, high);
    },
    low: async (prefix, low) => {
      for await (const x of tensors(set, 'threshold', options))
        absHistogramChunk(x.base, x.tasks, x.numel, 1, prefix, low);
    },
  });
}

function popcount(words: Uint32Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    let w = words[i] as number;
    w = w - ((w >>> 1) & 0x55555555);
    w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
    n += Math.imul((w + (w >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  return n;
}

/**
 * A per-task method's result. The element-wise passes go to `engine` only when it is a GPU engine
 * (its programs); the CPU engines would only widen again what this runner already holds in f32.
 */
export async function runPerTask(
  set: ModelSet,
  spec: PerTaskSpec,
  options: PerTaskRunOptions = {},
  engine?: PerTaskEngine,
): Promise<PerTaskResult> {
  const gpu = engine?.kind === 'gpu' ? engine : undefined;
  // TSV-C: SVDs, on the CPU whatever the engine (./tsvc).
  if (spec.method === 'tsv_c') return runTsvc(set, spec, options);
  return spec.method === 't_switch'
    ? runTSwitch(set, spec, options, gpu)
    : runMasked(set, spec, options, gpu);
}

async function runMasked(
  set: ModelSet,
  spec: Exclude<PerTaskSpec, { method: 't_switch' | 'tsv_c' }>,
  options: PerTaskRunOptions,
  gpu: PerTaskEngine | undefined,
): Promise<PerTaskResult> {
  const n = set.tasks.length;
  const useTies =
    spec.method === 'consensus_ties' || (spec.method === 'tall_mask' && spec.tallBase === 'ties');
  const maskLambdas = set.tasks.map((_, t) =>
    lambdaOf(spec.method === 'tall_mask' ? spec.lambda : spec.tallLambda, t, n),
  );
  const thresholds = useTies ? await tiesThresholds(set, TALL_TIES_KEEP, options) : undefined;
  const tau = new Map<TensorName, Float32Array>();
  const masks = new Map<TensorName, Uint32Array>();
  const nonFinite = new NonFiniteTally(set);
  // Elements whose TIES sign waits for the majority, with the weights to redo their mask bits.
  const pending: {
    name: TensorName;
    index: number;
    ifPositive: number;
    ifNotPositive: number;
    w: number[];
  }[] = [];
  let signSum = 0;
  let bytesRead = 0;
  for await (const x of tensors(set, 'merge', options)) {
    const { numel, start } = x;
    const name = x.tensor.name;
    const words = Math.ceil(x.tensor.numel / 32);
    let v: Float32Array;
    if (thresholds) {
      const r = tiesSum(x.base, x.tasks, numel, thresholds);
      v = r.tau;
      signSum += r.signSum;
      for (const p of r.pending)
        pending.push({
          ...p,
          name,
          index: start + p.index,
          w: [x.base[p.index] as number, ...x.tasks.map((a) => a[p.index] as number)],
        });
    } else v = taSum(x.base, x.tasks, numel);
    if (!tau.has(name)) {
      tau.set(name, new Float32Array(x.tensor.numel));
      masks.set(name, new Uint32Array(n * words));
    }
    (tau.get(name) as Float32Array).set(v, start);
    const m = masks.get(name) as Uint32Array;
    const at = (t: number) => t * words + start / 32;
    const tallMaskOn = gpu?.tallMask?.bind(gpu);
    if (tallMaskOn) {
      // The N tasks' passes issued together: a GPU engine uploads one while another computes.
      const out = await Promise.all(
        x.raw.tasks.map((task, t) =>
          tallMaskOn({ numel, base: x.raw.base, task, tau: v, lambda: maskLambdas[t] as number }),
        ),
      );
      out.forEach((words, t) => m.set(words, at(t)));
    } else {
      const chunkMask = new Uint32Array(Math.ceil(numel / 32));
      for (let t = 0; t < n; t++) {
        tallMask(x.base, x.tasks[t] as Float32Array, v, numel, maskLambdas[t] as number, chunkMask, 0);
        m.set(chunkMask, at(t));
      }
    }
    nonFinite.add(x.index, nonFiniteCounts(x.base, x.tasks, numel));
    bytesRead += x.bytes;
  }
  // resolve_zero_signs("majority"): the sign of the sum of every elected sign decides the zeros.
  const majority = Math.sign(signSum) as -1 | 0 | 1;
  const numelOf = new Map(set.shared.map((s) => [s.name, s.numel] as const));
  for (const p of pending) {
    const value = majority > 0 ? p.ifPositive : p.ifNotPositive;
    (tau.get(p.name) as Float32Array)[p.index] = value;
    const m = masks.get(p.name) as Uint32Array;
    const words = Math.ceil((numelOf.get(p.name) as number) / 32);
    for (let t = 0; t < n; t++) {
      const on = tallMaskBit(
        p.w[0] as number,
        p.w[t + 1] as number,
        value,
        Math.fround(maskLambdas[t] as number),
      );
      const at = t * words + (p.index >>> 5);
      const bit = 1 << (p.index & 31);
      m[at] = (on ? (m[at] as number) | bit : (m[at] as number) & ~bit) >>> 0;
    }
  }
  const d = set.report.sharedParameters;
  let modulator: PerTaskModulator;
  let tasks: PerTaskTaskStats[];
  if (spec.method === 'tall_mask') {
    modulator = {
      kind: 'masked',
      tau,
      masks,
      maskCount: n,
      maskOf: set.tasks.map((_, t) => t),
      alphas: set.tasks.map(() => 1),
    };
    tasks = set.tasks.map((task, t) => {
      let ones = 0;
      for (const s of set.shared) {
        const words = Math.ceil(s.numel / 32);
        ones += popcount(masks.get(s.name) as Uint32Array, t * words, (t + 1) * words);
      }
      return { task: task.name, lambda: maskLambdas[t] as number, density: d ? ones / d : 0 };
    });
  } else {
    const consensus = new Map<TensorName, Uint32Array>();
    let ones = 0;
    for (const s of set.shared) {
      const c = consensusMask(masks.get(s.name) as Uint32Array, n, s.numel, spec.k);
      ones += popcount(c, 0, c.length);
      consensus.set(s.name, c);
    }
    modulator = {
      kind: 'masked',
      tau,
      masks: consensus,
      maskCount: 1,
      maskOf: set.tasks.map(() => 0),
      alphas: set.tasks.map(() => spec.lambda),
    };
    tasks = set.tasks.map((task, t) => ({
      task: task.name,
      lambda: maskLambdas[t] as number,
      density: d ? ones / d : 0,
    }));
  }
  return {
    spec,
    set,
    modulator,
    tasks,
    bytesRead,
    ...(thresholds ? { ties: { thresholds: Array.from(thresholds), majority } } : {}),
    nonFinite: nonFinite.report(),
  };
}

async function runTSwitch(
  set: ModelSet,
  spec: Extract<PerTaskSpec, { method: 't_switch' }>,
  options: PerTaskRunOptions,
  gpu: PerTaskEngine | undefined,
): Promise<PerTaskResult> {
  const bitsOn = gpu?.tSwitchBits?.bind(gpu);
  const n = set.tasks.length;
  const keep = new Map<TensorName, Uint32Array>();
  const sign = new Map<TensorName, Uint32Array>();
  const scales = new Map<TensorName, Float32Array>();
  const kept = new Array<number>(n).fill(0);
  const nonFinite = new NonFiniteTally(set);
  let bytesRead = 0;
  // process_matrix's thresholds need a tensor's whole task vector: read whole.
  for await (const x of tensors(set, 'merge', options, true)) {
    const numel = x.tensor.numel;
    const words = Math.ceil(numel / 32);
    const k = new Uint32Array(n * words);
    const s = new Uint32Array(n * words);
    const sc = new Float32Array(n);
    const scalar = x.tensor.shape.length === 0;
    for (let t = 0; t < n; t++) {
      const task = x.tasks[t] as Float32Array;
      let r: { keep: Uint32Array; sign: Uint32Array; scale: number; kept: number };
      if (bitsOn && !scalar) {
        // Thresholds (a sort) and the scalar on the CPU, the bit pass between them on the engine.
        const { tau, tp, tn } = tSwitchThresholds(x.base, task, numel, spec.dropRatio);
        const raw = { numel, base: x.raw.base, task: x.raw.tasks[t] as RawChunk };
        const bits = await bitsOn({ ...raw, tp, tn });
        r = { ...bits, ...tSwitchScale(tau, bits.keep, numel) };
      } else r = tSwitchTensor(x.base, task, numel, spec.dropRatio, scalar);
      k.set(r.keep, t * words);
      s.set(r.sign, t * words);
      sc[t] = r.scale;
      kept[t] = (kept[t] as number) + r.kept;
    }
    keep.set(x.tensor.name, k);
    sign.set(x.tensor.name, s);
    scales.set(x.tensor.name, sc);
    nonFinite.add(x.index, nonFiniteCounts(x.base, x.tasks, numel));
    bytesRead += x.bytes;
  }
  const d = set.report.sharedParameters;
  return {
    spec,
    set,
    modulator: { kind: 'switch', keep, sign, scales },
    tasks: set.tasks.map((task, t) => ({ task: task.name, density: d ? (kept[t] as number) / d : 0 })),
    bytesRead,
    nonFinite: nonFinite.report(),
  };
}
