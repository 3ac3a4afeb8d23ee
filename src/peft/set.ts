// A model set some of whose tasks are PEFT adapters: LoRA adapters become full task checkpoints
// over the base (computed on read); (IA)³ adapters merge as their scaling vectors over a base of
// ones, so a set of them must be (IA)³ throughout. LoRA deltas run on the kernel the caller gives.
import type { Checkpoint } from '../formats/tensor';
import { cpuLoraKernel, type LoraKernel } from './kernel';
import { ia3Checkpoints, loraCheckpoint, PeftError, type PeftConfig } from './lora';

export interface TaskSource {
  readonly name: string;
  readonly checkpoint: Checkpoint;
  /** Present when the task is a PEFT adapter (its adapter_config.json). */
  readonly peft?: PeftConfig;
}

export function withAdapters(
  base: Checkpoint,
  tasks: readonly TaskSource[],
  /** Where LoRA deltas are computed when a task's tensor is read (the CPU twin by default). */
  kernel: LoraKernel = cpuLoraKernel,
): { base: Checkpoint; tasks: { name: string; checkpoint: Checkpoint }[] } {
  const ia3 = tasks.filter((t) => t.peft?.peftType === 'IA3');
  if (ia3.length) {
    if (ia3.length !== tasks.length)
      throw new PeftError(
        ia3[0]?.checkpoint.files[0] ?? 'adapter',
        `(IA)³ adapters merge as their scaling vectors and cannot be mixed with other tasks (${tasks
          .filter((t) => t.peft?.peftType !== 'IA3')
          .map((t) => t.name)
          .join(', ')})`,
      );
    const sets = ia3.map((t) => ({ name: t.name, ...ia3Checkpoints(t.checkpoint) }));
    return {
      base: (sets[0] as (typeof sets)[number]).base,
      tasks: sets.map((s) => ({ name: s.name, checkpoint: s.task })),
    };
  }
  return {
    base,
    tasks: tasks.map((t) => ({
      name: t.name,
      checkpoint: t.peft ? loraCheckpoint(base, t.checkpoint, t.peft, kernel) : t.checkpoint,
    })),
  };
}
