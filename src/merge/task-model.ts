// A task's full model from a merge result: its shared tensors as the method made them (narrowed
// to the task's own dtype) and its task-specific tensors passed through, in its own file order.
// Tensors come out as chunk streams, so a writer never needs a whole model in memory.
import { dtypeBytes, narrowFromF32, type DType, type MergeDType } from '../formats/dtype';
import type { TensorData, TensorName } from '../formats/tensor';
import { maskWords } from './cpu/kernels';
import type { MergeEngine, RawChunk } from './engine';
import { isEmr, type AnyMergeResult } from './merge';
import type { EmrResult } from './merge-result';
import type { ArenaOutputs } from './emr-arena';
import { perTaskReconstructPass } from './pertask/passes';
import { isPerTaskResult, perTaskReconstructInput } from './pertask/result';
import type { SharedTensor } from './model-set';
import { chunkElements, DEFAULT_BUDGET_BYTES } from './scheduler';

export interface OutputTensor {
  readonly name: TensorName;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** Random access to the tensor's bytes (what the ONNX writer reads). */
  readonly data: TensorData;
  /** The tensor's bytes in order, in pieces of bounded size (what the safetensors writer takes). */
  chunks(): AsyncIterable<Uint8Array>;
  /**
   * The same pieces in buffers that are reused: a piece stays valid only until the one after the
   * next is asked for (a writer that awaits each write before asking for the next piece but one).
   * Where the engine can write into a buffer (the CPU engine, F32): no allocation per piece.
   */
  transientChunks?(): AsyncIterable<Uint8Array>;
  /**
   * Gives back what transientChunks holds beyond one call (the arena's output slots), once every
   * piece it gave is written. The same for every tensor of a task model; a later transientChunks
   * takes them again.
   */
  release?(): void;
}

/** An engine that writes an F32 reconstruction into a given buffer (the CPU engines). */
interface ReconstructInto {
  emrReconstructF32Into(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    out: Float32Array,
  ): Promise<void>;
}

const writesInto = (e: MergeEngine): e is MergeEngine & ReconstructInto =>
  typeof (e as Partial<ReconstructInto>).emrReconstructF32Into === 'function';

/** Two buffers used in turn, grown as needed. */
class BufferPair {
  private readonly buffers: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  private turn = 0;
  next(n: number): Float32Array {
    this.turn ^= 1;
    if ((this.buffers[this.turn] as Float32Array).length < n) this.buffers[this.turn] = new Float32Array(n);
    return (this.buffers[this.turn] as Float32Array).subarray(0, n);
  }
}

const lambdaOf = (result: EmrResult, t: number) => result.lambdas[t] as number;

export function taskIndex(result: AnyMergeResult, task: string): number {
  const t = result.set.tasks.findIndex((x) => x.name === task);
  if (t < 0)
    throw new RangeError(
      `no task named "${task}" (tasks: ${result.set.tasks.map((x) => x.name).join(', ')})`,
    );
  return t;
}

/**
 * Base bytes kept between the task models of one EMR result: every task's model needs the base's
 * bytes again, so the first task's reads are kept (up to the budget, tensor by tensor in the order
 * they are asked for) and the other tasks' reads come from memory.
 */
interface BaseCache {
  budget: number;
  readonly ranges: Map<string, { first: number; last: number; bytes: Uint8Array }>;
}
const baseCaches = new WeakMap<AnyMergeResult, BaseCache>();

function baseCacheOf(result: AnyMergeResult, budgetBytes: number): BaseCache {
  let c = baseCaches.get(result);
  if (!c) baseCaches.set(result, (c = { budget: budgetBytes, ranges: new Map() }));
  return c;
}

async function readBase(
  cache: BaseCache,
  shared: SharedTensor,
  first: number,
  last: number,
): Promise<Uint8Array> {
  const s = dtypeBytes(shared.base.dtype);
  const key = `${shared.name}\u0000${first}`;
  const hit = cache.ranges.get(key);
  if (hit && hit.last >= last) return hit.bytes.subarray(0, (last - first) * s);
  const bytes = await shared.base.data.read(first * s, last * s);
  if (!hit && bytes.byteLength <= cache.budget) {
    cache.budget -= bytes.byteLength;
    cache.ranges.set(key, { first, last, bytes });
  }
  return bytes;
}

