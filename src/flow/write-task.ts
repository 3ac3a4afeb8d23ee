// The one writer of task models: a task's model from a merge result, in the format it came in —
// its own ONNX graph (with external data beside it when it must), one safetensors file, or Hugging
// Face shards with their index past the shard size. Files go through sinks by name, so the CLI
// (atomic files in --out), the studio (a download, a zip, a folder it was given) and a model folder
// all write the same bytes under the same names.
import type { ByteSink } from '../formats/sink';
import type { MergeEngine } from '../merge/engine';
import { writeTaskOnnx, writeTaskSafetensors } from '../merge/export';
import type { AnyMergeResult } from '../merge/merge';
import type { ModelSet } from '../merge/model-set';
import { indexName, planShards, shardName, writeShardedTask } from '../merge/sharded';

/** How task t of `result` is written: its format, and the files its safetensors export takes. */
export interface TaskLayout {
  readonly format: 'onnx' | 'safetensors';
  /** 1: one file; more: that many shards and an index. Always 1 for ONNX. */
  readonly shards: number;
}

export function taskLayout(result: { readonly set: ModelSet }, t: number, shardBytes: number): TaskLayout {
  const task = result.set.tasks[t];
  if (task?.checkpoint.format === 'onnx') return { format: 'onnx', shards: 1 };
  // Every output tensor has the byte length of the task's own entry (same shape, same dtype).
  const sizes = [...(task?.checkpoint.tensors.values() ?? [])].map((e) => e.byteLength);
  return { format: 'safetensors', shards: planShards(sizes, shardBytes).length };
}

export interface WriteTaskOptions {
  /** Task models past this many bytes are written as shards. */
  readonly shardBytes: number;
  /** The files' stem: the task's name by default ("model" inside a model folder). */
  readonly stem?: string;
  /** Bytes the writer may hold in flight (one-file safetensors). */
  readonly budgetBytes?: number;
  /**
   * ONNX: offer `<stem>.onnx.data` for weights that must go to external data (past protobuf's 2 GB,
   * or external in the task's file). Without it every weight is written inline.
   */
  readonly externalData?: boolean;
}

/**
 * The names of the files `writeTaskModel` may write for task t, known before the merge runs (the
 * CLI checks them against its inputs): the model, or the shards and their index; for ONNX the
 * external-data file too when it is offered.
 */
export function taskFiles(set: ModelSet, t: number, options: WriteTaskOptions): string[] {
  const stem = options.stem ?? set.tasks[t]?.name ?? `task${t}`;
  const layout = taskLayout({ set }, t, options.shardBytes);
  if (layout.format === 'onnx')
    return [`${stem}.onnx`, ...(options.externalData ? [`${stem}.onnx.data`] : [])];
  if (layout.shards <= 1) return [`${stem}.safetensors`];
  return [
    indexName(stem),
    ...Array.from({ length: layout.shards }, (_, k) => shardName(stem, k, layout.shards)),
  ];
}

export interface WrittenTask {
  readonly task: string;
  /** The file that names the model: `.onnx`, `.safetensors`, or the shards' index. */
  readonly file: string;
  readonly bytes: number;
  /** Files opened through `sinkFor` and left empty (an unused external-data file): to drop. */
  readonly unused: readonly string[];
}

/** Writes task t through sinks opened by file name; the caller commits or drops what it opened. */
export async function writeTaskModel(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  options: WriteTaskOptions,
  sinkFor: (file: string) => Promise<ByteSink>,
): Promise<WrittenTask> {
  const task = result.set.tasks[t]?.name ?? `task${t}`;
  const stem = options.stem ?? task;
  const layout = taskLayout(result, t, options.shardBytes);
  if (layout.format === 'onnx') {
    const file = `${stem}.onnx`;
    const model = await sinkFor(file);
    if (!options.externalData) {
      const w = await writeTaskOnnx(result, t, engine, model);
      return { task, file, bytes: w.modelBytes + w.externalBytes, unused: [] };
    }
    const location = `${stem}.onnx.data`;
    const w = await writeTaskOnnx(result, t, engine, model, { sink: await sinkFor(location), location });
    return {
      task,
      file,
      bytes: w.modelBytes + w.externalBytes,
      unused: w.externalBytes > 0 ? [] : [location],
    };
  }
  if (layout.shards > 1) {
    const bytes = await writeShardedTask(result, t, engine, stem, options.shardBytes, sinkFor);
    return { task, file: indexName(stem), bytes, unused: [] };
  }
  const file = `${stem}.safetensors`;
  const bytes = await writeTaskSafetensors(result, t, engine, await sinkFor(file), options.budgetBytes);
  return { task, file, bytes, unused: [] };
}
