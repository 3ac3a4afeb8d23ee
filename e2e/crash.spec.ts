// Plan: the studio worker dying mid-merge (closed from inside, so the page learns it only through
// its life line, as after a crash) leaves the earlier result and the Inspect view on screen and
// says what happened; Merge again starts a fresh worker with the same files opened again, and
// gives the first merge's λ. The second merge runs at a few-KiB budget (thousands of reads) so the
// worker dies while it streams.
import { expect, test } from '@playwright/test';
import { StudioPage } from './pages/studio';

test('the studio worker dying mid-merge keeps the previous result; a retry works', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await expect(studio.load.sharedCount).toBeVisible();
  await studio.mergeAndWait();
  const first = await studio.inspect.lambdas();
  const firstId = (await studio.merge.result.getAttribute('data-merge-id')) as string;

  await studio.api((api) => api.setMergeBudget(4096));
  await studio.merge.mergeButton.click();
  await expect(studio.merge.progress.locator('p')).toContainText('tensors');
  await studio.api((api) => api.killStudioWorker('close'));
  await expect(studio.merge.notice).toContainText("The studio's worker stopped (it was closed or crashed)");
  await expect(studio.merge.mergeButton).toBeEnabled();
  await expect(studio.merge.result).toHaveAttribute('data-merge-id', firstId);
  expect(await studio.inspect.lambdas()).toEqual(first);
  await expect(studio.inspect.heatmap).toBeVisible();
  await studio.screenshot('22-worker-died', studio.merge.root);

  // Retry: a fresh worker (the files opened again), at the default budget.
  await studio.api((api) => api.setMergeBudget(undefined));
  await studio.mergeAndWait();
  await expect(studio.merge.notice).toHaveCount(0);
  expect(await studio.inspect.lambdas()).toEqual(first);
});

test('the studio worker dying mid-evaluation keeps the last table; a retry gives the same table', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadDemoAndMerge('cpu');
  await expect(studio.infer.root.getByText('8 of 8 tasks ready')).toBeVisible({ timeout: 30_000 });
  await studio.infer.provider.selectOption('wasm');
  for (const label of ['Weight averaging', 'Task Arithmetic', 'TIES-Merging', 'Routed row (no task id)'])
    await studio.evaluation.root.getByLabel(label).uncheck();
  await studio.evaluation.run.click();
  await expect(studio.evaluation.table).toBeVisible({ timeout: 240_000 });
  const first = await studio.evaluation.cells();
  const lambdas = await studio.inspect.lambdas();

  await studio.evaluation.run.click();
  await expect(studio.evaluation.root.getByText(/model runs on samples/)).toBeVisible({ timeout: 60_000 });
  await studio.api((api) => api.killStudioWorker('close'));
  await expect(studio.evaluation.notice).toContainText("The studio's worker stopped");
  expect(await studio.evaluation.cells()).toEqual(first);
  expect(await studio.inspect.lambdas()).toEqual(lambdas);

  // Retry: a fresh worker opens the files, attaches the graphs and sets, makes the merge again.
  await studio.evaluation.run.click();
  await expect(studio.evaluation.notice).toHaveCount(0, { timeout: 30_000 });
  await expect(studio.evaluation.root.getByText(/model runs on samples/)).toHaveCount(0, {
    timeout: 240_000,
  });
  await expect(studio.evaluation.notice).toHaveCount(0); // finished without a message: a new table
  expect(await studio.evaluation.cells()).toEqual(first);
});