/** Bytes [start, end) of task t's version of a shared tensor, computed from the result on demand. */
function sharedTensorData(
  result: AnyMergeResult,
  t: number,
  shared: SharedTensor,
  dtype: MergeDType,
  engine: MergeEngine,
  cache: BaseCache,
): TensorData {
  const size = dtypeBytes(dtype);
  return {
    async read(start, end) {
      // Whole elements, from a multiple of 32 so the mask words line up.
      const first = Math.floor(start / size / 32) * 32;
      const last = Math.min(shared.numel, Math.ceil(end / size));
      let bytes: Uint8Array<ArrayBuffer>;
      const emr = isEmr(result) ? result : undefined;
      const arena = emr?.values.arena;
      if (emr && arena) {
        // The base, τ_uni and the masks are in the arena already: rebuilt there, no read.
        const values = new Float32Array(last - first);
        arena.reconstructInto(
          { name: shared.name, start: first, numel: last - first },
          t,
          lambdaOf(emr, t),
          values,
        );
        bytes = narrowFromF32(values, dtype);
      } else if (isEmr(result)) {
        const base = { bytes: await readBase(cache, shared, first, last), dtype: shared.base.dtype };
        const [tau, mask] = await Promise.all([
          result.values.tau(shared.name, first, last),
          result.values.mask(shared.name, t, first / 32, maskWords(last - first)),
        ]);
        bytes = await engine.emrReconstruct(base, tau, mask, 0, lambdaOf(result, t), dtype);
      } else if (isPerTaskResult(result)) {
        // On a GPU engine's program (it keeps small ranges on the CPU twin); the CPU engines' would
        // be the same twin, so it runs here.
        const base = { bytes: await readBase(cache, shared, first, last), dtype: shared.base.dtype };
        const x = perTaskReconstructInput(result.modulator, shared.name, shared.numel, t, first, last, base);
        const values =
          engine.kind === 'gpu' && engine.perTaskReconstruct
            ? await engine.perTaskReconstruct(x)
            : perTaskReconstructPass(x);
        bytes = narrowFromF32(values, dtype);
      } else {
        bytes = narrowFromF32((result.merged.get(shared.name) as Float32Array).subarray(first, last), dtype);
      }
      return bytes.subarray(start - first * size, end - first * size);
    },
  };
}

export function taskModel(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  budgetBytes = DEFAULT_BUDGET_BYTES,
): OutputTensor[] {
  const { set } = result;
  const task = set.tasks[t];
  if (!task) throw new RangeError(`task index ${t} out of range`);
  const stepBytes = chunkElements(1, budgetBytes) * 4;
  const sharedByName = new Map(set.shared.map((s) => [s.name, s] as const));
  const cache = baseCacheOf(result, budgetBytes);
  const pair = new BufferPair();
  // The arena's output slots for this task model's pieces: taken at its first, given back by release().
  let slots: ArenaOutputs | undefined;
  const release = () => {
    slots?.release();
    slots = undefined;
  };
  return [...task.checkpoint.tensors.values()].map((entry) => {
    const shared = sharedByName.get(entry.name);
    // A mergekit recipe's out_dtype (or dtype) sets the merged tensors' dtype; else the task's own.
    const outDtype = result.spec.method === 'mergekit' ? result.spec.outDtype : undefined;
    const dtype = shared
      ? (outDtype ?? (shared.tasks[t] as SharedTensor['tasks'][number]).dtype)
      : entry.dtype;
    const data = shared
      ? sharedTensorData(result, t, shared, dtype as MergeDType, engine, cache)
      : entry.data;
    const byteLength = shared ? shared.numel * dtypeBytes(dtype) : entry.byteLength;
    return {
      name: entry.name,
      dtype,
      shape: entry.shape,
      byteLength,
      data,
      async *chunks() {
        for (let at = 0; at < byteLength; at += stepBytes)
          yield await data.read(at, Math.min(byteLength, at + stepBytes));
      },
      ...(shared && dtype === 'F32' && isEmr(result) && (result.values.arena || writesInto(engine))
        ? {
            release,
            async *transientChunks() {
              const step = stepBytes / 4; // a multiple of 32 elements
              const { values } = result;
              const lambda = lambdaOf(result, t);
              if (values.arena) slots ??= values.arena.outputPair();
              if (slots) {
                yield* arenaPieces(slots, shared, t, lambda);
                return;
              }
              for (let first = 0; first < shared.numel; first += step) {
                const last = Math.min(shared.numel, first + step);
                if (values.arena) {
                  const out = pair.next(last - first);
                  values.arena.reconstructInto(
                    { name: shared.name, start: first, numel: last - first },
                    t,
                    lambda,
                    out,
                  );
                  yield new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
                  continue;
                }
                const [baseBytes, tau, mask] = await Promise.all([
                  readBase(cache, shared, first, last),
                  values.tau(shared.name, first, last),
                  values.mask(shared.name, t, first / 32, maskWords(last - first)),
                ]);
                const out = pair.next(last - first);
                await (engine as MergeEngine & ReconstructInto).emrReconstructF32Into(
                  { bytes: baseBytes, dtype: shared.base.dtype },
                  tau,
                  mask,
                  0,
                  lambda,
                  out,
                );
                yield new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
              }
            },
          }
        : {}),
    };
  });
}

/** A tensor's rebuilt pieces straight from the arena's output slots: no copy before the write. */
async function* arenaPieces(slots: ArenaOutputs, shared: SharedTensor, t: number, lambda: number) {
  for (let first = 0; first < shared.numel; first += slots.elements) {
    const numel = Math.min(slots.elements, shared.numel - first);
    const v = slots.reconstruct({ name: shared.name, start: first, numel }, t, lambda);
    yield new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
}

/** A whole output tensor's bytes (tests, small models, inference). */
export async function collectBytes(tensor: OutputTensor): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of tensor.chunks()) parts.push(c);
  const out = new Uint8Array(tensor.byteLength);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
