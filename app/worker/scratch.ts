// Scratch files in the origin-private file system, for EMR values spilled out of memory (an
// LLM-sized τ_uni does not fit a tab) and for kept results past the memory budget (./kept-spill.ts). Synchronous access handles (dedicated workers only) read and
// write at any offset without copying through a stream. A file is deleted when its result goes;
// files left by a closed tab are deleted the next time the studio starts — a file another tab is
// using is locked by its handle and stays.
import type { ScratchFile } from '../../src/merge/emr-values';

const FOLDER = 'spill';

interface SyncAccessHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  close(): void;
}
type SyncFileHandle = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncAccessHandle> };
type Directory = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };

export class ScratchError extends Error {
  override readonly name = 'ScratchError';
}

async function folder(): Promise<Directory | undefined> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.getDirectory) return undefined;
  return (await (await storage.getDirectory()).getDirectoryHandle(FOLDER, { create: true })) as Directory;
}

/** Whether this context can spill (a dedicated worker with OPFS). */
export async function canSpill(): Promise<boolean> {
  const dir = await folder().catch(() => undefined);
  return dir !== undefined && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
}

/** What a scratch file holds: its name's prefix, and the words the quota message uses. */
export interface ScratchUse {
  readonly prefix: string;
  readonly holds: string;
}
const EMR_VALUES: ScratchUse = {
  prefix: 'emr',
  holds: 'the merge needs {size} of scratch space for τ_uni and the masks',
};

/**
 * A new scratch file of `bytes` (checked against the storage quota first; `room`, where given, is
 * the free space instead — tests fill the storage with it).
 */
export async function opfsScratch(
  bytes: number,
  use: ScratchUse = EMR_VALUES,
  room?: number,
): Promise<ScratchFile> {
  const dir = await folder();
  if (!dir) throw new ScratchError('this browser has no origin-private file system to spill the merge to');
  const estimate = room === undefined ? await navigator.storage.estimate?.() : undefined;
  const free = room ?? (estimate?.quota !== undefined ? estimate.quota - (estimate.usage ?? 0) : Infinity);
  if (bytes > free)
    throw new ScratchError(
      `${use.holds.replace('{size}', gib(bytes))}, and the browser allows this site ${gib(free)} more`,
    );
  const name = `${use.prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.bin`;
  const handle = (await dir.getFileHandle(name, { create: true })) as SyncFileHandle;
  const access = await handle.createSyncAccessHandle();
  const where = `origin-private file system: ${FOLDER}/${name}`;
  let open = true;
  return {
    name: where,
    async write(offset, data) {
      const n = access.write(data, { at: offset });
      if (n !== data.byteLength)
        throw new ScratchError(`${where}: wrote ${n} of ${data.byteLength} bytes at ${offset} (disk full?)`);
    },
    async read(offset, length) {
      const out = new Uint8Array(length);
      const n = access.read(out, { at: offset });
      if (n !== length) throw new ScratchError(`${where}: read ${n} of ${length} bytes at ${offset}`);
      return out;
    },
    async remove() {
      if (!open) return;
      open = false;
      access.close();
      await dir.removeEntry(name).catch(() => {});
    },
  };
}

/** Deletes scratch files no live handle holds (left by a tab that closed mid-merge). */
export async function removeStaleScratch(): Promise<void> {
  const dir = await folder().catch(() => undefined);
  if (!dir) return;
  const names: string[] = [];
  for await (const name of dir.keys()) names.push(name);
  for (const name of names) await dir.removeEntry(name).catch(() => {}); // locked: in use elsewhere
}

const gib = (b: number) =>
  b === Infinity
    ? 'unlimited'
    : b < 2 ** 30
      ? `${(b / 2 ** 20).toFixed(1)} MiB`
      : `${(b / 2 ** 30).toFixed(1)} GiB`;
