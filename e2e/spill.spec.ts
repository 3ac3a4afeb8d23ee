// Plan: a merge whose τ_uni and masks do not fit the memory budget spills them to the origin-private
// file system and gives the same result. Load demo → merge (in memory) → note λ and export the
// bundle → set the spill threshold to 0 → merge again: the page says the values are kept in private
// storage, λ are the same, one scratch file is in OPFS, the heatmap, mask viewer and histogram draw
// from it, and the exported bundle is byte for byte the in-memory one → merge once more in memory:
// the scratch file is deleted with the result it belonged to.
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { StudioPage } from './pages/studio';

/** Names in OPFS's spill folder, read from the page. */
function spillFiles(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const dir = (await root.getDirectoryHandle('spill', { create: true })) as FileSystemDirectoryHandle & {
      keys(): AsyncIterable<string>;
    };
    const names: string[] = [];
    for await (const n of dir.keys()) names.push(n);
    return names;
  });
}

async function exportBundle(studio: StudioPage): Promise<Uint8Array> {
  const [download] = await Promise.all([
    studio.page.waitForEvent('download'),
    studio.exports.button('EMR bundle').click(),
  ]);
  return new Uint8Array(await readFile((await download.path()) as string));
}

test('EMR values past the memory budget spill to OPFS, with the same result', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  await studio.api((api) => api.useFileSystemAccess(false));
  await studio.loadDemoAndMerge('cpu');
  await expect(page.getByTestId('merge-spilled')).toHaveCount(0);
  const lambdas = await studio.inspect.lambdas();
  const inMemory = await exportBundle(studio);
  expect(await spillFiles(page)).toEqual([]);

  await studio.api((api) => api.setSpillOver(0));
  await studio.mergeAndWait();
  await expect(page.getByTestId('merge-spilled')).toContainText('origin-private file system');
  await studio.screenshot('23-spilled', studio.merge.root);
  expect(await studio.inspect.lambdas()).toEqual(lambdas);
  expect(await spillFiles(page)).toHaveLength(1);
  await expect(studio.inspect.heatmap.locator('[role="gridcell"]').first()).toBeVisible();
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);
  await expect(studio.inspect.histogramChart.locator('canvas')).toBeVisible();
  expect(await exportBundle(studio)).toEqual(inMemory);

  await studio.api((api) => api.setSpillOver(2 ** 30));
  await studio.mergeAndWait();
  await expect(page.getByTestId('merge-spilled')).toHaveCount(0);
  await expect.poll(() => spillFiles(page)).toEqual([]);
  expect(errors).toEqual([]);
});
