// Plan: NaN/±∞ in the checkpoints on disk are merged and counted: `merge --json` carries the counts
// per model and per shared tensor (and no `nonFinite` key when there are none), the text output
// has one warning line naming the models; every method, the CPU engine from the command line.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { runCli } from './testing';

let dir: string;

async function writeModel(path: string, tensors: Record<string, Float32Array>) {
  await writeSafetensors(
    await fileSink(path),
    Object.entries(tensors).map(([name, values]) => ({
      name,
      dtype: 'F32' as const,
      shape: [values.length],
      bytes: new Uint8Array(values.buffer),
    })),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-nonfinite-'));
  const w = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: 20 }, (_, i) => Math.cos(i));
  await writeModel(join(dir, 'base.safetensors'), { w, b });
  await writeModel(join(dir, 'clean.safetensors'), { w: w.map((x) => x + 0.01), b: b.map((x) => x - 0.01) });
  await writeModel(join(dir, 'clean2.safetensors'), { w: w.map((x) => x - 0.01), b: b.map((x) => x + 0.03) });
  const wBad = w.map((x, i) => x + (i % 2 ? 0.02 : -0.02));
  wBad[3] = Number.NaN;
  wBad[200] = Infinity;
  wBad[201] = -Infinity;
  await writeModel(join(dir, 'bad.safetensors'), { w: wBad, b: b.map((x) => x + 0.02) });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const merge = (tasks: string[], method: string, json: boolean) =>
  runCli([
    'merge',
    '--engine',
    'cpu',
    '--method',
    method,
    '--base',
    join(dir, 'base.safetensors'),
    ...tasks.flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]),
    '--out',
    join(dir, `out-${method}-${tasks.join('-')}-${json}`),
    '--no-bundle',
    ...(json ? ['--json'] : []),
  ]);

describe('merge-studio merge with NaN/±∞ in a task', () => {
  for (const method of ['emr', 'ta', 'ties', 'avg']) {
    it(`${method}: --json counts them per model and tensor; the text says so in one line`, async () => {
      const r = await merge(['clean', 'bad'], method, true);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).nonFinite).toEqual({
        base: 0,
        tasks: [0, 3],
        tensors: [{ name: 'w', base: 0, tasks: [0, 3] }],
      });
      const text = await merge(['clean', 'bad'], method, false);
      expect(text.code).toBe(0);
      expect(text.out).toContain(
        'warning: NaN/±∞ in the weights (merged as the formulas say): bad 3 — in 1 of 2 shared tensors',
      );
    });
  }

  it('no NaN/±∞: no nonFinite key, no warning', async () => {
    const r = await merge(['clean', 'clean2'], 'emr', true);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).not.toHaveProperty('nonFinite');
    expect((await merge(['clean', 'clean2'], 'emr', false)).out).not.toContain('NaN');
  });
});
