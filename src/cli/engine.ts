// The CLI's engine: --engine cpu | gpu; by default the GPU when the machine has a hardware adapter,
// else the CPU with a one-line notice saying why (docs/architecture.md#engine-default). The GPU code
// (dawn.node) loads only when it may be used; the fallback and LoRA recipe is src/flow/engine.ts.
import { createNodeCpuEngine } from '../merge/cpu/node-engine';
import type { MergeEngine } from '../merge/engine';
import type { SwitchingLoraKernel } from '../peft/kernel';
import { loraOnEngine, withCpuFallback } from '../flow/engine';
import { UsageError } from './job';

const say = (line: string) => process.stderr.write(`merge-studio: ${line}\n`);

/** A lost GPU finishes the merge on the CPU engine, with a line saying so. */
const gpuWithFallback = (gpu: MergeEngine) =>
  withCpuFallback(gpu, createNodeCpuEngine, (why) =>
    say(`the GPU failed (${why}); the merge goes on on the CPU engine`),
  );

export async function engineFor(name: string | undefined): Promise<MergeEngine> {
  if (name === 'cpu') return createNodeCpuEngine();
  if (name === 'gpu') return gpuWithFallback(await (await import('./gpu')).gpuEngine());
  if (name !== undefined) throw new UsageError(`--engine must be cpu or gpu, got "${name}"`);
  const decision = await (await import('./gpu')).gpuEngineIfFast();
  if (decision.engine) return gpuWithFallback(decision.engine);
  say(decision.notice);
  return createNodeCpuEngine();
}

/** LoRA deltas on the GPU (same bytes) once the engine is the GPU one; else the CPU twin. */
export async function loraFor(engine: MergeEngine, lora: SwitchingLoraKernel): Promise<void> {
  await loraOnEngine(engine, lora, async () => (await import('./gpu')).gpuLoraKernel());
}
