// Plan: the command line on the GPU engine through dawn.node (SwiftShader here): `--engine gpu`
// merges and writes the same task models as the CPU engine, and the default choice takes the GPU
// only for a hardware adapter, saying why otherwise. Runs where dawn.node does (gpu-node project).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireGpu } from '../gpu/device';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { gpuEngineIfFast } from './gpu';
import { runCli } from './testing';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-gpu-'));
  const w = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i));
  for (const [name, shift] of [
    ['base', 0],
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ] as const) {
    const v = w.map((x, i) => x + (shift ? Math.sin(i * shift) * 0.01 : 0));
    await writeSafetensors(await fileSink(join(dir, `${name}.safetensors`)), [
      { name: 'w', dtype: 'F32', shape: [3000], bytes: new Uint8Array(v.buffer) },
    ]);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('merge-studio on the GPU engine', () => {
  it('--engine gpu writes the same models as --engine cpu', async () => {
    const flags = [
      'merge',
      '--base',
      join(dir, 'base.safetensors'),
      ...['a', 'b', 'c'].flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]),
    ];
    const gpu = await runCli([...flags, '--engine', 'gpu', '--out', join(dir, 'gpu'), '--no-bundle']);
    const cpu = await runCli([...flags, '--engine', 'cpu', '--out', join(dir, 'cpu'), '--no-bundle']);
    expect([gpu.code, gpu.err, cpu.code], gpu.err).toEqual([0, '', 0]);
    // Same masks and τ_uni; λ may differ in its last bits (f32 partial sums), so compare the
    // weights to the f32 rounding of λ·τ_uni rather than bit for bit.
    const weights = async (p: string) => new Float32Array((await readFile(p)).buffer.slice(-3000 * 4));
    for (const t of ['a', 'b', 'c']) {
      const [g, c] = [
        await weights(join(dir, 'gpu', `${t}.safetensors`)),
        await weights(join(dir, 'cpu', `${t}.safetensors`)),
      ];
      for (let i = 0; i < g.length; i++)
        expect(Math.abs((g[i] as number) - (c[i] as number))).toBeLessThanOrEqual(
          4e-7 * Math.max(1, Math.abs(c[i] as number)),
        );
    }
  });

  it('the default takes the GPU only for a hardware adapter', async () => {
    const decision = await gpuEngineIfFast();
    const info = (await acquireGpu()).info;
    if (info.isSoftware) expect(decision.notice).toContain(`software one (${info.name})`);
    else expect(decision.engine?.description).toContain(info.name);
    decision.engine?.dispose();
  });
});
