// Writes a task's model from a merge result as safetensors, streaming tensor by tensor.
import { createSafetensorsWriter } from '../formats/safetensors';
import type { ByteSink } from '../formats/sink';
import type { MergeEngine } from './engine';
import type { MergeResult } from './merge';
import { taskModel } from './task-model';

export async function writeTaskSafetensors(
  result: MergeResult,
  t: number,
  engine: MergeEngine,
  sink: ByteSink,
  budgetBytes?: number,
): Promise<number> {
  const tensors = taskModel(result, t, engine, budgetBytes);
  const task = result.set.tasks[t];
  const metadata = new Map(task?.checkpoint.format === 'safetensors' ? task.checkpoint.metadata : []);
  metadata.set('merge_studio', JSON.stringify({ method: result.spec, task: task?.name }));
  const writer = await createSafetensorsWriter(sink, tensors, metadata);
  let bytes = 0;
  for (const tensor of tensors) {
    for await (const chunk of tensor.chunks()) {
      await writer.write(tensor.name, chunk);
      bytes += chunk.byteLength;
    }
  }
  await writer.close();
  return bytes;
}
