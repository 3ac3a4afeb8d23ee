// Plan: the CLI's scratch file writes and reads back at any offset, refuses a size the disk cannot
// hold before creating anything (naming the folder and both sizes), and leaves nothing when removed.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scratchFile, ScratchSpaceError } from './scratch';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scratch-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('writes and reads back at any offset, out of order, and is gone once removed', async () => {
  const file = await scratchFile(dir, 1 << 20);
  await file.write(1000, new Uint8Array([5, 6, 7]));
  await file.write(3, new Uint8Array([1, 2]));
  expect([...(await file.read(3, 2))]).toEqual([1, 2]);
  expect([...(await file.read(999, 4))]).toEqual([0, 5, 6, 7]);
  await expect(file.read(2000, 10)).rejects.toThrow(/ended at 2000, before 2010/);
  await file.remove();
  await file.remove(); // twice is fine
  expect(await readdir(dir)).toEqual([]);
});

it('refuses more than the disk has free, before creating a file', async () => {
  const err = await scratchFile(dir, 2 ** 60).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ScratchSpaceError);
  expect(String(err)).toContain(dir);
  expect(String(err)).toMatch(/needs 1073741824\.0 GiB .* and the disk has [\d.]+ GiB free/);
  expect(await readdir(dir)).toEqual([]);
});
