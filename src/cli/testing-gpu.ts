// Test helpers for the CLI's GPU runs through dawn.node: a base and three tasks past the GPU
// engine's size rules (a [260, 257] weight, a 37-element bias), and one merge run on both engines —
// the GPU programs it dispatched counted, both runs' files compared byte for byte.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { narrowFromF32 } from '../formats/dtype';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { recordPrograms } from '../gpu/testing/programs';
import { runCli } from './testing';

export const GPU_TASKS = ['a', 'b', 'c'];
/** Past the GPU engine's size rules (64 Ki elements), rows of 257 and a ragged last mask word. */
export const BIG = [260, 257];

export interface GpuSetOptions {
  readonly name: string;
  readonly seed: number;
  /** Task t's value from the base's (x) at element i; `rnd` draws in [-1, 1). */
  readonly delta: (x: number, i: number, rnd: () => number) => number;
  readonly taskDtype?: 'F32' | 'BF16';
}

/** Writes base.safetensors (f32) and a.safetensors … c.safetensors into a new temporary folder. */
export async function writeGpuSet(o: GpuSetOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `merge-studio-${o.name}-`));
  let s = o.seed;
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
  const delta = (x: number, i: number) => o.delta(x, i, rnd);
  for (const t of GPU_TASKS) await write(t, w.map(delta), b.map(delta), o.taskDtype ?? 'F32');
  return dir;
}

/**
 * `merge --method M` over the set in `dir`, on the GPU engine (into `<name>-gpu`) then the CPU
 * engine (`<name>-cpu`): both exit cleanly, the same files with the same bytes. Returns the GPU
 * programs the first run dispatched, in order, and what each run printed.
 */
export async function mergeOnBothEngines(
  dir: string,
  name: string,
  args: readonly string[],
): Promise<{ programs: string[]; gpuOut: string; cpuOut: string; files: string[] }> {
  const flags = [
    'merge',
    '--base',
    join(dir, 'base.safetensors'),
    ...GPU_TASKS.flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]),
    ...args,
  ];
  const { programs, restore } = recordPrograms();
  let gpu: Awaited<ReturnType<typeof runCli>>;
  try {
    gpu = await runCli([...flags, '--engine', 'gpu', '--out', join(dir, `${name}-gpu`)]);
  } finally {
    restore();
  }
  const cpu = await runCli([...flags, '--engine', 'cpu', '--out', join(dir, `${name}-cpu`)]);
  expect([gpu.code, gpu.err, cpu.code, cpu.err], gpu.err).toEqual([0, '', 0, '']);
  expect(gpu.out).toMatch(/ on GPU: /);
  expect(cpu.out).toMatch(/ on CPU/);
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
  return { programs, gpuOut: gpu.out, cpuOut: cpu.out, files };
}
