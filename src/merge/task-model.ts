// A task's full model from a merge result: its shared tensors as the method made them (narrowed
// to the task's own dtype) and its task-specific tensors passed through, in its own file order.
// Tensors come out as chunk streams, so a writer never needs a whole model in memory.
import { dtypeBytes, narrowFromF32, type DType } from '../formats/dtype';
import type { TensorName } from '../formats/tensor';
import { maskWords } from './cpu/kernels';
import type { MergeEngine } from './engine';
import { isEmr, type MergeResult } from './merge';
import { chunkElements, DEFAULT_BUDGET_BYTES } from './scheduler';

export interface OutputTensor {
  readonly name: TensorName;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** The tensor's bytes in order, in pieces of bounded size. */
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

export function taskModel(
  result: MergeResult,
  t: number,
  engine: MergeEngine,
  budgetBytes = DEFAULT_BUDGET_BYTES,
): OutputTensor[] {
  const { set } = result;
  const task = set.tasks[t];
  if (!task) throw new RangeError(`task index ${t} out of range`);
  const step = chunkElements(1, budgetBytes);
  const sharedByName = new Map(set.shared.map((s, i) => [s.name, i] as const));
  const out: OutputTensor[] = [];
  for (const entry of task.checkpoint.tensors.values()) {
    const si = sharedByName.get(entry.name);
    if (si === undefined) {
      out.push({
        name: entry.name,
        dtype: entry.dtype,
        shape: entry.shape,
        byteLength: entry.byteLength,
        async *chunks() {
          const bytesStep = step * 4;
          for (let at = 0; at < entry.byteLength; at += bytesStep) {
            yield await entry.data.read(at, Math.min(entry.byteLength, at + bytesStep));
          }
        },
      });
      continue;
    }
    const shared = set.shared[si] as (typeof set.shared)[number];
    const dtype = (shared.tasks[t] as (typeof shared.tasks)[number]).dtype;
    out.push({
      name: entry.name,
      dtype,
      shape: shared.shape,
      byteLength: shared.numel * dtypeBytes(dtype),
      async *chunks() {
        for (let start = 0; start < shared.numel; start += step) {
          const n = Math.min(step, shared.numel - start);
          let values: Float32Array;
          if (isEmr(result)) {
            const baseDtype = shared.base.dtype;
            const s = dtypeBytes(baseDtype);
            const base = { bytes: await shared.base.data.read(start * s, (start + n) * s), dtype: baseDtype };
            const tau = (result.tauUni.get(shared.name) as Float32Array).subarray(start, start + n);
            const masks = result.masks.get(shared.name) as Uint32Array;
            const offset = t * maskWords(shared.numel) + start / 32;
            values = await engine.emrReconstruct(base, tau, masks, offset, result.lambdas[t] as number);
          } else {
            values = (result.merged.get(shared.name) as Float32Array).subarray(start, start + n);
          }
          yield narrowFromF32(values, dtype);
        }
      },
    });
  }
  return out;
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
