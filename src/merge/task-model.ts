// A task's full model from a merge result: its shared tensors as the method made them (narrowed
// to the task's own dtype) and its task-specific tensors passed through, in its own file order.
// Tensors come out as chunk streams, so a writer never needs a whole model in memory.
import { dtypeBytes, narrowFromF32, type DType, type MergeDType } from '../formats/dtype';
import type { TensorData, TensorName } from '../formats/tensor';
import { maskWords } from './cpu/kernels';
import type { MergeEngine } from './engine';
import { isEmr, type MergeResult } from './merge';
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
}

export function taskIndex(result: MergeResult, task: string): number {
  const t = result.set.tasks.findIndex((x) => x.name === task);
  if (t < 0)
    throw new RangeError(
      `no task named "${task}" (tasks: ${result.set.tasks.map((x) => x.name).join(', ')})`,
    );
  return t;
}

/** Bytes [start, end) of task t's version of a shared tensor, computed from the result on demand. */
function sharedTensorData(
  result: MergeResult,
  t: number,
  shared: SharedTensor,
  dtype: MergeDType,
  engine: MergeEngine,
): TensorData {
  const size = dtypeBytes(dtype);
  return {
    async read(start, end) {
      // Whole elements, from a multiple of 32 so the mask words line up.
      const first = Math.floor(start / size / 32) * 32;
      const last = Math.min(shared.numel, Math.ceil(end / size));
      let bytes: Uint8Array<ArrayBuffer>;
      if (isEmr(result)) {
        const s = dtypeBytes(shared.base.dtype);
        const base = { bytes: await shared.base.data.read(first * s, last * s), dtype: shared.base.dtype };
        const tau = (result.tauUni.get(shared.name) as Float32Array).subarray(first, last);
        const masks = result.masks.get(shared.name) as Uint32Array;
        const offset = t * maskWords(shared.numel) + first / 32;
        bytes = await engine.emrReconstruct(base, tau, masks, offset, result.lambdas[t] as number, dtype);
      } else {
        bytes = narrowFromF32((result.merged.get(shared.name) as Float32Array).subarray(first, last), dtype);
      }
      return bytes.subarray(start - first * size, end - first * size);
    },
  };
}

export function taskModel(
  result: MergeResult,
  t: number,
  engine: MergeEngine,
  budgetBytes = DEFAULT_BUDGET_BYTES,
): OutputTensor[] {
  const { set } = result;
  const task = set.tasks[t];
  if (!task) throw new RangeError(`task index ${t} out of range`);
  const stepBytes = chunkElements(1, budgetBytes) * 4;
  const sharedByName = new Map(set.shared.map((s) => [s.name, s] as const));
  return [...task.checkpoint.tensors.values()].map((entry) => {
    const shared = sharedByName.get(entry.name);
    const dtype = shared ? (shared.tasks[t] as SharedTensor['tasks'][number]).dtype : entry.dtype;
    const data = shared ? sharedTensorData(result, t, shared, dtype as MergeDType, engine) : entry.data;
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
    };
  });
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
