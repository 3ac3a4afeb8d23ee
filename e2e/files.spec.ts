// Plan: the same flow from the user's own files, picked with the file input (what a drop hands
// over too). Checkpoints are generated here with src/'s writers: a base and three tasks; a corrupt
// file and a checkpoint of another model sit among them and are refused beside their names while
// the rest merge; λ equal the engine's own merge of the same files in Node; a task exported as
// safetensors and, from the zoo's ONNX files, a task exported as ONNX read back through src/formats;
// a picked folder of model folders, one of them a Hugging Face folder with config.json, exports
// that task as a .zip of the folder (model.safetensors, its config files, the model card).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { CpuEngine } from '../src/merge/cpu/engine';
import { runMerge, type EmrResult } from '../src/merge/merge';
import { methodSpec } from '../src/merge/methods';
import { buildModelSet } from '../src/merge/model-set';
import { writeLlmLikeSet, writeSyntheticSet, type SyntheticSet } from '../src/merge/testing/synthetic';
import { OpenFiles, openPath } from '../src/cli/files';
import { openShardedSafetensors } from '../src/formats/safetensors';
import { bytesSource } from '../src/formats/source';
import { StudioPage } from './pages/studio';
import { openBytes, openFile } from './support/checkpoints';

let dir: string;
let set: SyntheticSet;
let other: SyntheticSet;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'studio-e2e-'));
  await Promise.all(['a', 'b'].map((d) => mkdir(join(dir, d))));
  set = await writeSyntheticSet({ dir: join(dir, 'a'), numTasks: 3, width: 32, depth: 2 });
  other = await writeSyntheticSet({ dir: join(dir, 'b'), numTasks: 2, width: 48, depth: 1, seed: 5 });
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const upload = async (path: string, name = basename(path)) => ({
  name,
  mimeType: 'application/octet-stream',
  buffer: await readFile(path),
});

test('picked files: corrupt and foreign files are refused, the rest merge and export', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  // A task file cut short: its header promises more bytes than the file has.
  const corrupt = (await readFile(set.tasks[2]?.path as string)).subarray(0, 4000);
  await studio.load.fileInput.setInputFiles([
    await upload(set.base),
    ...(await Promise.all(set.tasks.map((t) => upload(t.path)))),
    { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: corrupt },
    {
      name: 'notes.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('not weights at all'),
    },
    await upload(other.tasks[0]?.path as string, 'other-model.safetensors'),
  ]);
  await expect(studio.load.checkpoints).toHaveCount(7);
  await expect(studio.load.role('base.safetensors')).toHaveValue('base');
  const broken = studio.load.checkpoints.filter({ hasText: 'broken.safetensors' });
  await expect(broken.getByTestId('file-error')).toContainText('broken.safetensors: ');
  await expect(broken.getByTestId('file-error')).toContainText('truncated');
  const notes = studio.load.checkpoints.filter({ hasText: 'notes.safetensors' });
  await expect(notes.getByTestId('file-error')).toContainText('not a checkpoint this studio reads');
  const foreign = studio.load.checkpoints.filter({ hasText: 'other-model.safetensors' });
  await expect(foreign.getByTestId('file-refused')).toContainText('Not a fine-tune of this base');
  await expect(foreign.getByTestId('file-refused')).toContainText(
    'patch_embed.proj.weight: [48, 768] here, [32, 768] in the base',
  );
  await expect(studio.load.sharedCount).toHaveText(String(4 + 12 * 2 + 2));
  await studio.screenshot('10-files-refused');

  await studio.mergeAndWait();
  const base = await openFile(set.base);
  const tasks = await Promise.all(
    set.tasks.map(async (t) => ({ name: t.name, checkpoint: await openFile(t.path) })),
  );
  const reference = (await runMerge(
    buildModelSet(base, tasks),
    methodSpec('emr'),
    new CpuEngine(),
  )) as EmrResult;
  const shown = await studio.inspect.lambdas();
  reference.set.tasks.forEach((t, i) => expect(shown[t.name]).toBe(reference.lambdas[i]));
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);

  await studio.api((api) => api.useFileSystemAccess(false));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button(/^task01/).click(),
  ]);
  const model = await openBytes(
    new Uint8Array(await readFile((await download.path()) as string)),
    'task01.safetensors',
  );
  expect([...model.tensors.keys()]).toEqual([...(tasks[1]?.checkpoint.tensors.keys() ?? [])]);
});

