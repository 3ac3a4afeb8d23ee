// Plan: per-task inference and the paper's table on the demo, in Chromium, on both onnxruntime-web
// execution providers. Load demo → merge → the zoo's graphs and labeled sets attach to the
// safetensors tasks → a labeled sample runs under the individual model and every method side by
// side → "Auto" routes it and names the runner-up → a drawn digit runs → the evaluation table on
// WebGPU and on wasm equals `merge-studio eval --json` cell for cell, and exports as CSV.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { writeSafetensors } from '../src/formats/safetensors';
import { MemorySink } from '../src/formats/sink';
import { tensorName } from '../src/formats/tensor';
import { normalized, ROUTER_ROW, type AccuracyTable } from '../src/inference/table';
import { cliEvalTable } from './support/cli';
import { StudioPage } from './pages/studio';
import { openFile } from './support/checkpoints';
import { consoleErrors } from './support/console';

const ZOO = 'public/zoo/digits-8';
interface Manifest {
  base: { onnx: string };
  tasks: { id: string; onnx: string; eval: string }[];
}

/** The CLI's table for the same zoo: the reference the page must match. */
async function cliTable(
  extra: readonly string[],
  sets?: ReadonlyMap<string, string>,
): Promise<AccuracyTable> {
  const manifest = JSON.parse(await readFile(`${ZOO}/manifest.json`, 'utf8')) as Manifest;
  return cliEvalTable([
    '--base',
    `${ZOO}/${manifest.base.onnx}`,
    ...manifest.tasks.flatMap((t) => [
      '--task',
      `${t.id}=${ZOO}/${t.onnx}`,
      '--eval',
      `${t.id}=${sets?.get(t.id) ?? `${ZOO}/${t.eval}`}`,
    ]),
    ...extra,
  ]);
}

async function loadAndMerge(page: Page): Promise<StudioPage> {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadDemoAndMerge('cpu');
  return studio;
}

test('inference: a sample, routing and a drawing, side by side under every method', async ({ page }) => {
  const errors = consoleErrors(page);
  const studio = await loadAndMerge(page);
  const infer = studio.infer;
  await expect(infer.root.getByText('8 of 8 tasks ready')).toBeVisible({ timeout: 30_000 });
  await infer.provider.selectOption('wasm');
  await expect(infer.caption).toContainText("sample 1 of 300 from plain's labeled set");
  // On a software adapter (SwiftShader here) wasm is the default, and the page says why.
  await expect(page.getByTestId('provider-reason')).toContainText('software adapter');
  await expect(infer.column('emr')).toContainText('wasm', { timeout: 90_000 });
  for (const column of ['individual', 'emr', 'avg', 'ta', 'ties'])
    await expect(infer.column(column).locator('.top-classes li')).toHaveCount(3);
  await expect(infer.column('individual').getByTestId('verdict')).toHaveText('✓ right');
  await studio.screenshot('10-infer-sample', infer.root);

  await infer.root.getByRole('button', { name: 'Next →' }).click();
  await expect(infer.caption).toContainText('sample 2 of 300');

  await infer.task.selectOption('auto');
  await expect(infer.routing).toContainText('Routed to', { timeout: 60_000 });
  await expect(infer.routing).toContainText('runner-up');

  // WebGPU runs it too (SwiftShader compiles slowly), and the page says which provider ran each column.
  await infer.task.selectOption({ label: 'plain' });
  await infer.provider.selectOption('webgpu');
  await expect(page.getByTestId('provider-reason')).toHaveText('Chosen by you.');
  await expect(infer.column('emr')).toContainText('webgpu', { timeout: 90_000 });
  await infer.provider.selectOption('wasm');
  await expect(infer.column('emr')).toContainText('wasm', { timeout: 90_000 });

  await infer.source('Draw').click();
  await infer.drawOne();
  await expect(infer.caption).toHaveText('your drawing');
  await expect(infer.routing).toHaveCount(0, { timeout: 60_000 });
  await expect(infer.column('individual').locator('.top-classes li').first()).toBeVisible();
  await studio.screenshot('11-infer-drawing', infer.root);

  // The drawing as a PNG file: an image input, preprocessed as the manifest says.
  const png = await infer.pad.screenshot();
  await infer.source('Image file').click();
  await infer.root
    .getByLabel('Image file')
    .setInputFiles({ name: 'one.png', mimeType: 'image/png', buffer: png });
  await expect(infer.caption).toHaveText('one.png');
  await expect(infer.root.getByLabel('Preprocessing').getByLabel('Width')).toHaveValue('8');

  // A tensor file NumPy wrote: one sample without the batch dimension.
  await infer.source('Tensor file').click();
  await infer.root.getByLabel('Tensor file').setInputFiles('src/inference/__fixtures__/digit-f32.npy');
  await expect(infer.caption).toHaveText('digit-f32.npy');
  // A batch: one line per sample in every column.
  await infer.root.getByLabel('Tensor file').setInputFiles('src/inference/__fixtures__/batch-f16.npy');
  await expect(infer.column('emr').getByTestId('batch-rows').locator('li')).toHaveCount(2, {
    timeout: 30_000,
  });
  await infer.root.getByLabel('Tensor file').setInputFiles('src/inference/__fixtures__/ints-i8.npy');
  await expect(infer.root.getByRole('alert')).toContainText(
    'input pixels wants [batch, 1, 8, 8]; the file has [2, 2]',
  );

  // A folder of images named by class, as a task's labeled set.
  const folder = join(await mkdtemp(join(tmpdir(), 'merge-studio-images-')), 'mine');
  for (const cls of ['1', '7']) {
    await mkdir(join(folder, cls), { recursive: true });
    await writeFile(join(folder, cls, 'a.png'), png);
  }
  await infer.root.getByText('Graphs and labeled sets').click();
  await infer.root.getByLabel('Attach to task').selectOption('plain');
  await infer.root.getByLabel('Add labeled image folder').setInputFiles(folder);
  await expect(infer.setup).toContainText('mine/ (2)');
  expect(errors).toEqual([]);
});

