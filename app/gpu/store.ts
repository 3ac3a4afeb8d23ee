// What the page knows about WebGPU: probed once at start, read by every view that picks an engine.
import { createStore } from 'zustand/vanilla';
import { acquireGpu, type GpuInfo } from '../../src/gpu/device';

export type GpuState =
  | { readonly status: 'probing' }
  | { readonly status: 'ready'; readonly info: GpuInfo }
  | { readonly status: 'unavailable'; readonly reason: string };

export const gpuStore = createStore<GpuState>(() => ({ status: 'probing' }));

export async function probeGpu(): Promise<void> {
  try {
    const { device, info } = await acquireGpu();
    device.destroy(); // the engine acquires its own; this probe only reports what is there
    gpuStore.setState({ status: 'ready', info });
  } catch (e) {
    gpuStore.setState({ status: 'unavailable', reason: e instanceof Error ? e.message : String(e) });
  }
}
