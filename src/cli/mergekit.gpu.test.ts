// Plan: `merge --method linear|model_stock --engine gpu` through dawn.node (SwiftShader here) says it
// merged on the GPU engine and writes the same bytes as `--engine cpu`, every file, from bf16 task
// checkpoints over an f32 base — with linear's sum and model_stock's blend on the GPU's programs for
// the tensor past the size rule (64 Ki elements; counted, so a CLI that stopped using them fails)
// and the small one on the CPU twins. Runs where dawn.node does (gpu-node project).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { narrowFromF32 } from '../formats/dtype';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { GpuRuntime } from '../gpu/runtime/runtime';
import { runCli } from './testing';

let dir: string;
const TASKS = ['a', 'b', 'c'];
/** Past the GPU engine's mergekit size rule (MERGEKIT_GPU_MIN_ELEMENTS), rows of 257. */
const BIG = [260, 257];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-mergekit-gpu-'));
  let s = 11;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const w = Float32Array.from({ length: (BIG[0] as number) * (BIG[1] as number) }, rnd);
  const b = Float32Array.from({ length: 37 }, rnd);
  const write = (name: string, w: Float32Array, b: Float32Array, dtype: 'F32' | 'BF16') =>
    fileSink(join(dir, `${name}.safetensors`)).then((sink) =>
      writeSafetensors(sink, [
        { name: 'w', dtype, shape: BIG, bytes: narrowFromF32(w, dtype) },
        { name: 'b', dtype, shape: [37], bytes: narrowFromF32(b, dtype) },
      ]),
    );
  await write('base', w, b, 'F32');
  // Zeros of both signs, elements equal to the base, and offsets of every size.
  const delta = (x: number, i: number) => (i % 11 === 0 ? -0 : i % 13 === 0 ? x : x + rnd() * 0.05);
  for (const t of TASKS) await write(t, w.map(delta), b.map(delta), 'BF16');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function mergeBoth(name: string, method: string, params: string[], program: string) {
  const flags = [
    'merge',
    '--base',
    join(dir, 'base.safetensors'),
    ...TASKS.flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]),
    '--method',
    method,
    ...params.flatMap((p) => ['--param', p]),
  ];
  const programs: string[] = [];
  const run = GpuRuntime.prototype.run;
  const spy = vi.spyOn(GpuRuntime.prototype, 'run').mockImplementation(function (
    this: GpuRuntime,
    spec,
    slot,
  ) {
    programs.push(spec.program);
    return run.call(this, spec, slot);
  });
  let gpu: Awaited<ReturnType<typeof runCli>>;
  try {
    gpu = await runCli([...flags, '--engine', 'gpu', '--out', join(dir, `${name}-gpu`)]);
  } finally {
    spy.mockRestore();
  }
  const cpu = await runCli([...flags, '--engine', 'cpu', '--out', join(dir, `${name}-cpu`)]);
  expect([gpu.code, gpu.err, cpu.code, cpu.err], gpu.err).toEqual([0, '', 0, '']);
  expect(gpu.out).toMatch(/ on GPU: /);
  expect(cpu.out).toMatch(/ on CPU/);
  // The big tensor on the program, once; the small one on the CPU twin.
  expect(programs.filter((p) => p === program)).toEqual([program]);
  const files = (await readdir(join(dir, `${name}-gpu`))).sort();
  expect(files.length).toBeGreaterThan(0);
  expect((await readdir(join(dir, `${name}-cpu`))).sort()).toEqual(files);
  for (const f of files)
    expect(
      Buffer.compare(
        await readFile(join(dir, `${name}-gpu`, f)),
        await readFile(join(dir, `${name}-cpu`, f)),
      ),
      f,
    ).toBe(0);
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
