// Plan: the embedded digits-8 zoo, as the studio will load it (fetched into Blobs, read through
// src/formats): every model's ONNX initializers equal its safetensors tensors, and each task's
// ONNX model run by onnxruntime-web in Chromium on its labeled eval set reproduces the individual
// accuracy the training script recorded in the manifest (to 0.5 %).
import { describe, expect, it } from 'vitest';
import { openOnnx } from '../formats/onnx';
import { openSafetensors } from '../formats/safetensors';
import { blobSource } from '../formats/source';
import { readTensor, tensorName } from '../formats/tensor';
import { accuracy } from './evaluate';
import { createSession } from './ort';

const ZOO = '/zoo/digits-8/';

interface Manifest {
  base: { id: string; onnx: string; safetensors: string };
  tasks: {
    id: string;
    onnx: string;
    safetensors: string;
    eval: string;
    individualAccuracy: number;
    classes: string[];
  }[];
}

async function blob(path: string) {
  const res = await fetch(ZOO + path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return blobSource(await res.blob(), path);
}

const manifest = (await (await fetch(`${ZOO}manifest.json`)).json()) as Manifest;

describe('digits-8 zoo', () => {
  it('has a base and 8 tasks', () => {
    expect(manifest.tasks).toHaveLength(8);
  });

  for (const model of [manifest.base, ...manifest.tasks]) {
    it(`${model.id}: ONNX initializers equal the safetensors tensors`, async () => {
      const onnx = await openOnnx(await blob(model.onnx));
      const st = await openSafetensors(await blob(model.safetensors));
      expect([...onnx.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
      for (const [name, entry] of st.tensors) {
        const other = onnx.tensors.get(tensorName(name));
        expect(other?.shape).toEqual(entry.shape);
        expect(other?.dtype).toBe(entry.dtype);
        expect(await readTensor(other as NonNullable<typeof other>)).toEqual(await readTensor(entry));
      }
    });
  }

  for (const task of manifest.tasks) {
    it(`${task.id}: onnxruntime-web reproduces the recorded accuracy`, async () => {
      const evalSet = await openSafetensors(await blob(task.eval));
      const inputs = evalSet.tensors.get(tensorName('inputs'));
      const labels = evalSet.tensors.get(tensorName('labels'));
      if (!inputs || !labels) throw new Error(`${task.eval} lacks inputs or labels`);
      expect(inputs.dtype).toBe('F32');
      expect(labels.dtype).toBe('I64');
      const model = new Uint8Array(await (await fetch(ZOO + task.onnx)).arrayBuffer());
      const session = await createSession(model, { provider: 'wasm' });
      const result = await accuracy(session, {
        inputs: new Float32Array((await readTensor(inputs)).buffer),
        sampleShape: inputs.shape.slice(1),
        labels: new BigInt64Array((await readTensor(labels)).buffer),
      });
      await session.release();
      console.info(
        `${task.id}: ${(result.accuracy * 100).toFixed(2)} % (manifest ${(task.individualAccuracy * 100).toFixed(2)} %)`,
      );
      expect(Math.abs(result.accuracy - task.individualAccuracy)).toBeLessThanOrEqual(0.005);
    });
  }
});
