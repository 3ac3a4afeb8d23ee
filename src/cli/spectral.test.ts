// Plan: `merge-studio merge --method tsv_m|iso_c|iso_cts` (with --param) and a YAML recipe with
// FusionBench's lists (tsv_m's per-task alpha, exclude_keys) write task models whose bytes equal the
// in-process merge, with the recipe in each model card; bad parameters are usage errors naming them.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { buildModelSet } from '../merge/model-set';
import { spectralSpec, type SpectralMethod, type SpectralParams } from '../merge/spectral/spec';
import { collectBytes, taskModel } from '../merge/task-model';
import { OpenFiles, openPath } from './files';
import { jobFromYaml } from './job';
import { jobModelCard } from './model-folder';
import { runCli } from './testing';

let dir: string;
const TASKS = ['one', 'two', 'three'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-spectral-'));
  let s = 11;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const w = Float32Array.from({ length: 12 * 9 }, rnd);
  const b = Float32Array.from({ length: 9 }, rnd);
  const write = async (name: string, tensors: [string, number[], Float32Array][]) =>
    writeSafetensors(
      await fileSink(join(dir, `${name}.safetensors`)),
      tensors.map(([n, shape, v]) => ({
        name: n,
        dtype: 'F32' as const,
        shape,
        bytes: new Uint8Array(v.buffer),
      })),
    );
  await write('base', [
    ['w', [12, 9], w],
    ['b', [9], b],
  ]);
  for (const t of TASKS)
    await write(t, [
      ['w', [12, 9], w.map((x) => x + rnd() * 0.05)],
      ['b', [9], b.map((x) => x + rnd() * 0.05)],
    ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expected(method: SpectralMethod, params: SpectralParams): Promise<number[][]> {
  const files = new OpenFiles();
  const base = await openPath(join(dir, 'base.safetensors'), files);
  const tasks = await Promise.all(
    TASKS.map(async (name) => ({
      name,
      checkpoint: await openPath(join(dir, `${name}.safetensors`), files),
    })),
  );
  const engine = new CpuEngine();
  const result = await runMerge(buildModelSet(base, tasks), spectralSpec(method, params), engine);
  const bytes = await Promise.all(
    taskModel(result, 0, engine).map(async (x) => Array.from(await collectBytes(x))),
  );
  await files.closeAll();
  return bytes;
}

async function written(path: string): Promise<number[][]> {
  const files = new OpenFiles();
  const c = await openPath(path, files);
  const values = await Promise.all(
    [...c.tensors.values()].map(async (e) => Array.from(await e.data.read(0, e.byteLength))),
  );
  await files.closeAll();
  return values;
}

const taskFlags = () => TASKS.flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]);

describe('merge-studio merge with the spectral methods', () => {
  it('--method iso_cts --param common_space_fraction=0.5 writes the in-process merge', async () => {
    const out = join(dir, 'out-iso-cts');
    const args = ['merge', '--engine', 'cpu', '--base', join(dir, 'base.safetensors'), ...taskFlags()];
    const r = await runCli([
      ...args,
      '--method',
      'iso_cts',
      '--param',
      'common_space_fraction=0.5',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'Iso-CTS (isotropic, common and task-specific subspaces) (scaling factor 1, common space 0.5)',
    );
    expect(await written(join(out, 'one.safetensors'))).toEqual(
      await expected('iso_cts', { common_space_fraction: 0.5 }),
    );
    const bad = await runCli([...args, '--method', 'iso_c', '--param', 'alpha=2', '--out', join(dir, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('iso_c takes no parameter alpha');
  });

  it("a YAML recipe with tsv_m's per-task alpha and exclude_keys", async () => {
    const yml = join(dir, 'tsv.yml');
    await writeFile(
      yml,
      [
        'merge_method: tsv_m',
        'base_model: base.safetensors',
        'parameters:',
        '  alpha: [1.0, 0.5, 0.25]',
        '  exclude_keys: [b]',
        'models:',
        ...TASKS.map((t) => `  - {model: ${t}.safetensors, name: ${t}}`),
      ].join('\n'),
    );
    const out = join(dir, 'out-tsv');
    const r = await runCli(['merge', '--engine', 'cpu', yml, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(await written(join(out, 'one.safetensors'))).toEqual(
      await expected('tsv_m', { alpha: [1, 0.5, 0.25], exclude_keys: ['b'] }),
    );
    // A model folder's card carries the recipe in the same vocabulary.
    const card = jobModelCard('one', jobFromYaml(await readFile(yml, 'utf8'), yml));
    expect(card).toContain('merge_method: tsv_m');
    expect(card).toMatch(/alpha:\n\s+- 1\n\s+- 0.5\n\s+- 0.25\n\s+exclude_keys:\n\s+- b/);
    await writeFile(
      yml,
      'merge_method: tsv_m\nbase_model: base.safetensors\nparameters: {alpha: [a]}\nmodels: [one.safetensors, two.safetensors]\n',
    );
    const bad = await runCli(['merge', yml, '--out', join(dir, 'y')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('parameters.alpha must be a list of numbers');
  });
});
