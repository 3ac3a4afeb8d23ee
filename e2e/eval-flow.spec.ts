// Plan (issue #14 B4, B5, B7, B8): step 4 and step 5 on the demo. Choosing another task draws the
// next labeled sample from that task's own set → switching the input mode marks the outputs on
// screen out of date, switching back clears the mark → with "For: every task", the zoo's eval/
// files go to the tasks they are named after and a set named after no task is refused by name →
// an evaluation shows a time estimate and how many methods finished; Cancel stops it at once and
// keeps the finished method's row → renaming a task marks that table out of date.
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { StudioPage } from './pages/studio';

const EVAL = 'public/zoo/digits-8/eval';

test('step 4 follows the task; sets match tasks by name; cancel keeps finished rows; stale marks', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  const { infer, evaluation } = studio;
  await studio.open();
  await studio.loadDemoAndMerge('cpu');
  await expect(infer.root.getByText('8 of 8 tasks ready')).toBeVisible({ timeout: 60_000 });
  await expect(infer.caption).toContainText("from plain's labeled set");
  await infer.provider.selectOption('wasm'); // SwiftShader's WebGPU is slow for the evaluation

  // B7: another task → its own labeled set, and Next steps through that one.
  await infer.task.selectOption({ label: 'rotated' });
  await expect(infer.caption).toContainText('sample 1 of');
  await expect(infer.caption).toContainText("from rotated's labeled set");
  await expect(infer.root.getByLabel('Labeled set', { exact: true })).toHaveValue('rotated');
  // The worker answers in turn: the first sample's models (WebGPU on SwiftShader) come first.
  await expect(infer.column('emr')).toContainText('wasm', { timeout: 90_000 });
  await infer.root.getByRole('button', { name: 'Next →' }).click();
  await expect(infer.caption).toContainText('sample 2 of', { timeout: 60_000 });
  await expect(infer.caption).toContainText("from rotated's labeled set");

  // B8: another input mode → the outputs on screen are marked; back → current again.
  await expect(page.getByTestId('infer-stale')).toHaveCount(0);
  await infer.source('Draw').click();
  await expect(page.getByTestId('infer-stale')).toContainText('Out of date');
  await infer.source('Labeled sample').click();
  await expect(page.getByTestId('infer-stale')).toHaveCount(0);

  // B4: every task's set at once, matched by file name; a set named after no task is refused.
  const dir = await mkdtemp(join(tmpdir(), 'studio-e2e-sets-'));
  const names = await readdir(EVAL);
  await Promise.all(names.map((n) => copyFile(join(EVAL, n), join(dir, n))));
  await copyFile(join(EVAL, 'plain.safetensors'), join(dir, 'mnist.safetensors'));
  await infer.root.getByText('Graphs and labeled sets').click(); // folded when all are ready
  await expect(infer.root.getByLabel('Attach to task')).toHaveValue('*');
  await infer.root
    .getByLabel('Add labeled set')
    .setInputFiles([...names, 'mnist.safetensors'].map((n) => join(dir, n)));
  const lines = page.getByTestId('attach-lines');
  await expect(lines.locator('li')).toHaveCount(9, { timeout: 60_000 });
  await expect(lines).toContainText('plain.safetensors → plain');
  await expect(lines).toContainText('rotated.safetensors → rotated');
  await expect(lines).toContainText('mnist.safetensors: refused, no task is named "mnist"');
  await expect(infer.setup.locator('tr', { hasText: 'ge5' })).toContainText('ge5.safetensors (');
  await rm(dir, { recursive: true, force: true });

  // B5: a time estimate while it runs; Cancel at once keeps the method that finished.
  for (const label of ['Weight averaging', 'Task Arithmetic', 'EMR-Merging', 'Routed row (no task id)'])
    await evaluation.root.getByLabel(label).uncheck();
  await evaluation.run.click();
  await expect(page.getByTestId('eval-eta')).toContainText('left', { timeout: 120_000 });
  await expect(page.getByTestId('eval-methods')).toContainText('1 of 2 methods finished', {
    timeout: 240_000,
  });
  await evaluation.cancel.click();
  await expect(evaluation.notice).toContainText('Evaluation cancelled: the method that finished is kept.');
  await expect(page.getByTestId('eval-progress')).toHaveCount(0);
  await expect(evaluation.run).toBeEnabled();
  await expect(evaluation.report).toHaveAttribute('data-partial', 'true');
  expect(Object.keys(await evaluation.cells())).toEqual(['Individual']);
  await expect(page.getByTestId('eval-stale')).toHaveCount(0);

  // B8: a task renamed in step 1 → the merge and this table are out of date.
  await studio.load.root.getByLabel('Task name of plain.safetensors').fill('plain-2');
  await expect(page.getByTestId('merge-stale')).toBeVisible();
  await expect(page.getByTestId('eval-stale')).toContainText('Out of date — merge again');
  expect(errors).toEqual([]);
});
