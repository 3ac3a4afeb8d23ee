// Plan: `merge --method t_switch --engine gpu` through dawn.node (SwiftShader here) says it merged on
// the GPU engine and writes the same bytes as `--engine cpu` — every task model and the artefact —
// with T-Switch's bit pass and the task models' reconstruction on the GPU's programs for the tensor
// past the size rule (64 Ki elements; counted, so a CLI that stopped using them fails) and the small
// one on the CPU twins. And `--method tsv_c --engine gpu`: TSV-C has no GPU program (its SVD and
// low-rank products run on the CPU twins, docs/merge.md#tsv-c), yet it says it ran on the GPU
// engine and writes the same bytes as --engine cpu, with no per-task dispatch. Runs where
// dawn.node does (gpu-node project).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { GpuRuntime } from '../gpu/runtime/runtime';
import { runCli } from './testing';

let dir: string;
const TASKS = ['a', 'b', 'c'];
/** Past the GPU engine's per-task size rule (PERTASK_GPU_MIN_ELEMENTS), with a ragged last word. */
const BIG = [260, 257];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-pertask-gpu-'));
  let s = 5;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const w = Float32Array.from({ length: (BIG[0] as number) * (BIG[1] as number) }, rnd);
  const b = Float32Array.from({ length: 37 }, rnd);
  const write = (name: string, w: Float32Array, b: Float32Array) =>
    fileSink(join(dir, `${name}.safetensors`)).then((sink) =>
      writeSafetensors(sink, [
        { name: 'w', dtype: 'F32', shape: BIG, bytes: new Uint8Array(w.buffer) },
        { name: 'b', dtype: 'F32', shape: [37], bytes: new Uint8Array(b.buffer) },
      ]),
    );
  await write('base', w, b);
  // τ exactly 0 in places and |τ| ties between elements, as the drop's thresholds meet them.
  const delta = (x: number, i: number) => (i % 11 === 0 ? x : i % 13 === 0 ? x + 0.03125 : x + rnd() * 0.05);
  for (const t of TASKS) await write(t, w.map(delta), b.map(delta));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('merge-studio merge --method t_switch on the GPU engine', () => {
  it('reports the GPU engine and writes the same bytes as --engine cpu', async () => {
    const flags = [
      'merge',
      '--base',
      join(dir, 'base.safetensors'),
      ...TASKS.flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]),
      '--method',
      't_switch',
    ];
    const programs: string[] = [];
    const run = GpuRuntime.prototype.run;
    const spy = vi.spyOn(GpuRuntime.prototype, 'run').mockImplementation(async function (
      this: GpuRuntime,
      spec,
      slot,
    ) {
      programs.push(spec.program);
      return run.call(this, spec, slot);
    });
    let gpu: Awaited<ReturnType<typeof runCli>>;
    try {
      gpu = await runCli([...flags, '--engine', 'gpu', '--out', join(dir, 'gpu')]);
    } finally {
      spy.mockRestore();
    }
    const cpu = await runCli([...flags, '--engine', 'cpu', '--out', join(dir, 'cpu')]);
    expect([gpu.code, gpu.err, cpu.code, cpu.err], gpu.err).toEqual([0, '', 0, '']);
    expect(gpu.out).toMatch(/T-Switch \(drop ratio 0\.6\) on GPU: /);
    expect(cpu.out).toMatch(/T-Switch \(drop ratio 0\.6\) on CPU/);
    // The big tensor's bit pass (one per task) and its reconstruction on the GPU's programs.
    const count = (p: string) => programs.filter((x) => x === p).length;
    expect([count('pertask-bits-switch'), count('pertask-reconstruct-switch')]).toEqual([3, 3]);
    const files = (await readdir(join(dir, 'gpu'))).sort();
    expect(files).toEqual([...TASKS.map((t) => `${t}.safetensors`), 't_switch-artefact.safetensors'].sort());
    expect((await readdir(join(dir, 'cpu'))).sort()).toEqual(files);
    for (const f of files)
      expect(
        Buffer.compare(await readFile(join(dir, 'gpu', f)), await readFile(join(dir, 'cpu', f))),
        f,
      ).toBe(0);
  });

  it('tsv_c: runs its SVD and products on the CPU twins and writes the same bytes as --engine cpu', async () => {
    const flags = [
      'merge',
      '--base',
      join(dir, 'base.safetensors'),
      ...TASKS.flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]),
      '--method',
      'tsv_c',
    ];
    const programs: string[] = [];
    const run = GpuRuntime.prototype.run;
    const spy = vi.spyOn(GpuRuntime.prototype, 'run').mockImplementation(async function (
      this: GpuRuntime,
      spec,
      slot,
    ) {
      programs.push(spec.program);
      return run.call(this, spec, slot);
    });
    let gpu: Awaited<ReturnType<typeof runCli>>;
    try {
      gpu = await runCli([...flags, '--engine', 'gpu', '--out', join(dir, 'tsvc-gpu')]);
    } finally {
      spy.mockRestore();
    }
    const cpu = await runCli([...flags, '--engine', 'cpu', '--out', join(dir, 'tsvc-cpu')]);
    expect([gpu.code, gpu.err, cpu.code, cpu.err], gpu.err).toEqual([0, '', 0, '']);
    expect(gpu.out).toMatch(/TSV-C \(task singular vectors, compressed; rank fraction 1\/N\) on GPU: /);
    expect(programs.filter((p) => p.startsWith('pertask-'))).toEqual([]);
    const files = (await readdir(join(dir, 'tsvc-gpu'))).sort();
    expect(files).toEqual([...TASKS.map((t) => `${t}.safetensors`), 'tsv_c-artefact.safetensors'].sort());
    for (const f of files)
      expect(
        Buffer.compare(await readFile(join(dir, 'tsvc-gpu', f)), await readFile(join(dir, 'tsvc-cpu', f))),
        f,
      ).toBe(0);
  });
});
