// The command line's side of the per-task methods (src/merge/pertask): the artefact file beside
// the task models, and reading an artefact for `apply` (their summary lines are src/flow/summary.ts's
// and ./print.ts's).
import { join } from 'node:path';
import type { Checkpoint } from '../formats/tensor';
import { openBundle } from '../merge/bundle';
import type { AnyMergeResult } from '../merge/merge';
import { isPerTaskArtefact, openPerTaskArtefact, writePerTaskArtefact } from '../merge/pertask/artefact';
import type { PerTaskResult } from '../merge/pertask/result';
import { isPerTaskSpec } from '../merge/pertask/spec';
import { atomicOutput } from './files';

/** The artefact's file name in the output folder, or undefined for a method without one. */
export function artefactFile(spec: { readonly method: string }): string | undefined {
  return isPerTaskSpec(spec) ? `${spec.method}-artefact.safetensors` : undefined;
}

/** Writes the artefact under its temporary name and renames it only when complete. */
export async function writeArtefactFile(
  result: PerTaskResult,
  outDir: string,
  signal: AbortSignal,
): Promise<{ file: string; bytes: number; taskModelsBytes: number }> {
  const file = join(outDir, artefactFile(result.spec) as string);
  const out = await atomicOutput(file, signal);
  try {
    const bytes = await writePerTaskArtefact(result, out.sink);
    await out.commit();
    const taskModelsBytes = result.set.tasks.reduce(
      (a, task) => a + [...task.checkpoint.tensors.values()].reduce((b, e) => b + e.byteLength, 0),
      0,
    );
    return { file, bytes, taskModelsBytes };
  } catch (e) {
    await out.discard();
    throw e;
  }
}

/** `apply --bundle`: an EMR bundle or a per-task artefact, told apart by its __metadata__ format. */
export function openAnyBundle(bundle: Checkpoint, base: Checkpoint): Promise<AnyMergeResult> {
  return isPerTaskArtefact(bundle) ? openPerTaskArtefact(bundle, base) : openBundle(bundle, base);
}
