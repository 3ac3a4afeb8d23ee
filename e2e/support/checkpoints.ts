// Reading checkpoints in the test process with src/formats: from disk, or from bytes the page made.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { openCheckpoint } from '../../src/formats/open';
import { bytesSource } from '../../src/formats/source';
import type { Checkpoint } from '../../src/formats/tensor';

/** The whole file in memory (test files are small), so no file handle outlives the test. */
export async function openFile(path: string): Promise<Checkpoint> {
  return openBytes(new Uint8Array(await readFile(path)), basename(path));
}

export function openBytes(bytes: Uint8Array, name: string): Promise<Checkpoint> {
  return openCheckpoint(bytesSource(bytes, name));
}
