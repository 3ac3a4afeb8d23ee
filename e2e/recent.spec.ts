// Plan: a finished merge survives a reload. Load demo → merge → the merge is listed under Recent
// merges (its bundle in the origin-private file system) → reload the page → Restore loads the demo
// again and opens the bundle with its base: the same λ on screen, every task ready in step 4 →
// Clear all makes the demo loadable again → Delete empties the list.
import { expect, test } from '@playwright/test';
import { StudioPage } from './pages/studio';

test('recent merges: a reload does not lose a finished merge', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadDemoAndMerge('cpu');
  const lambdas = await studio.inspect.lambdas();
  const recent = page.getByTestId('recent-merges');
  await expect(recent).toContainText('Recent merges (1, kept in this browser)');

  await page.reload();
  await page.waitForFunction(() => window.__studio !== undefined);
  await expect(studio.load.checkpoints).toHaveCount(0);
  await recent.getByText('Recent merges').click();
  await expect(recent.locator('li')).toHaveCount(1);
  await expect(recent.locator('li')).toContainText('8 tasks (plain, rotated');
  await recent.getByRole('button', { name: 'Restore' }).click();
  await expect(studio.merge.result).toContainText('Restored from a bundle', { timeout: 60_000 });
  expect(await studio.inspect.lambdas()).toEqual(lambdas);
  await expect(recent.getByRole('status')).toContainText('Restored the merge of');
  // Step 4 has the demo's graphs and labeled sets again (#14 B3), and Evaluate can run.
  await expect(studio.infer.root.getByText('8 of 8 tasks ready')).toBeVisible({ timeout: 60_000 });
  await expect(studio.evaluation.run).toBeEnabled();
  await expect(page.getByTestId('merge-stale')).toHaveCount(0);
  // Step 4 runs its first sample at once; the worker answers in turn, so that run comes first.
  await expect(studio.infer.column('emr').locator('.top-classes li')).toHaveCount(3, { timeout: 90_000 });
  // The demo is loaded (its button says so); Clear all makes it loadable again in one click.
  await expect(page.getByRole('button', { name: 'Demo loaded' })).toBeDisabled();
  await page.getByTestId('clear-all').click();
  await expect(studio.load.checkpoints).toHaveCount(0);
  await expect(studio.load.loadDemo).toBeEnabled();

  await recent.getByRole('button', { name: /^Delete the merge/ }).click();
  await expect(recent.locator('li')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('recent merges: a text-demo merge is restored with the text demo', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadTextDemoAndMerge('cpu');
  const lambdas = await studio.inspect.lambdas();
  const recent = page.getByTestId('recent-merges');
  await expect(recent).toContainText('Recent merges (1, kept in this browser)'); // saved before the reload
  await page.reload();
  await page.waitForFunction(() => window.__studio !== undefined);
  await recent.getByText('Recent merges').click();
  await recent
    .locator('li')
    .filter({ hasText: 'lang' })
    .first()
    .getByRole('button', { name: 'Restore' })
    .click();
  await expect(studio.merge.result).toContainText('Restored from a bundle', { timeout: 60_000 });
  expect(await studio.inspect.lambdas()).toEqual(lambdas);
});

test('recent merges: a per-task method’s artefact is kept and restored like a bundle', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await page.getByTestId('checkpoint').nth(8).waitFor();
  await studio.merge.engine.selectOption('cpu');
  await studio.merge.method.selectOption('t_switch');
  await studio.mergeAndWait();
  const densities = await studio.inspect.rescalers
    .locator('td[data-density]')
    .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-density')));
  const recent = page.getByTestId('recent-merges');
  await expect(recent).toContainText('Recent merges (1, kept in this browser)');

  await page.reload();
  await page.waitForFunction(() => window.__studio !== undefined);
  await recent.getByText('Recent merges').click();
  await expect(recent.locator('li')).toContainText('T-Switch (drop ratio 0.6)');
  await recent.getByRole('button', { name: 'Restore' }).click();
  await expect(studio.merge.result).toContainText('Restored from a bundle: T-Switch', { timeout: 60_000 });
  // The artefact rebuilds what the merge made: the same per-task densities, and step 4 runs its models.
  expect(
    await studio.inspect.rescalers
      .locator('td[data-density]')
      .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-density'))),
  ).toEqual(densities);
  await expect(studio.infer.column('merged').locator('.top-classes li')).toHaveCount(3, { timeout: 90_000 });
  await recent.getByRole('button', { name: /^Delete the merge/ }).click();
  await expect(recent.locator('li')).toHaveCount(0);
  expect(errors).toEqual([]);
});
