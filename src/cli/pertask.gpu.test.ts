// Plan: `merge --method t_switch --engine gpu` through dawn.node (SwiftShader here) says it merged on
// the GPU engine and writes the same bytes as `--engine cpu` — every task model and the artefact —
// with T-Switch's bit pass and the task models' reconstruction on the GPU's programs for the tensor
// past the size rule (64 Ki elements; counted, so a CLI that stopped using them fails) and the small
// one on the CPU twins. And `--method tsv_c --engine gpu`: TSV-C has no GPU program (its SVD and
// low-rank products run on the CPU twins, docs/merge.md#tsv-c), yet it says it ran on the GPU
// engine and writes the same bytes as --engine cpu, with no per-task dispatch. Runs where
// dawn.node does (gpu-node project).
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPU_TASKS, mergeOnBothEngines, writeGpuSet } from './testing-gpu';

let dir: string;
beforeAll(async () => {
  // τ exactly 0 in places and |τ| ties between elements, as the drop's thresholds meet them.
  dir = await writeGpuSet({
    name: 'pertask-gpu',
    seed: 5,
    delta: (x, i, rnd) => (i % 11 === 0 ? x : i % 13 === 0 ? x + 0.03125 : x + rnd() * 0.05),
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('merge-studio merge --method t_switch on the GPU engine', () => {
  it('reports the GPU engine and writes the same bytes as --engine cpu', async () => {
    const { programs, gpuOut, cpuOut, files } = await mergeOnBothEngines(dir, 'tswitch', [
      '--method',
      't_switch',
    ]);
    expect(gpuOut).toMatch(/T-Switch \(drop ratio 0\.6\) on GPU: /);
    expect(cpuOut).toMatch(/T-Switch \(drop ratio 0\.6\) on CPU/);
    // The big tensor's bit pass (one per task) and its reconstruction on the GPU's programs.
    const count = (p: string) => programs.filter((x) => x === p).length;
    expect([count('pertask-bits-switch'), count('pertask-reconstruct-switch')]).toEqual([3, 3]);
    expect(files).toEqual(
      [...GPU_TASKS.map((t) => `${t}.safetensors`), 't_switch-artefact.safetensors'].sort(),
    );
  });

  it('tsv_c: runs its SVD and products on the CPU twins and writes the same bytes as --engine cpu', async () => {
    const { programs, gpuOut, files } = await mergeOnBothEngines(dir, 'tsvc', ['--method', 'tsv_c']);
    expect(gpuOut).toMatch(/TSV-C \(task singular vectors, compressed; rank fraction 1\/N\) on GPU: /);
    expect(programs.filter((p) => p.startsWith('pertask-'))).toEqual([]);
    expect(files).toEqual([...GPU_TASKS.map((t) => `${t}.safetensors`), 'tsv_c-artefact.safetensors'].sort());
  });
});
