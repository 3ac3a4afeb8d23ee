// The CLI end-to-end tests' fixtures: a base and three fine-tunes (alpha, beta, gamma) with
// different head shapes, written as real safetensors files in a temp folder.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';

export async function writeModel(
  path: string,
  tensors: { name: string; shape: number[]; values: Float32Array }[],
) {
  await writeSafetensors(
    await fileSink(path),
    tensors.map((t) => ({
      name: t.name,
      dtype: 'F32' as const,
      shape: t.shape,
      bytes: new Uint8Array(t.values.buffer),
    })),
  );
}

/** A fresh temp folder holding base.safetensors and alpha, beta, gamma.safetensors. */
export async function cliInputs(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'merge-studio-cli-'));
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const w = Float32Array.from({ length: 100 }, rnd);
  const b = Float32Array.from({ length: 10 }, rnd);
  await writeModel(join(dir, 'base.safetensors'), [
    { name: 'w', shape: [10, 10], values: w },
    { name: 'b', shape: [10], values: b },
    { name: 'head.weight', shape: [4, 10], values: new Float32Array(40) },
  ]);
  for (const [t, classes] of [
    ['alpha', 3],
    ['beta', 2],
    ['gamma', 5],
  ] as const) {
    await writeModel(join(dir, `${t}.safetensors`), [
      { name: 'w', shape: [10, 10], values: w.map((x) => x + rnd() * 0.05) },
      { name: 'b', shape: [10], values: b.map((x) => x + rnd() * 0.05) },
      { name: 'head.weight', shape: [classes, 10], values: Float32Array.from({ length: classes * 10 }, rnd) },
    ]);
  }
  return dir;
}
