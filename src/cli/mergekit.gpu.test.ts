// Plan: `merge --method linear|model_stock --engine gpu` through dawn.node (SwiftShader here) says it
// merged on the GPU engine and writes the same bytes as `--engine cpu`, every file, from bf16 task
// checkpoints over an f32 base — with linear's sum and model_stock's blend on the GPU's programs for
// the tensor past the size rule (64 Ki elements; counted, so a CLI that stopped using them fails)
// and the small one on the CPU twins. Runs where dawn.node does (gpu-node project).
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeOnBothEngines, writeGpuSet } from './testing-gpu';

let dir: string;
beforeAll(async () => {
  // Zeros of both signs, elements equal to the base, and offsets of every size.
  dir = await writeGpuSet({
    name: 'mergekit-gpu',
    seed: 11,
    taskDtype: 'BF16',
    delta: (x, i, rnd) => (i % 11 === 0 ? -0 : i % 13 === 0 ? x : x + rnd() * 0.05),
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function mergeBoth(name: string, method: string, params: string[], program: string) {
  const args = ['--method', method, ...params.flatMap((p) => ['--param', p])];
  const { programs } = await mergeOnBothEngines(dir, name, args);
  // The big tensor on the program, once; the small one on the CPU twin.
  expect(programs.filter((p) => p === program)).toEqual([program]);
}

describe('merge-studio merge --method linear|model_stock on the GPU engine', () => {
  it('linear: reports the GPU engine and writes the same bytes as --engine cpu', async () => {
    await mergeBoth('linear', 'linear', ['weight=0.7'], 'linear-mix');
    await mergeBoth('linear-raw', 'linear', ['weight=0.3', 'normalize=false'], 'linear-mix');
  });

  it('model_stock: the same, whole tensors and per row', async () => {
    await mergeBoth('stock', 'model_stock', [], 'stock-blend');
    await mergeBoth('stock-rows', 'model_stock', ['filter_wise=true'], 'stock-blend');
  });
});
