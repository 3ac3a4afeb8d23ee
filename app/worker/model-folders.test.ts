// Plan: a Hugging Face folder task in the studio goes out as the CLI writes it. A folder
// (pytorch_model.bin + config.json + tokenizer.json, a README.md that is not carried) is dropped
// beside a base and another task, grouped as one checkpoint (app/load/grouping.ts), merged, and
// exported: the task's zip holds exactly the files of the CLI's `<out>/<task>/` for the same
// merge, byte for byte (model.safetensors, config and tokenizer carried, the model card), whole
// and sharded; "everything as one zip" puts them under `<task>/`; a task that came as a file
// stays one file. An imported mergekit recipe (per-model gradients and filters, float16) found
// among the dropped files by name merges to the CLI's bytes for `merge recipe.yml`, its text
// verbatim as mergekit_config.yml beside the flat task and inside the folder.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/testing';
import { matchRecipe } from '../../src/flow/recipe-models';
import { readMergekitRecipe } from '../../src/merge/mergekit/recipe';
import { anyMethodSpec, methodSpec, type AnyMethodSpec } from '../../src/merge/methods';
import { groupFiles } from '../load/grouping';
import { StudioService, type PathedFile } from './service';

const FIXTURES = new URL('../../src/formats/pytorch/__fixtures__/merge/', import.meta.url).pathname;
const CONFIG = '{"model_type": "bert", "tie_word_embeddings": false}';
let dir: string;
let folder: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'studio-folder-'));
  folder = join(dir, 'my-bert');
  await mkdir(folder);
  await copyFile(join(FIXTURES, 'task_a.bin'), join(folder, 'pytorch_model.bin'));
  await writeFile(join(folder, 'config.json'), CONFIG);
  await writeFile(join(folder, 'tokenizer.json'), '{"version": "1.0"}');
  await writeFile(join(folder, 'README.md'), 'the fine-tune’s own card: not carried');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The CLI's output folder for the task, file name → bytes. */