test('ONNX files merge and a task exports as ONNX, streamed to a picked file', async ({ page }) => {
  const studio = new StudioPage(page);
  // A stand-in for the save dialog: hands out a file in the origin-private file system, so the
  // export takes the streamed File System Access path and the test can read the file back.
  await page.addInitScript(() => {
    (window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async (o: {
      suggestedName: string;
    }) => (await navigator.storage.getDirectory()).getFileHandle(o.suggestedName, { create: true });
  });
  await studio.open();
  const zoo = 'public/zoo/digits-8';
  await studio.load.fileInput.setInputFiles(
    await Promise.all(
      ['base.onnx', 'plain.onnx', 'rotated.onnx', 'parity.onnx'].map((f) => upload(join(zoo, f))),
    ),
  );
  await expect(studio.load.checkpoints).toHaveCount(4);
  await expect(studio.load.role('base.onnx')).toHaveValue('base');
  await studio.mergeAndWait();
  await studio.exports.button(/^rotated/).click();
  await expect(studio.exports.status('task:1')).toContainText('Saved rotated.onnx');
  const bytes = await page.evaluate(async () => {
    const file = await (
      await (await navigator.storage.getDirectory()).getFileHandle('rotated.onnx')
    ).getFile();
    return [...new Uint8Array(await file.arrayBuffer())];
  });
  const model = await openBytes(new Uint8Array(bytes), 'rotated.onnx');
  const original = await openFile(join(zoo, 'rotated.onnx'));
  expect(model.format).toBe('onnx');
  expect([...model.tensors.keys()]).toEqual([...original.tensors.keys()]);
});

test('files dropped on the page are added like picked ones', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  // A drop built in the page from the zoo's files (a synthetic DataTransfer has no folder entries,
  // so this takes the plain-files path that browsers without webkitGetAsEntry take too).
  await page.evaluate(async () => {
    const data = new DataTransfer();
    for (const name of ['base.safetensors', 'plain.safetensors', 'noisy.safetensors']) {
      const blob = await (await fetch(`/zoo/digits-8/${name}`)).blob();
      data.items.add(new File([blob], name));
    }
    for (const type of ['dragenter', 'dragover', 'drop'])
      document.body.dispatchEvent(
        new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }),
      );
  });
  await expect(studio.load.checkpoints).toHaveCount(3);
  await expect(studio.load.role('base.safetensors')).toHaveValue('base');
  await expect(studio.load.sharedCount).toHaveText('54');
  await studio.mergeAndWait();
  await expect(studio.inspect.rescalers.locator('tbody tr')).toHaveCount(2);
});

