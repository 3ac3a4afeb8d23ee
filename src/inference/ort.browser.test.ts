// Plan: the inference wrapper runs a torch-exported ONNX model in real Chromium on both execution
// providers, says which one it got, and both give the same logits (to float tolerance) and the same
// classes; a file that is not a model is refused with a clear error.
import { expect, it } from 'vitest';
import mlpUrl from '../formats/onnx/__fixtures__/mlp.onnx?url';
import { acquireGpu } from '../gpu/device';
import { argmax } from './evaluate';
import { createSession } from './ort';

async function logits(provider: 'wasm' | 'webgpu', device?: GPUDevice) {
  const bytes = new Uint8Array(await (await fetch(mlpUrl)).arrayBuffer());
  const session = await createSession(bytes, { provider, ...(device ? { device } : {}) });
  const input = Float32Array.from({ length: 3 * 64 }, (_, i) => ((i * 37) % 17) / 16);
  const out = await session.run(input, [3, 1, 8, 8]);
  await session.release();
  return { provider: session.provider, inputs: session.inputNames, ...out };
}

it('runs on wasm and on WebGPU with the same results', async () => {
  const wasm = await logits('wasm');
  const gpu = await logits('webgpu');
  expect(wasm.provider).toBe('wasm');
  expect(gpu.provider).toBe('webgpu');
  expect(wasm.inputs).toEqual(['pixels']);
  expect(gpu.dims).toEqual(wasm.dims);
  const classes = wasm.dims[1] as number;
  for (let i = 0; i < wasm.data.length; i++) expect(gpu.data[i]).toBeCloseTo(wasm.data[i] as number, 4);
  for (let r = 0; r < 3; r++)
    expect(argmax(gpu.data, r * classes, classes)).toBe(argmax(wasm.data, r * classes, classes));
});

it("runs WebGPU sessions on the page's own device when given one", async () => {
  const wasm = await logits('wasm');
  const { device } = await acquireGpu();
  const shared = await logits('webgpu', device);
  expect(shared.provider).toBe('webgpu');
  for (let i = 0; i < wasm.data.length; i++) expect(shared.data[i]).toBeCloseTo(wasm.data[i] as number, 4);
  // The session really ran on that device: with it destroyed, a new session cannot run there.
  device.destroy();
  await device.lost;
  const after = await logits('webgpu', device).catch((e: unknown) => e);
  expect(after instanceof Error || (after as { provider: string }).provider === 'wasm').toBe(true);
});

it('refuses bytes that are not a model', async () => {
  await expect(createSession(new TextEncoder().encode('not a model'))).rejects.toThrow(
    /onnxruntime-web could not load the model/,
  );
});
