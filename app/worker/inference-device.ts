// The studio worker's GPUDevice for onnxruntime-web's WebGPU provider: acquired once through
// src/gpu/device.ts (the same adapter request, limits and optional features as the merge engine)
// and handed to every WebGPU session, so onnxruntime-web never requests a device of its own.
// A lost device is dropped; the next session gets a fresh one.
import { acquireGpu } from '../../src/gpu/device';

let held: Promise<GPUDevice | undefined> | undefined;

/** The device, or undefined when the page has no WebGPU adapter (sessions then run on wasm). */
export function inferenceDevice(): Promise<GPUDevice | undefined> {
  held ??= acquireGpu().then(
    ({ device }) => {
      void device.lost.then(() => {
        held = undefined;
      });
      return device;
    },
    () => {
      held = undefined; // no adapter now; ask again next time
      return undefined;
    },
  );
  return held;
}
