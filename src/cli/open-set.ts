// The CLI's model set: the base and every task opened from their headers (a local file or folder,
// a PEFT adapter, a remote repo), then checked and aligned by src/flow/checks.ts — a refusal comes
// before any engine starts and before any tensor byte is read.
import type { Checkpoint } from '../formats/tensor';
import type { ModelSet } from '../merge/model-set';
import type { LoraKernel } from '../peft/kernel';
import type { TaskSource } from '../peft/set';
import { checkedModelSet, type SetOptions } from '../flow/checks';
import { openAdapter, openPath, type OpenFiles } from './files';
import type { MergeJob } from './job';
import { isRemote, openRemote } from './remote';

export async function openSet(
  job: Pick<MergeJob, 'base' | 'tasks'>,
  files: OpenFiles,
  lora?: LoraKernel,
  options: SetOptions = {},
): Promise<ModelSet> {
  // allSettled: no read is still in flight when the first failure reaches the caller and files close.
  const opened = await Promise.allSettled([
    openPath(job.base, files),
    ...job.tasks.map(async (t) => {
      if (isRemote(t.path)) {
        // A remote repo is read once: a model, or an adapter with its config.
        const remote = await openRemote(t.path, files.remote);
        return { name: t.name, checkpoint: remote.checkpoint, ...(remote.peft ? { peft: remote.peft } : {}) };
      }
      // A PEFT adapter (its folder or adapter_config.json) is a task over the base (src/peft).
      const adapter = await openAdapter(t.path, files);
      return adapter
        ? { name: t.name, checkpoint: adapter.checkpoint, peft: adapter.config }
        : { name: t.name, checkpoint: await openPath(t.path, files) };
    }),
  ]);
  const failed = opened.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
  const [base, ...tasks] = opened.map((o) => (o as PromiseFulfilledResult<unknown>).value) as [
    Checkpoint,
    ...TaskSource[],
  ];
  return checkedModelSet(base, tasks, lora, options);
}
