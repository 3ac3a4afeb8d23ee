// A task's model written into a folder through src/flow/write-task.ts (the one writer), every file
// under a temporary name and renamed only when all of them are complete.
import { join } from 'node:path';
import type { MergeEngine } from '../merge/engine';
import type { AnyMergeResult } from '../merge/merge';
import { writeTaskModel, type WriteTaskOptions } from '../flow/write-task';
import { atomicOutput, type AtomicOutput } from './files';

export async function writeTaskFiles(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  dir: string,
  options: WriteTaskOptions,
  signal: AbortSignal,
): Promise<{ task: string; file: string; bytes: number }> {
  const outputs = new Map<string, AtomicOutput>();
  try {
    const written = await writeTaskModel(result, t, engine, options, async (file) => {
      const out = await atomicOutput(join(dir, file), signal);
      outputs.set(file, out);
      return out.sink;
    });
    for (const [file, out] of outputs)
      if (written.unused.includes(file)) await out.discard();
      else await out.commit();
    return { task: written.task, file: join(dir, written.file), bytes: written.bytes };
  } catch (e) {
    await Promise.all([...outputs.values()].map((o) => o.discard()));
    throw e;
  }
}
