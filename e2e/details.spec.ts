// Plan: the studio's smaller visual promises, on both demos.
// Text demo (4 LoRA adapters): each adapter card is titled by its folder → after an EMR merge the
// heatmap hatches the tensors an adapter leaves untouched (legend and detail line say so) and says
// what the sign-conflict share is of → every column's class rows keep names off their bars and
// percentages on one line.
// Digits demo, TIES: k is typed in % and checked as typed (the error beside the field, Merge
// disabled) as is λ → the merge runs with the console clean of warnings and errors → the export
// list gives each item's file and size → the zip is deflated and holds a task's bytes unchanged.
import { readFile } from 'node:fs/promises';
import { expect, test, type ConsoleMessage, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { StudioPage } from './pages/studio';

/** Console warnings and errors and uncaught page errors, from the page and its workers. */
function consoleProblems(page: Page): string[] {
  const problems: string[] = [];
  const onMessage = (m: ConsoleMessage) => {
    if (m.type() === 'warning' || m.type() === 'error') problems.push(`${m.type()}: ${m.text()}`);
  };
  page.on('console', onMessage);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/** Compression method of each entry in a zip's central directory (0 stored, 8 deflated). */
function zipMethods(zip: Uint8Array): Record<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  const out: Record<string, number> = {};
  let at = view.getUint32(end + 16, true);
  for (let i = view.getUint16(end + 10, true); i > 0; i--) {
    const nameLength = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    out[name] = view.getUint16(at + 10, true);
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return out;
}

test('text demo: cards by folder, untouched tensors, conflicts explained, class rows', async ({ page }) => {
  test.setTimeout(240_000);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadTextDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(5);
  await expect(studio.load.checkpoints.locator('.file-name')).toHaveText([
    'base.safetensors',
    'lang',
    'topic',
    'sentiment',
    'samelang',
  ]);
  await studio.merge.engine.selectOption('cpu');
  await studio.mergeAndWait();

  const heatmap = studio.inspect.heatmap;
  const untouched = heatmap.locator('[role="gridcell"][data-untouched]');
  await expect(untouched.first()).toBeVisible();
  await expect(studio.inspect.root.getByTestId('legend-untouched')).toHaveText(/untouched \(τ = 0\)/);
  await expect(untouched.first()).not.toHaveAttribute('style', /background/);
  await untouched.first().hover();
  await expect(studio.inspect.heatmapDetails).toContainText('untouched by');
  await expect(studio.inspect.heatmapDetails).toContainText(/Across all 4 tasks, sign conflicts on/);
  await heatmap.locator('[role="gridcell"]:not([data-untouched])').first().hover();
  await expect(studio.inspect.heatmapDetails).toContainText('mask density');
  await studio.screenshot('31-untouched', studio.inspect.heatmap);

  const infer = studio.infer;
  await infer.provider.selectOption('wasm');
  await expect(infer.column('emr')).toContainText('wasm', { timeout: 90_000 });
  for (const column of ['individual', 'emr', 'avg', 'ta', 'ties'])
    await expect(infer.column(column).locator('.top-classes li')).not.toHaveCount(0);
  const rows = await infer.outputs.locator('.top-classes li').evaluateAll((lis) =>
    lis.map((li) => {
      const name = li.querySelector('.class-name') as HTMLElement;
      const bar = li.querySelector('.bar') as HTMLElement;
      const prob = li.querySelector('.prob') as HTMLElement;
      return {
        text: `${name.textContent} ${prob.textContent}`,
        nameWhole: name.scrollWidth <= name.clientWidth,
        clear: name.getBoundingClientRect().right <= bar.getBoundingClientRect().left,
        oneLine: prob.getBoundingClientRect().height < 1.5 * parseFloat(getComputedStyle(prob).lineHeight),
      };
    }),
  );
  for (const row of rows)
    expect(row, row.text).toMatchObject({ nameWhole: true, clear: true, oneLine: true });
  await studio.screenshot('32-class-rows', infer.outputs);
});

test('baseline merge: TIES k in %, checked as typed; a clean console; export sizes; a deflated zip', async ({
  page,
}) => {
  const problems = consoleProblems(page);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  await studio.merge.method.selectOption('ties_paper');

  const merge = studio.merge;
  const k = merge.root.getByLabel('k, share of |τ| kept (%)');
  const lambda = merge.root.getByLabel('λ');
  await expect(k).toHaveValue('20');
  await expect(merge.mergeButton).toBeEnabled();
  await k.fill('150');
  await expect(merge.root.getByRole('alert')).toHaveText('k must be above 0 % and at most 100 %.');
  await expect(k).toHaveAttribute('aria-invalid', 'true');
  await expect(merge.mergeButton).toBeDisabled();
  await k.fill('');
  await expect(merge.root.getByRole('alert')).toHaveText('Enter the share of |τ| to keep, in %.');
  await k.fill('10');
  await lambda.fill('-1');
  await expect(merge.root.getByRole('alert')).toHaveText('λ must be above 0.');
  await expect(merge.mergeButton).toBeDisabled();
  await lambda.fill('1');
  await expect(merge.root.getByRole('alert')).toHaveCount(0);
  await expect(merge.mergeButton).toBeEnabled();
  await studio.mergeAndWait();
  await expect(merge.result).toContainText('TIES-Merging (k = 10 %, λ = 1)');
  await expect(studio.inspect.rescalers.locator('tbody tr')).toHaveCount(8);
  await expect(studio.inspect.rescalers.locator('tbody tr[data-lambda]')).toHaveCount(0);

  // The export list: no bundle for a baseline; each task's file and size, then the zip.
  const items = studio.exports.root.getByTestId('export-item');
  await expect(items).toHaveCount(9);
  await expect(items.first()).toContainText(/plain\.safetensors\s*≈ [\d.]+ KB/);
  await expect(items.last()).toContainText(/merge-studio-ties\.zip\s*≤ [\d.]+ MB/);

  await studio.api((api) => api.useFileSystemAccess(false));
  const [taskDownload] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button(/^plain/).click(),
  ]);
  const plain = new Uint8Array(await readFile((await taskDownload.path()) as string));
  const [zipDownload] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button(/one \.zip/).click(),
  ]);
  const zip = new Uint8Array(await readFile((await zipDownload.path()) as string));
  const entries = unzipSync(zip);
  expect(entries['plain.safetensors']).toEqual(plain);
  const methods = zipMethods(zip);
  expect(Object.keys(methods)).toEqual(Object.keys(entries));
  expect(Object.values(methods).every((m) => m === 8)).toBe(true); // every entry deflated
  await expect(studio.exports.status('zip')).toContainText('Saved');
  await studio.screenshot('33-export-list', studio.exports.root);
  expect(problems).toEqual([]);
});
