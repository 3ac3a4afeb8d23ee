// Plan: the newcomer's path on the demo zoo. Load demo → the page reads headers only and reports
// the alignment → merge with EMR → the rescalers equal those of the same merge computed here in
// Node by the engine itself → heatmap and mask viewer draw → a task model and the bundle export
// and read back through src/formats (the bundle rebuilds the same λ and masks) → loading the
// bundle with the base restores the inspect view. Screenshots of each view go to test-results/.
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { CpuEngine } from '../src/merge/cpu/engine';
import { openBundle } from '../src/merge/bundle';
import { runMerge, type EmrResult } from '../src/merge/merge';
import { methodSpec } from '../src/merge/methods';
import { buildModelSet } from '../src/merge/model-set';
import { StudioPage } from './pages/studio';
import { openBytes, openFile } from './support/checkpoints';
import { consoleErrors } from './support/console';

const ZOO = 'public/zoo/digits-8';
interface Manifest {
  base: { safetensors: string };
  tasks: { id: string; safetensors: string }[];
}

async function engineMerge(): Promise<EmrResult> {
  const manifest = JSON.parse(await readFile(`${ZOO}/manifest.json`, 'utf8')) as Manifest;
  const base = await openFile(`${ZOO}/${manifest.base.safetensors}`);
  const tasks = await Promise.all(
    manifest.tasks.map(async (t) => ({ name: t.id, checkpoint: await openFile(`${ZOO}/${t.safetensors}`) })),
  );
  return (await runMerge(buildModelSet(base, tasks), methodSpec('emr'), new CpuEngine())) as EmrResult;
}

