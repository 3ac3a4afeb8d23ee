// The GPU engine in Node, through dawn.node (the `webgpu` package): the same WGSL kernels as the
// studio, on the user's GPU. Without a GPU, Dawn finds the SwiftShader driver that Chromium ships
// when VK_ICD_FILENAMES points at it (the tests do this).
import { tmpdir } from 'node:os';
import { create, globals } from 'webgpu';
import { acquireGpu, type Gpu } from '../gpu/device';
import { GpuEngine } from '../gpu/engine';
import { GpuLoraKernel } from '../gpu/lora';

let dawn: GPU | undefined; // one per process, kept referenced: dawn.node must not be collected

async function dawnGpu(): Promise<Gpu> {
  if (!dawn) {
    // Vulkan's window-system probe complains without it; the CLI never opens a window.
    process.env['XDG_RUNTIME_DIR'] ??= tmpdir();
    Object.assign(globalThis, globals);
    dawn = create([]);
  }
  return acquireGpu(dawn);
}

export type EngineDecision =
  { engine: GpuEngine; notice?: undefined } | { engine?: undefined; notice: string };

/**
 * The GPU engine if the machine has a hardware adapter; otherwise why not. A software adapter
 * (SwiftShader, llvmpipe) is slower than the CPU engine, so it is used only when asked for.
 */
export async function gpuEngineIfFast(): Promise<EngineDecision> {
  try {
    const gpu = await dawnGpu();
    if (gpu.info.isSoftware) {
      gpu.device.destroy();
      return {
        notice: `the only GPU adapter is a software one (${gpu.info.name}), slower than the CPU engine: using the CPU engine`,
      };
    }
    return { engine: new GpuEngine(gpu, true) };
  } catch (e) {
    return {
      notice: `no GPU adapter (${e instanceof Error ? e.message.split('.')[0] : String(e)}): using the CPU engine`,
    };
  }
}

/** The GPU engine, whatever the adapter (--engine gpu). */
export async function gpuEngine(): Promise<GpuEngine> {
  return new GpuEngine(await dawnGpu(), true);
}

/** The LoRA kernel on a device of its own, for a merge on the GPU engine (src/peft/kernel.ts). */
export async function gpuLoraKernel(): Promise<GpuLoraKernel> {
  return new GpuLoraKernel(await dawnGpu(), true);
}