async function cliFolder(
  out: string,
  shardGb?: string,
  extra: readonly string[] = [],
): Promise<Map<string, Uint8Array>> {
  const r = await runCli([
    'merge',
    '--engine',
    'cpu',
    '--base',
    join(FIXTURES, 'base.bin'),
    '--task',
    folder,
    '--task',
    join(FIXTURES, 'task_b.bin'),
    '--out',
    out,
    ...(shardGb ? ['--shard-size', shardGb] : []),
    ...extra,
  ]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const names = await readdir(join(out, 'my-bert'));
  return new Map(
    await Promise.all(names.map(async (n) => [n, await readFile(join(out, 'my-bert', n))] as const)),
  );
}

/** A recipe to import: `my-bert` names the folder, `task_b.bin` the file, as beside the recipe. */
const RECIPE = `merge_method: ties
base_model: base.bin
models:
  - model: my-bert
    parameters:
      weight: [0.2, 1]
      density: 0.6
  - model: ./task_b.bin
    parameters:
      weight: 0.8
      density:
        - filter: bias
          value: 0.9
        - value: 0.4
parameters:
  normalize: true
dtype: float16
`;

type Selection = Parameters<StudioService['merge']>[0];

async function studio(
  shardBytes?: number,
  spec: AnyMethodSpec = methodSpec('emr'),
  select?: (paths: readonly string[]) => Selection,
): Promise<StudioService> {
  const s = new StudioService();
  s.setShardBytes(shardBytes);
  const file = async (path: string, from: string): Promise<PathedFile> => ({
    path,
    file: new Blob([await readFile(from)]),
  });
  const dropped = await Promise.all([
    file('base.bin', join(FIXTURES, 'base.bin')),
    ...['pytorch_model.bin', 'config.json', 'tokenizer.json', 'README.md'].map((n) =>
      file(`my-bert/${n}`, join(folder, n)),
    ),
    file('task_b.bin', join(FIXTURES, 'task_b.bin')),
  ]);
  const { groups } = groupFiles(dropped);
  expect(groups.map((g) => g.primary.path)).toEqual(['base.bin', 'my-bert/pytorch_model.bin', 'task_b.bin']);
  const ids = ['base', 'my-bert', 'task_b'];
  for (const [i, g] of groups.entries()) {
    const opened = await s.open(ids[i] as string, g.primary, g.companions);
    if (!opened.ok) throw new Error(opened.message);
  }
  const selection = select?.(groups.map((g) => g.primary.path)) ?? {
    baseId: 'base',
    tasks: ['my-bert', 'task_b'].map((id) => ({ id, name: id })),
  };
  const merged = await s.merge(selection, spec, 'cpu', () => {});
  if (!merged.ok) throw new Error(merged.message);
  expect(merged.summary.tasks.map((t) => t.folder)).toEqual([true, undefined]);
  return s;
}

async function exported(s: StudioService, what: Parameters<StudioService['export']>[0]) {
  const out = await s.export(what, { kind: 'blob' });
  if (!out.ok || !out.blob) throw new Error(out.ok ? 'no blob' : out.message);
  return new Uint8Array(await out.blob.arrayBuffer());
}

const same = (a: Map<string, Uint8Array>, b: Record<string, Uint8Array>) => {
  expect(Object.keys(b).sort()).toEqual([...a.keys()].sort());
  for (const [name, bytes] of a) expect(Buffer.compare(b[name] as Uint8Array, bytes), name).toBe(0);
};

describe('Hugging Face folders exported by the studio', () => {
  it('are the files of the CLI’s folder, byte for byte, model card included', async () => {
    const cli = await cliFolder(join(dir, 'cli'));
    expect([...cli.keys()].sort()).toEqual([
      'README.md',
      'config.json',
      'model.safetensors',
      'tokenizer.json',
    ]);
    const s = await studio();
    same(cli, unzipSync(await exported(s, { kind: 'task', task: 0 })));
    // everything as one zip: the folder under the task's name, the other task as its one file
    const all = unzipSync(await exported(s, { kind: 'zip' }));
    same(
      cli,
      Object.fromEntries(
        Object.entries(all)
          .filter(([n]) => n.startsWith('my-bert/'))
          .map(([n, b]) => [n.slice('my-bert/'.length), b]),
      ),
    );
    expect(Object.keys(all).sort()).toEqual([
      'emr-bundle.safetensors',
      ...[...cli.keys()].map((n) => `my-bert/${n}`).sort(),
      'task_b.safetensors',
    ]);
    const card = new TextDecoder().decode(cli.get('README.md'));
    expect(card).toContain('base_model: base\ntags:\n  - merge\n  - emr-merging\n');
  });

  it('sharded past the shard size as the CLI shards it', async () => {
    const cli = await cliFolder(join(dir, 'cli-sharded'), '0.000002'); // 2 kB shards
    expect(cli.has('model.safetensors.index.json')).toBe(true);
    expect(
      [...cli.keys()].filter((n) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(n)).length,
    ).toBeGreaterThan(1);
    same(cli, unzipSync(await exported(await studio(2000), { kind: 'task', task: 0 })));
  });

  it('a mergekit method’s zip carries its recipe, mergekit_config.yml, as the CLI writes it', async () => {
    const out = join(dir, 'cli-ties');
    await cliFolder(out, undefined, ['--method', 'ties', '--param', 'density=0.5']);
    const cli = await readFile(join(out, 'mergekit_config.yml'));
    const spec = anyMethodSpec('ties', { density: 0.5 }, { mergekit: true });
    const all = unzipSync(await exported(await studio(undefined, spec), { kind: 'zip' }));
    expect(new TextDecoder().decode(all['mergekit_config.yml'])).toBe(new TextDecoder().decode(cli));
    expect(new TextDecoder().decode(cli)).toContain('merge_method: ties');
    // EMR has no mergekit recipe: its zip has none.
    expect(Object.keys(unzipSync(await exported(await studio(), { kind: 'zip' })))).not.toContain(
      'mergekit_config.yml',
    );
  });

  it('an imported recipe merges to the CLI’s bytes for `merge recipe.yml`, its text verbatim', async () => {
    await copyFile(join(FIXTURES, 'base.bin'), join(dir, 'base.bin'));
    await copyFile(join(FIXTURES, 'task_b.bin'), join(dir, 'task_b.bin'));
    await writeFile(join(dir, 'recipe.yml'), RECIPE);
    const out = join(dir, 'cli-recipe');
    const r = await runCli(['merge', join(dir, 'recipe.yml'), '--engine', 'cpu', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // The page's import: parsed, its models found among the dropped files (the card's task names).
    const job = readMergekitRecipe(RECIPE, 'recipe.yml');
    const s = await studio(undefined, job.method, (paths) => {
      const ids = ['base', 'my-bert', 'task_b'];
      const loaded = paths.map((path, i) => ({
        id: ids[i] as string,
        path,
        taskName: i ? (ids[i] as string) : '',
      }));
      const match = matchRecipe('recipe.yml', job, loaded);
      if (!match.ok) throw new Error(match.message);
      return {
        baseId: match.baseId,
        tasks: match.tasks.map((t) => ({ id: t.id, name: t.name })),
        recipe: RECIPE,
      };
    });
    const all = unzipSync(await exported(s, { kind: 'zip' }));
    const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
    expect(text(all['mergekit_config.yml'])).toBe(RECIPE);
    expect(text(await readFile(join(out, 'mergekit_config.yml')))).toBe(RECIPE);
    expect(
      Buffer.compare(
        all['task_b.safetensors'] as Uint8Array,
        await readFile(join(out, 'task_b.safetensors')),
      ),
    ).toBe(0);
    const folderFiles = await readdir(join(out, 'my-bert'));
    expect(folderFiles).toContain('mergekit_config.yml');
    same(
      new Map(
        await Promise.all(
          folderFiles.map(async (n) => [n, await readFile(join(out, 'my-bert', n))] as const),
        ),
      ),
      Object.fromEntries(
        Object.entries(all)
          .filter(([n]) => n.startsWith('my-bert/'))
          .map(([n, b]) => [n.slice('my-bert/'.length), b]),
      ),
    );
    // float16, as the recipe's dtype says
    const b = all['task_b.safetensors'] as Uint8Array;
    const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(text(b.subarray(8, 8 + n))) as Record<string, { dtype?: string }>;
    const dtypes = new Set(
      Object.entries(header).flatMap(([k, v]) => (k === '__metadata__' ? [] : [v.dtype])),
    );
    expect([...dtypes].sort()).toEqual(['F16', 'I64']); // floats in float16; integer buffers as they were
  });
});