test('demo: load, merge, inspect, export and read back', async ({ page }) => {
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  await expect(studio.load.loadDemo).toBeVisible();
  await studio.screenshot('01-empty');

  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await expect(studio.load.role('base.safetensors')).toHaveValue('base');
  await expect(studio.load.sharedCount).not.toHaveText('0');
  await studio.screenshot('02-loaded');

  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('EMR-Merging');
  const reference = await engineMerge();
  const shown = await studio.inspect.lambdas();
  expect(Object.keys(shown)).toEqual(reference.set.tasks.map((t) => t.name));
  reference.set.tasks.forEach((t, i) => expect(shown[t.name]).toBe(reference.lambdas[i]));

  await expect(studio.inspect.heatmap.locator('[role="gridcell"]').first()).toBeVisible();
  await studio.inspect.heatmap.locator('[role="gridcell"]').nth(3).hover();
  await expect(studio.inspect.heatmapDetails).toContainText('density');
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);
  await expect(studio.inspect.depthChart.locator('canvas')).toBeVisible();
  // Drawn after a pass over τ_uni in the studio worker, which shares two loaded cores with the first
  // onnxruntime session (step 4 runs a sample at once, on wasm on this software adapter).
  await expect(studio.inspect.histogramChart.locator('canvas')).toBeVisible({ timeout: 90_000 });
  await studio.screenshot('03-inspect');

  // The heatmap by keyboard: arrows move the active cell, Enter opens it in the viewer.
  await studio.inspect.heatmap.focus();
  for (const key of ['ArrowDown', 'ArrowDown', 'ArrowRight']) await page.keyboard.press(key);
  const active = studio.inspect.heatmap.locator('.hm-cell.active');
  const [tensor, task] = [await active.getAttribute('data-tensor'), await active.getAttribute('data-task')];
  await page.keyboard.press('Enter');
  await expect(studio.inspect.viewer.getByLabel('Tensor')).toHaveValue(tensor as string);
  await expect(
    studio.inspect.viewer.getByLabel('Task', { exact: true }).locator('option:checked'),
  ).toHaveText(task as string);

  // The heatmap's controls: log scale, sorting, folding a block; the viewer's comparisons and zoom.
  await studio.inspect.root.getByRole('radio', { name: 'Log' }).click();
  await expect(studio.inspect.root.getByLabel('Colour scale, log')).toBeVisible();
  await studio.inspect.root.getByLabel('Sort').selectOption('conflict');
  const rowsBefore = await studio.inspect.heatmap.getByRole('row').count();
  await studio.inspect.heatmap.getByRole('rowheader', { name: 'blocks.0' }).click();
  await expect(studio.inspect.heatmap.getByRole('row')).toHaveCount(rowsBefore - 12);
  await studio.inspect.heatmap.getByRole('gridcell').nth(20).click();
  await studio.inspect.viewer.getByLabel('Beside it').selectOption('other-mask');
  await studio.inspect.viewer.getByLabel('Other task').selectOption('ge5');
  await expect(studio.inspect.viewer.locator('figcaption').nth(1)).toHaveText('Mask of ge5');
  await studio.inspect.viewer.getByLabel('Beside it').selectOption('agreement');
  await studio.inspect.viewer.getByRole('button', { name: 'Zoom in' }).click();
  await expect(studio.inspect.viewer.getByTestId('viewer-caption')).toContainText('shown as');
  await studio.screenshot('04-heatmap', studio.inspect.heatmap);
  await studio.screenshot('05-mask-viewer', studio.inspect.viewer);
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await studio.screenshot('03-inspect-dark');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();

  // Exports as downloads (the Blob path).
  await studio.api((api) => api.useFileSystemAccess(false));
  const [taskDownload] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button(/^plain/).click(),
  ]);
  const taskBytes = await readFile((await taskDownload.path()) as string);
  const taskModel = await openBytes(new Uint8Array(taskBytes), 'plain.safetensors');
  expect([...taskModel.tensors.keys()]).toEqual([
    ...(reference.set.tasks[0]?.checkpoint.tensors.keys() ?? []),
  ]);

  const [bundleDownload] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button('EMR bundle').click(),
  ]);
  const bundleBytes = new Uint8Array(await readFile((await bundleDownload.path()) as string));
  const bundle = await openBytes(bundleBytes, 'emr-bundle.safetensors');
  const restored = await openBundle(bundle, reference.set.base);
  expect(restored.lambdas).toEqual(reference.lambdas);
  const [zipDownload] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button(/one \.zip/).click(),
  ]);
  const entries = unzipSync(new Uint8Array(await readFile((await zipDownload.path()) as string)));
  expect(Object.keys(entries)).toEqual([
    'emr-bundle.safetensors',
    ...reference.set.tasks.map((t) => `${t.name}.safetensors`),
  ]);
  expect(entries['emr-bundle.safetensors']).toEqual(bundleBytes);
  await studio.screenshot('06-export', studio.exports.root);

  // The bundle and the base dropped back in restore the inspect view.
  await page.reload();
  await page.waitForFunction(() => window.__studio !== undefined);
  await studio.load.fileInput.setInputFiles([
    {
      name: 'base.safetensors',
      mimeType: 'application/octet-stream',
      buffer: await readFile(`${ZOO}/base.safetensors`),
    },
    {
      name: 'emr-bundle.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(bundleBytes),
    },
  ]);
  await expect(studio.load.role('emr-bundle.safetensors')).toHaveValue('bundle');
  await studio.load.card('emr-bundle.safetensors').getByRole('button', { name: 'Open bundle' }).click();
  await expect(studio.merge.result).toContainText('Restored from a bundle');
  const again = await studio.inspect.lambdas();
  reference.set.tasks.forEach((t, i) => expect(again[t.name]).toBe(reference.lambdas[i]));
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);
  await studio.screenshot('07-restored');
  expect(errors).toEqual([]);
});

test('demo on the GPU engine: the same masks and rescalers as the CPU engine', async ({ page }) => {
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('gpu');
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('GPU: google swiftshader');
  const reference = await engineMerge();
  const shown = await studio.inspect.lambdas();
  // λ's sums come from f32 partials on the GPU, added in f64: equal to 1e-6, not to the last bit
  reference.set.tasks.forEach((t, i) =>
    expect(Math.abs((shown[t.name] as number) - (reference.lambdas[i] as number))).toBeLessThan(
      1e-6 * (reference.lambdas[i] as number),
    ),
  );
  // mask densities are counts of mask bits: identical when the masks are
  const densities = await studio.inspect.rescalers
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.querySelectorAll('td')[3]?.textContent));
  const expected = reference.tasks.map((t) => `${(t.density * 100).toFixed(1)} %`);
  expect(densities).toEqual(expected);
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);
  await studio.screenshot('08-gpu-merge');
  expect(errors).toEqual([]);
});
