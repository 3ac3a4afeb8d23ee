// Plan: PyTorch checkpoints in the browser: a base and two tasks saved by torch as .bin
// (src/formats/pytorch/__fixtures__/merge) are picked, open as 'pytorch' cards, merge, and a task's
// export — listed as "written as safetensors" — is the same bytes as the same merge of their
// safetensors twins in Node. The hostile pickle that would create a file is read like any other
// file: it is refused as not a fine-tune of the base, and nothing runs.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { expect, test } from '@playwright/test';
import { MemorySink } from '../src/formats/sink';
import { CpuEngine } from '../src/merge/cpu/engine';
import { writeTaskSafetensors } from '../src/merge/export';
import { runMerge } from '../src/merge/merge';
import { methodSpec } from '../src/merge/methods';
import { buildModelSet } from '../src/merge/model-set';
import { StudioPage } from './pages/studio';
import { openFile } from './support/checkpoints';

const FIXTURES = 'src/formats/pytorch/__fixtures__';
const upload = async (path: string, name = basename(path)) => ({
  name,
  mimeType: 'application/octet-stream',
  buffer: await readFile(path),
});

test('PyTorch .bin files merge and export as safetensors, equal to their twins', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.fileInput.setInputFiles([
    ...(await Promise.all(
      ['base', 'task_a', 'task_b'].map((n) => upload(join(FIXTURES, 'merge', `${n}.bin`))),
    )),
    await upload(join(FIXTURES, 'hostile', 'pwned.bin'), 'pwned.bin'),
  ]);
  await expect(studio.load.checkpoints).toHaveCount(4);
  await expect(studio.load.role('base.bin')).toHaveValue('base');
  const card = studio.load.checkpoints.filter({ hasText: 'task_a.bin' });
  await expect(card).toContainText('pytorch');
  const pwned = studio.load.checkpoints.filter({ hasText: 'pwned.bin' });
  await expect(pwned.getByTestId('file-refused')).toContainText('Not a fine-tune of this base');
  await studio.mergeAndWait();

  await studio.api((api) => api.useFileSystemAccess(false));
  const button = studio.exports.button(/^task_a/);
  await expect(button).toContainText('task_a (safetensors, written as safetensors)');
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const exported = new Uint8Array(await readFile((await download.path()) as string));

  const twin = (n: string) => openFile(join(FIXTURES, 'merge', `${n}.safetensors`));
  const set = buildModelSet(await twin('base'), [
    { name: 'task_a', checkpoint: await twin('task_a') },
    { name: 'task_b', checkpoint: await twin('task_b') },
  ]);
  const engine = new CpuEngine();
  const result = await runMerge(set, methodSpec('emr'), engine);
  const sink = new MemorySink();
  await writeTaskSafetensors(result, 0, engine, sink);
  expect(Buffer.compare(Buffer.from(exported), Buffer.from(sink.bytes()))).toBe(0);
});
