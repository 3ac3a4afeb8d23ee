// Plan: a merge whose τ_uni and masks do not fit the memory budget spills them to the origin-private
// file system and gives the same result. Load demo → merge (in memory) → note λ and export the
// bundle → set the spill threshold to 0 → merge again: the page says the values are kept in private
// storage, λ are the same, one scratch file is in OPFS, the heatmap, mask viewer and histogram draw
// from it, and the exported bundle is byte for byte the in-memory one → merge once more in memory:
// the scratch file is deleted with the result it belonged to.
// And kept results past the memory budget (the same spill-over size): TA merged, its task model
// exported → budget 0 → TALL masks merged: TA is spilled to OPFS as its own artefact (the switcher
// says on disk) → switch back: TA is read back (TALL spilled in its place, never the one switched
// to) and its exported task model is byte for byte the one before; TALL's task model and artefact
// too → TA merged again: the replaced TA's file is deleted → with no scratch room left the oldest in
// memory is let go and the page says why → Clear all deletes every kept result's file. Screenshots
// of the switcher with a spilled result at 800, 1000 and 1400 px (SPILL_SHOTS: the folder). An EMR
// result whose values fit the budget alone is spilled as its bundle beside a second result, and read
// back: the same λ, bundle and task model.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { StudioPage } from './pages/studio';
import { consoleErrors } from './support/console';

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

async function exported(studio: StudioPage, item: RegExp): Promise<Uint8Array> {
  const [download] = await Promise.all([
    studio.page.waitForEvent('download'),
    studio.exports.button(item).click(),
  ]);
  return new Uint8Array(await readFile((await download.path()) as string));
}

test('kept results past the memory budget spill to OPFS and come back bit for bit', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.api((api) => api.useFileSystemAccess(false));
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  const switcher = page.getByTestId('result-switcher');
  const onDisk = (label: RegExp) => switcher.locator('option', { hasText: label });

  await studio.merge.method.selectOption('ta');
  await studio.mergeAndWait();
  const taPlain = await exported(studio, /^plain/);
  expect(await spillFiles(page)).toEqual([]);

  // Budget 0: every kept result but the one on screen goes to disk.
  await studio.api((api) => api.setSpillOver(0));
  await studio.merge.method.selectOption('tall_mask');
  await studio.mergeAndWait();
  await expect(onDisk(/^Task Arithmetic/)).toHaveAttribute('data-on-disk', 'true');
  await expect(onDisk(/^TALL masks/)).toHaveAttribute('data-on-disk', 'false');
  await expect(page.getByTestId('kept-places')).toContainText(
    '1 in memory, 1 on disk (spilled, reloads on switch): Task Arithmetic',
  );
  await expect(switcher.locator('optgroup[label="On disk (spilled, reloads on switch)"] option')).toHaveCount(
    1,
  );
  const [taFile] = await spillFiles(page);
  expect(taFile).toMatch(/^kept-/);
  const tallPlain = await exported(studio, /^plain/);
  const tallArtefact = await exported(studio, /artefact/);

  const shots = process.env['SPILL_SHOTS'];
  for (const width of [800, 1000, 1400]) {
    await page.setViewportSize({ width, height: 900 });
    const overflow = await studio.merge.root.evaluate((el) => el.scrollWidth - el.clientWidth);
    expect({ width, overflow }).toEqual({ width, overflow: 0 });
    const path = `switcher-spilled-${width}.png`;
    await studio.merge.root.screenshot({ path: shots ? join(shots, path) : test.info().outputPath(path) });
  }

  // Switching back reads TA back; TALL is spilled in its place.
  await switcher.selectOption({ label: (await onDisk(/^Task Arithmetic/).textContent()) ?? '' });
  await expect(studio.merge.result).toContainText('Task Arithmetic');
  await expect(onDisk(/^Task Arithmetic/)).toHaveAttribute('data-on-disk', 'false');
  await expect(onDisk(/^TALL masks/)).toHaveAttribute('data-on-disk', 'true');
  await expect.poll(() => spillFiles(page).then((f) => f.length)).toBe(2);
  expect(await exported(studio, /^plain/)).toEqual(taPlain);

  await switcher.selectOption({ label: (await onDisk(/^TALL masks/).textContent()) ?? '' });
  await expect(studio.merge.result).toContainText('TALL masks');
  await expect(onDisk(/^TALL masks/)).toHaveAttribute('data-on-disk', 'false');
  await expect(studio.inspect.rescalers.locator('tbody tr td[data-density]')).toHaveCount(8);
  expect(await exported(studio, /^plain/)).toEqual(tallPlain);
  expect(await exported(studio, /artefact/)).toEqual(tallArtefact);

  // TA merged again replaces the spilled TA: its file goes; TALL goes to disk (its file is reused).
  await studio.merge.method.selectOption('ta');
  await studio.mergeAndWait();
  await expect(switcher.locator('option')).toHaveCount(2);
  await expect(onDisk(/^TALL masks/)).toHaveAttribute('data-on-disk', 'true');
  await expect.poll(() => spillFiles(page)).not.toContain(taFile);
  expect(await spillFiles(page)).toHaveLength(1);

  // No scratch room: the oldest in memory is let go, as before spilling, and the page says why.
  await studio.api((api) => api.setKeptScratchRoom(0));
  await studio.merge.method.selectOption('ties_paper');
  await studio.mergeAndWait();
  await expect(page.getByTestId('merge-notice')).toContainText(
    'Let go to stay within the memory budget (the oldest first): Task Arithmetic',
  );
  await expect(page.getByTestId('merge-notice')).toContainText(
    'not kept on disk: keeping this result on disk',
  );
  await expect(switcher.locator('option')).toHaveCount(2);
  await expect(onDisk(/^TALL masks/)).toHaveAttribute('data-on-disk', 'true');

  await page.getByTestId('clear-all').click();
  await expect(studio.merge.result).toHaveCount(0);
  await expect.poll(() => spillFiles(page)).toEqual([]);
  expect(errors).toEqual([]);
});

test('an EMR result past the kept budget is spilled as its bundle and comes back bit for bit', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.api((api) => api.useFileSystemAccess(false));
  await studio.loadDemoAndMerge('cpu');
  const bytes = await studio.api((api) => api.merge().result?.values?.bytes);
  expect(bytes).toBeGreaterThan(0);
  const lambdas = await studio.inspect.lambdas();
  const bundle = await exportBundle(studio);
  const plain = await exported(studio, /^plain/);

  // τ_uni and the masks still fit (not spilled as values), but not beside a second result.
  // (studio.api sends its function as text: the number goes as an argument)
  await page.evaluate((b) => window.__studio?.setSpillOver(b), bytes as number);
  await studio.merge.method.selectOption('ta');
  await studio.mergeAndWait();
  const switcher = page.getByTestId('result-switcher');
  const emr = switcher.locator('option', { hasText: /^EMR/ });
  await expect(emr).toHaveAttribute('data-on-disk', 'true');
  expect(await spillFiles(page)).toHaveLength(1);

  await switcher.selectOption({ label: (await emr.textContent()) ?? '' });
  await expect(emr).toHaveAttribute('data-on-disk', 'false');
  await expect(switcher.locator('option', { hasText: /^Task Arithmetic/ })).toHaveAttribute(
    'data-on-disk',
    'true',
  );
  await expect(page.getByTestId('merge-spilled')).toHaveCount(0);
  expect(await studio.inspect.lambdas()).toEqual(lambdas);
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);
  expect(await exportBundle(studio)).toEqual(bundle);
  expect(await exported(studio, /^plain/)).toEqual(plain);
  expect(errors).toEqual([]);
});
