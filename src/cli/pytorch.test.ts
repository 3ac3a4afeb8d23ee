// Plan: the command line on PyTorch checkpoints (src/formats/pytorch/__fixtures__/merge: a base and
// two tasks torch saved as pytorch_model.bin-style state dicts, with safetensors twins). Merging the
// .bin files and merging their twins writes the same files, bit for bit (tasks and EMR bundle), as
// safetensors, and the run says so; inspect names the format; a Hugging Face folder holding
// pytorch_model.bin opens as one checkpoint named after the folder.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './testing';

const FIXTURES = new URL('../formats/pytorch/__fixtures__/merge/', import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-pytorch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const merge = (ext: string, out: string, extra: string[] = []) =>
  runCli([
    'merge',
    '--engine',
    'cpu',
    '--base',
    join(FIXTURES, `base.${ext}`),
    '--task',
    join(FIXTURES, `task_a.${ext}`),
    '--task',
    join(FIXTURES, `task_b.${ext}`),
    '--out',
    out,
    ...extra,
  ]);

describe('PyTorch checkpoints in the CLI', () => {
  it('merging .bin files writes what merging their safetensors twins writes, bit for bit', async () => {
    for (const method of ['emr', 'ties']) {
      const fromBin = join(dir, `${method}-bin`);
      const fromSt = join(dir, `${method}-st`);
      const a = await merge('bin', fromBin, ['--method', method]);
      expect(a.err).toBe('');
      expect(a.code).toBe(0);
      expect(a.out).toContain("(a PyTorch checkpoint: written as safetensors, Hugging Face's default)");
      const b = await merge('safetensors', fromSt, ['--method', method]);
      expect(b.code).toBe(0);
      expect(b.out).not.toContain('PyTorch');
      const files = (await readdir(fromBin)).sort();
      expect(files).toEqual((await readdir(fromSt)).sort());
      expect(files).toContain('task_a.safetensors');
      for (const f of files) {
        expect(Buffer.compare(await readFile(join(fromBin, f)), await readFile(join(fromSt, f))), f).toBe(0);
      }
    }
  });

  it('inspect names the format and reads a Hugging Face folder holding pytorch_model.bin', async () => {
    const r = await runCli(['inspect', join(FIXTURES, 'base.bin')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/base\.bin: pytorch, 39 tensors/);
    const hf = join(dir, 'my-bert');
    await mkdir(hf);
    await copyFile(join(FIXTURES, 'task_a.bin'), join(hf, 'pytorch_model.bin'));
    const json = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(FIXTURES, 'base.bin'),
      '--task',
      hf,
      '--task',
      join(FIXTURES, 'task_b.bin'),
      '--out',
      join(dir, 'hf-out2'),
      '--json',
    ]);
    expect(json.err).toBe('');
    const summary = JSON.parse(json.out) as { tasks: { name: string; output: string }[] };
    expect(summary.tasks.map((t) => t.name)).toEqual(['my-bert', 'task_b']);
    expect(summary.tasks[0]?.output).toMatch(/my-bert\.safetensors$/);
  });
});
