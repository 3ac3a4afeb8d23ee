// Plan: the command line on PyTorch checkpoints (src/formats/pytorch/__fixtures__/merge: a base and
// two tasks torch saved as pytorch_model.bin-style state dicts, with safetensors twins, and the
// same in the tar format of torch < 0.4, as legacy pickles and as sharded index folders under
// merge/tar/, merge/legacy/, merge/sharded/). Merging the
// .bin files and merging their twins writes the same files, bit for bit (tasks and EMR bundle), as
// safetensors, and the run says so; inspect names the format; a Hugging Face folder holding
// pytorch_model.bin + config.json opens as one checkpoint named after the folder and is written as
// a folder again: model.safetensors, its config and tokenizer files (regular files only, no links)
// and a model card whose YAML front matter names the base and the merge, with the recipe.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli } from './testing';

const FIXTURES = new URL('../formats/pytorch/__fixtures__/merge/', import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-pytorch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The same models in each PyTorch layout: zip (.bin), the tar of torch < 0.4, legacy pickles, sharded folders. */
const fixture = (id: string, ext: string) =>
  ext === 'tar'
    ? join(FIXTURES, 'tar', `${id}.pt`)
    : ext === 'legacy'
      ? join(FIXTURES, 'legacy', `${id}.bin`)
      : ext === 'sharded'
        ? join(FIXTURES, 'sharded', id, 'pytorch_model.bin.index.json')
        : join(FIXTURES, `${id}.${ext}`);

const merge = (ext: string, out: string, extra: string[] = []) =>
  runCli([
    'merge',
    '--engine',
    'cpu',
    '--base',
    fixture('base', ext),
    '--task',
    fixture('task_a', ext),
    '--task',
    fixture('task_b', ext),
    '--out',
    out,
    ...extra,
  ]);

describe('PyTorch checkpoints in the CLI', () => {
  it('merging PyTorch files in every layout writes what merging their safetensors twins writes, bit for bit', async () => {
    for (const [method, ext] of [
      ['emr', 'bin'],
      ['ties', 'bin'],
      ['emr', 'tar'],
      ['emr', 'legacy'],
      ['emr', 'sharded'],
    ] as const) {
      const fromBin = join(dir, `${method}-${ext}`);
      const fromSt = join(dir, `${method}-st`);
      const a = await merge(ext, fromBin, ['--method', method]);
      expect(a.err).toBe('');
      expect(a.code).toBe(0);
      expect(a.out).toContain("(a PyTorch checkpoint: written as safetensors, Hugging Face's default)");
      if (ext === 'bin') {
        // the twins' merge, once per method
        const b = await merge('safetensors', fromSt, ['--method', method]);
        expect(b.code).toBe(0);
        expect(b.out).not.toContain('PyTorch');
      }
      const files = (await readdir(fromBin)).sort();
      expect(files).toEqual((await readdir(fromSt)).sort());
      expect(files).toContain('task_a.safetensors');
      for (const f of files) {
        expect(Buffer.compare(await readFile(join(fromBin, f)), await readFile(join(fromSt, f))), f).toBe(0);
      }
    }
  });

  it('inspect names the format; a Hugging Face folder in is a Hugging Face folder out', async () => {
    const r = await runCli(['inspect', join(FIXTURES, 'base.bin')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/base\.bin: pytorch, 39 tensors/);
    const hf = join(dir, 'my-bert');
    await mkdir(hf);
    await copyFile(join(FIXTURES, 'task_a.bin'), join(hf, 'pytorch_model.bin'));
    await writeFile(join(hf, 'config.json'), '{"model_type": "bert", "tie_word_embeddings": false}');
    await writeFile(join(hf, 'tokenizer.json'), '{"version": "1.0"}');
    await writeFile(join(dir, 'secret.txt'), 'not to be carried');
    await symlink(join(dir, 'secret.txt'), join(hf, 'vocab.txt'));
    await writeFile(join(hf, 'training_args.bin'), 'not a model file, not carried');
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
    // it came in as a Hugging Face folder: it goes out as one, with its config and a model card
    expect(summary.tasks[0]?.output).toBe(join(dir, 'hf-out2', 'my-bert', 'model.safetensors'));
    expect(summary.tasks[1]?.output).toBe(join(dir, 'hf-out2', 'task_b.safetensors'));
    const folder = join(dir, 'hf-out2', 'my-bert');
    expect((await readdir(folder)).sort()).toEqual([
      'README.md',
      'config.json',
      'model.safetensors',
      'tokenizer.json',
    ]);
    expect(await readFile(join(folder, 'config.json'), 'utf8')).toBe(
      '{"model_type": "bert", "tie_word_embeddings": false}',
    );
    const card = await readFile(join(folder, 'README.md'), 'utf8');
    const [, front, body] = card.split(/^---$/m);
    expect(parseYaml(front!)).toEqual({ base_model: 'base', tags: ['merge', 'emr-merging'] });
    const recipe = /```yaml\n([^`]*)```/.exec(body!)?.[1];
    expect(parseYaml(recipe!)).toEqual({
      merge_method: 'emr',
      parameters: { rescale: 'tensor-mean' },
      base_model: 'base',
      models: [
        { model: 'my-bert', name: 'my-bert' },
        { model: 'task_b', name: 'task_b' },
      ],
    });
  });

  it('a Hugging Face folder task is never written over itself: --out at its parent is refused', async () => {
    const parent = join(dir, 'models');
    const hf = join(parent, 'my-vit');
    await mkdir(hf, { recursive: true });
    await copyFile(join(FIXTURES, 'task_a.bin'), join(hf, 'pytorch_model.bin'));
    await writeFile(join(hf, 'config.json'), '{"model_type": "vit"}');
    const r = await runCli([
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
      parent,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(join(hf, 'config.json'));
    expect(await readFile(join(hf, 'config.json'), 'utf8')).toBe('{"model_type": "vit"}');
    expect((await readdir(hf)).sort()).toEqual(['config.json', 'pytorch_model.bin']);
  });
});
