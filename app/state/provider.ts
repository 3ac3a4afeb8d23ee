// Which onnxruntime-web execution provider steps 4 and 5 use when the user has not picked one: the
// same rule as the merge engine (./merge.ts defaultEngine). WebGPU on a real adapter; wasm without
// one or on a software adapter (SwiftShader, WARP, llvmpipe), where WebGPU is emulated on the CPU
// and the wasm runtime is faster.
import type { ExecutionProvider } from '../../src/inference/ort';
import { gpuStore, type GpuState } from '../gpu/store';
import { inferStore } from './infer';

export interface ProviderDefault {
  readonly provider: ExecutionProvider;
  readonly reason: string;
}

export function defaultProvider(
  gpu:
    | { status: 'probing' }
    | { status: 'ready'; info: { name: string; isSoftware: boolean } }
    | { status: 'unavailable'; reason: string },
): ProviderDefault {
  if (gpu.status === 'probing') return { provider: 'wasm', reason: 'Looking for a WebGPU adapter…' };
  if (gpu.status === 'unavailable') return { provider: 'wasm', reason: 'No WebGPU adapter.' };
  if (gpu.info.isSoftware)
    return {
      provider: 'wasm',
      reason: `${gpu.info.name} is a software adapter (WebGPU emulated on the CPU), slower than wasm.`,
    };
  return { provider: 'webgpu', reason: `${gpu.info.name} runs the models.` };
}

/** The provider in use: the user's pick, else the default for the adapter the page has. */
export function currentProvider(
  picked: ExecutionProvider | undefined = inferStore.getState().provider,
  gpu: GpuState = gpuStore.getState(),
): ExecutionProvider {
  return picked ?? defaultProvider(gpu).provider;
}
