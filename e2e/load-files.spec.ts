// Plan (issue #14 B1, B8, B10): a user's folder of models. The folder's cards come base first,
// then in natural order (a2 before a10), whatever the file system's order → the same base and a
// task added again are refused on their cards, naming the file they copy, and the merge takes
// the three tasks only → the result is marked out of date when a task's name is edited (and
// not once the edit is undone) and when a file is removed → Clear all empties the page and the
// demo can be loaded again.
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { writeSyntheticSet, type SyntheticSet } from '../src/merge/testing/synthetic';
import { StudioPage } from './pages/studio';

let dir: string;
let folder: string;
let set: SyntheticSet;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'studio-e2e-load-'));
  set = await writeSyntheticSet({ dir: join(dir, 'gen'), numTasks: 3, width: 32, depth: 2 });
  // Names whose plain sort puts the base in the middle and a10 before a2.
  folder = join(dir, 'models');
  await mkdir(folder);
  await copyFile(set.base, join(folder, 'model-base.safetensors'));
  const names = ['ft-a10', 'ft-a2', 'ft-a1'];
  await Promise.all(set.tasks.map((t, i) => copyFile(t.path, join(folder, `${names[i]}.safetensors`))));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a folder: base first in natural order; copies refused by name; stale marks; Clear all', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.folderInput.setInputFiles(folder);
  await expect(studio.load.checkpoints).toHaveCount(4);
  await expect(studio.load.sharedCount).toBeVisible();
  const names = () =>
    studio.load.checkpoints.evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
  expect(await names()).toEqual([
    'model-base.safetensors',
    'ft-a1.safetensors',
    'ft-a2.safetensors',
    'ft-a10.safetensors',
  ]);
  await expect(studio.load.role('model-base.safetensors')).toHaveValue('base');

  // The same base and one task again, picked as files: refused on their cards, never a task.
  const upload = async (path: string) => ({
    name: path.split('/').pop() as string,
    mimeType: 'application/octet-stream',
    buffer: await readFile(path),
  });
  await studio.load.fileInput.setInputFiles([
    await upload(join(folder, 'model-base.safetensors')),
    await upload(join(folder, 'ft-a2.safetensors')),
  ]);
  await expect(studio.load.checkpoints).toHaveCount(6);
  const errorsShown = studio.load.root.getByTestId('file-error');
  await expect(errorsShown).toHaveCount(2);
  await expect(errorsShown.nth(0)).toContainText('the same file as models/model-base.safetensors');
  await expect(errorsShown.nth(1)).toContainText('the same file as models/ft-a2.safetensors');
  const roles = await studio.api((api) => api.files().checkpoints.map((c) => c.role));
  expect(roles.filter((r) => r === 'task')).toHaveLength(3);
  expect(roles.filter((r) => r === 'base')).toHaveLength(1);

  await studio.merge.engine.selectOption('cpu');
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('3 tasks');
  await expect(page.getByTestId('merge-stale')).toHaveCount(0);

  // Editing a task's name: the result is out of date; undoing the edit makes it current again.
  const name = studio.load.root.getByLabel('Task name of ft-a1.safetensors');
  const original = await name.inputValue();
  await name.fill(`${original}-renamed`);
  await expect(page.getByTestId('merge-stale')).toContainText('Out of date — merge again');
  await name.fill(original);
  await expect(page.getByTestId('merge-stale')).toHaveCount(0);
  // Removing a file, too.
  await studio.load.root.getByRole('button', { name: 'Remove ft-a10.safetensors' }).first().click();
  await expect(page.getByTestId('merge-stale')).toBeVisible();

  // Clear all: no file, no result, and the demo can be loaded.
  await page.getByTestId('clear-all').click();
  await expect(studio.load.checkpoints).toHaveCount(0);
  await expect(studio.merge.result).toHaveCount(0);
  await expect(studio.load.loadDemo).toBeEnabled();
  expect(errors).toEqual([]);
});
