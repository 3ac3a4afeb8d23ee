// Plan: a merge cancelled halfway leaves the earlier result on screen untouched. The demo merges
// once at the default budget; then the scheduler's budget shrinks to a few KiB (32-element chunks,
// thousands of reads), so the second merge runs long enough to be cancelled while it streams.
import { expect, test } from '@playwright/test';
import { StudioPage } from './pages/studio';

test('cancel mid-merge keeps the previous result', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await expect(studio.load.sharedCount).toBeVisible();
  await studio.mergeAndWait();
  const first = await studio.inspect.lambdas();
  const firstId = await studio.merge.result.getAttribute('data-merge-id');

  await studio.api((api) => api.setMergeBudget(4096));
  await studio.merge.method.selectOption('ta');
  await studio.merge.mergeButton.click();
  await expect(studio.merge.progress.locator('p')).toContainText('tensors');
  await studio.screenshot('20-merging', studio.merge.root);
  await studio.merge.cancelButton.click();
  await expect(studio.merge.notice).toContainText('cancelled');
  await expect(studio.merge.result).toHaveAttribute('data-merge-id', firstId as string);
  expect(await studio.inspect.lambdas()).toEqual(first);
  await expect(studio.inspect.heatmap).toBeVisible();
  await studio.screenshot('21-cancelled', studio.merge.root);
});