test('a task model past the shard size is written as Hugging Face shards into a picked folder', async ({
  page,
}) => {
  const studio = new StudioPage(page);
  // The folder picker hands out the origin-private file system's root, which the test reads back.
  await page.addInitScript(() => {
    (window as unknown as { showDirectoryPicker: unknown }).showDirectoryPicker = () =>
      navigator.storage.getDirectory();
  });
  await studio.open();
  await studio.api((api) => api.setShardBytes(64_000));
  await studio.load.fileInput.setInputFiles([
    await upload(set.base),
    ...(await Promise.all(set.tasks.map((t) => upload(t.path)))),
  ]);
  await expect(studio.load.sharedCount).toBeVisible();
  await studio.mergeAndWait();
  await studio.exports.button(/^task02 .*shards/).click();
  await expect(studio.exports.status('task:2')).toContainText('Saved the shards of task02');
  const files = await page.evaluate(async () => {
    const out: Record<string, number[]> = {};
    for await (const [name, handle] of (await navigator.storage.getDirectory()) as unknown as AsyncIterable<
      [string, FileSystemFileHandle]
    >)
      if (name.startsWith('task02'))
        out[name] = [...new Uint8Array(await (await handle.getFile()).arrayBuffer())];
    return out;
  });
  const names = Object.keys(files).sort();
  expect(names.at(-1)).toBe('task02.safetensors.index.json');
  expect(names.length).toBeGreaterThan(2);
  const source = (name: string) => bytesSource(new Uint8Array(files[name] as number[]), name);
  const sharded = await openShardedSafetensors(
    source('task02.safetensors.index.json'),
    names.slice(0, -1).map(source),
  );
  const original = await openFile(set.tasks[2]?.path as string);
  expect([...sharded.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
});

test('a picked folder of LLM-like models, each a folder of identically named shards, merges and exports a folder', async ({
  page,
}) => {
  const root = join(dir, 'llm');
  const llm = await writeLlmLikeSet({
    dir: root,
    numTasks: 2,
    hidden: 64,
    layers: 2,
    intermediate: 160,
    vocab: 256,
    shardBytes: 60_000,
  });
  // task00 is a Hugging Face folder: its config files go out with it
  const config = '{"model_type": "llama", "tie_word_embeddings": false}';
  await writeFile(join(root, 'task00', 'config.json'), config);
  await writeFile(join(root, 'task00', 'generation_config.json'), '{"max_length": 32}');
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.folderInput.setInputFiles(root);
  // One card per model folder (its index and shards), not one per shard file.
  await expect(studio.load.checkpoints).toHaveCount(3);
  // The folder named "base" is the base; the others are tasks named by their folders.
  const values = (role: 'combobox' | 'textbox') =>
    studio.load.checkpoints
      .getByRole(role)
      .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value).sort());
  await expect.poll(() => values('combobox')).toEqual(['base', 'task', 'task']);
  await expect.poll(() => values('textbox')).toEqual(['task00', 'task01']);
  await expect(studio.load.sharedCount).not.toHaveText('0');
  await studio.mergeAndWait();
  const engine = new CpuEngine();
  const files = new OpenFiles();
  const opened = await Promise.all(
    [llm.base, ...llm.tasks.map((t) => t.path)].map((p) => openPath(p, files)),
  );
  const reference = (await runMerge(
    buildModelSet(
      opened[0]!,
      llm.tasks.map((t, i) => ({ name: t.name, checkpoint: opened[i + 1]! })),
    ),
    methodSpec('emr'),
    engine,
  )) as EmrResult;
  engine.dispose();
  await files.closeAll();
  expect(await studio.inspect.lambdas()).toEqual(
    Object.fromEntries(llm.tasks.map((t, i) => [t.name, reference.lambdas[i]])),
  );

  // The folder task exports as a .zip of the folder the CLI writes: its weights as model.safetensors,
  // its config files as they were, and the model card naming the base.
  await studio.api((api) => api.useFileSystemAccess(false));
  const button = studio.exports.button(/^task00/);
  await expect(button).toContainText('a Hugging Face folder with its config and model card');
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  expect(download.suggestedFilename()).toBe('task00.zip');
  const zip = unzipSync(new Uint8Array(await readFile((await download.path()) as string)));
  const names = Object.keys(zip).sort();
  // one model.safetensors at the studio's shard size (5 GB), as the CLI writes it by default
  expect(names).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors']);
  const weights = await openBytes(zip['model.safetensors'] as Uint8Array, 'model.safetensors');
  expect([...weights.tensors.keys()].sort()).toEqual([...(opened[1]?.tensors.keys() ?? [])].sort());
  expect(new TextDecoder().decode(zip['config.json'])).toBe(config);
  expect(new TextDecoder().decode(zip['README.md'])).toMatch(
    /^---\nbase_model: base\ntags:\n {2}- merge\n {2}- emr-merging\n---/,
  );
});
