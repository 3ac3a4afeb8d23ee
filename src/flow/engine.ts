// Engine set-up, the same recipe on every surface: a GPU engine finishes a merge on the CPU engine
// when its device is lost (or refuses an allocation), and LoRA deltas run on the GPU too when the
// merge does — on the CPU twin (same bytes) otherwise. How an engine or a device is made is the
// surface's (dawn.node in src/cli/gpu.ts, the browser's adapter in app/worker/engine-choice.ts).
import { FallbackEngine } from '../merge/fallback';
import type { MergeEngine } from '../merge/engine';
import type { LoraKernel, SwitchingLoraKernel } from '../peft/kernel';

/** The GPU engine, handing the rest of a merge to a CPU engine (made when first needed) if it fails. */
export function withCpuFallback(
  gpu: MergeEngine,
  cpu: () => MergeEngine,
  onFallBack?: (why: string) => void,
): MergeEngine {
  return new FallbackEngine(gpu, cpu, onFallBack);
}

/**
 * LoRA deltas on the GPU once the merge's engine is the GPU one; if no GPU kernel can be made, they
 * stay on the CPU twin, which gives the same bytes.
 */
export async function loraOnEngine(
  engine: MergeEngine,
  lora: SwitchingLoraKernel,
  gpuKernel: () => Promise<LoraKernel>,
): Promise<void> {
  if (engine.kind !== 'gpu') return;
  await gpuKernel().then(
    (k) => lora.use(k),
    () => {},
  );
}