/**
 * The first `count` samples of every task's labeled set, written as the user's own files: WebGPU
 * on SwiftShader runs the models at a few dozen samples a second, too slow for 300 per task.
 */
async function smallSets(count: number): Promise<Map<string, string>> {
  const manifest = JSON.parse(await readFile(`${ZOO}/manifest.json`, 'utf8')) as Manifest;
  const dir = await mkdtemp(join(tmpdir(), 'merge-studio-sets-'));
  const out = new Map<string, string>();
  for (const task of manifest.tasks) {
    const set = await openFile(`${ZOO}/${task.eval}`);
    const inputs = set.tensors.get(tensorName('inputs'));
    const labels = set.tensors.get(tensorName('labels'));
    if (!inputs || !labels) throw new Error(`${task.eval}: no inputs or labels`);
    const sample = inputs.byteLength / (inputs.shape[0] as number);
    const sink = new MemorySink();
    await writeSafetensors(sink, [
      {
        name: inputs.name,
        dtype: 'F32',
        shape: [count, ...inputs.shape.slice(1)],
        bytes: await inputs.data.read(0, count * sample),
      },
      { name: labels.name, dtype: labels.dtype, shape: [count], bytes: await labels.data.read(0, count * 8) },
    ]);
    const path = join(dir, `${task.id}-first-${count}.safetensors`);
    await writeFile(path, sink.bytes());
    out.set(task.id, path);
  }
  return out;
}

// wasm: the zoo's whole sets, every method and the routed row (88 sessions). WebGPU: the
// individual and EMR rows on the first 24 samples of each set, attached through the page as a
// user's own labeled sets.
for (const provider of ['webgpu', 'wasm'] as const) {
  test(`evaluation on ${provider} equals the CLI's table cell for cell`, async ({ page }) => {
    test.setTimeout(300_000);
    const full = provider === 'wasm';
    const sets = full ? undefined : await smallSets(24);
    const reference = cliTable(full ? [] : ['--methods', 'emr', '--no-route'], sets);
    const errors = consoleErrors(page);
    const studio = await loadAndMerge(page);
    await expect(studio.infer.root.getByText('8 of 8 tasks ready')).toBeVisible({ timeout: 30_000 });
    await studio.infer.provider.selectOption(provider);
    if (sets) {
      await studio.infer.root.getByText('Graphs and labeled sets').click(); // folded when all are ready
      for (const [task, path] of sets) {
        await studio.infer.root.getByLabel('Attach to task').selectOption(task);
        await studio.infer.root.getByLabel('Add labeled set').setInputFiles(path);
        await expect(studio.infer.setup).toContainText(basename(path), { timeout: 30_000 });
      }
      for (const label of ['Weight averaging', 'Task Arithmetic', 'TIES-Merging', 'Routed row (no task id)'])
        await studio.evaluation.root.getByLabel(label).uncheck();
    }
    await studio.evaluation.run.click();
    await expect(studio.evaluation.table).toBeVisible({ timeout: 240_000 });
    await expect(studio.evaluation.report).toContainText(`onnxruntime-web (${provider})`);
    const shown = await studio.evaluation.cells();
    const cli = await reference;
    expect(Object.keys(shown)).toEqual(cli.rows.map((r) => r.method));
    for (const row of cli.rows) expect(shown[row.method], row.method).toEqual(row.accuracy);
    if (full) {
      expect(await studio.evaluation.picked()).toEqual(cli.routing?.picked);
      await studio.screenshot('12-evaluate', studio.evaluation.root);
      // The accuracy-vs-storage map: a point per row but the router's, at the table's normalized
      // accuracy; EMR's bytes are its bundle over the 8 tasks, the one-model methods' one model ÷ 8.
      const pareto = await studio.evaluation.paretoRows();
      const rows = cli.rows.filter((r) => r.method !== ROUTER_ROW);
      expect(Object.keys(pareto)).toEqual(rows.map((r) => r.method));
      for (const row of rows)
        expect(pareto[row.method]?.[0], row.method).toBe(
          Number((100 * normalized(row, cli.rows[0] as (typeof cli.rows)[number])).toFixed(1)),
        );
      const emr = pareto['EMR-Merging (rescale: tensor-mean)'];
      const individual = pareto['Individual'];
      expect(emr?.[2] && individual?.[2]).toBe(true); // both on the frontier
      expect(emr?.[1]).toBeLessThan((individual?.[1] ?? 0) / 2);
      expect(pareto['Weight averaging']?.[1]).toBeCloseTo((individual?.[1] ?? 0) / 8, -1);
      const download = page.waitForEvent('download');
      await studio.evaluation.root.getByRole('button', { name: 'Download CSV' }).click();
      const csv = await readFile(await (await download).path(), 'utf8');
      expect(csv.split('\n')[0]).toBe(`method,${cli.tasks.join(',')},avg,normalized`);
    }
    expect(errors).toEqual([]);
  });
}
