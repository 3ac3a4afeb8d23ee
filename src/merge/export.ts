// Writes a task's model from a merge result in the format the task came in: safetensors streamed
// tensor by tensor, or the task's own ONNX graph with its shared initializers replaced.
import type { OnnxCheckpoint, OnnxExternalDataTarget } from '../formats/onnx';
import { createSafetensorsWriter, type SafetensorsWriter } from '../formats/safetensors';
import type { ByteSink } from '../formats/sink';
import type { TensorData, TensorName } from '../formats/tensor';
import type { MergeEngine } from './engine';
import type { AnyMergeResult } from './merge';
import { taskModel, type OutputTensor } from './task-model';

export async function writeTaskSafetensors(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  sink: ByteSink,
  budgetBytes?: number,
): Promise<number> {
  const tensors = taskModel(result, t, engine, budgetBytes);
  const task = result.set.tasks[t];
  const metadata = new Map(task?.checkpoint.format === 'safetensors' ? task.checkpoint.metadata : []);
  metadata.set('merge_studio', JSON.stringify({ method: result.spec, task: task?.name }));
  return writeTensors(await createSafetensorsWriter(sink, tensors, metadata), tensors);
}

/** Streams output tensors into a safetensors writer and closes it; returns the data bytes written. */
export async function writeTensors(
  writer: SafetensorsWriter,
  tensors: readonly OutputTensor[],
): Promise<number> {
  let bytes = 0;
  // One write in flight while the next chunk is read and computed (so a transient piece is written
  // before its buffer comes round again).
  let pending: Promise<void> = Promise.resolve();
  try {
    for (const tensor of tensors) {
      for await (const chunk of tensor.transientChunks?.() ?? tensor.chunks()) {
        await pending;
        pending = writer.write(tensor.name, chunk);
        bytes += chunk.byteLength;
      }
    }
    await pending;
    await writer.close();
  } finally {
    // Every piece is written (or its write failed) before the buffers behind them go back.
    await pending.catch(() => {});
    for (const tensor of tensors) tensor.release?.();
  }
  return bytes;
}

export function isOnnxTask(result: AnyMergeResult, t: number): boolean {
  return result.set.tasks[t]?.checkpoint.format === 'onnx';
}

/**
 * The task's ONNX model with every merged initializer replaced and every other byte of its graph
 * kept. Weights go to `externalData` when the model would pass protobuf's 2 GB limit (or were
 * external in the task's file).
 */
export async function writeTaskOnnx(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  sink: ByteSink,
  externalData?: OnnxExternalDataTarget,
): Promise<{ modelBytes: number; externalBytes: number }> {
  const task = result.set.tasks[t];
  if (!task || task.checkpoint.format !== 'onnx')
    throw new RangeError(`task ${task?.name ?? t} did not come as ONNX`);
  const shared = new Set<string>(result.set.shared.map((s) => s.name));
  const replacements = new Map<TensorName, TensorData>();
  for (const tensor of taskModel(result, t, engine))
    if (shared.has(tensor.name)) replacements.set(tensor.name, tensor.data);
  // Loaded here, not above: a merge of safetensors never loads the ONNX code (../formats/open.ts).
  const { writeOnnx } = await import('../formats/onnx');
  const written = await writeOnnx(
    task.checkpoint as OnnxCheckpoint,
    replacements,
    sink,
    externalData ? { externalData } : {},
  );
  return { modelBytes: written.modelBytes, externalBytes: written.externalBytes };
}
