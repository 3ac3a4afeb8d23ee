// Exports in browsers without a save picker (Firefox, Safari): the bytes go to a file in the
// origin-private file system as they are made, not into memory, and the page downloads that file.
// Where OPFS cannot be written (no storage, a private window, no writable stream or sync handle),
// they are collected in a Blob as before. Staged files stay until the studio next starts (the
// page's download reads them after the export returns), when the previous session's are removed.
import type { AbortableSink, BlobSink } from './sinks';
import { blobSink } from './sinks';

const FOLDER = 'exports';

type Directory = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}
type StagingHandle = FileSystemFileHandle & {
  createWritable?(): Promise<FileSystemWritableFileStream>;
  createSyncAccessHandle?(): Promise<SyncAccessHandle>;
};

/** An export's sink whose bytes come back as one Blob (a File on disk when staged in OPFS). */
export interface DownloadSink extends AbortableSink {
  blob(): Promise<Blob>;
}

let folder: Promise<Directory | undefined> | undefined;

/** The staging folder, emptied of the last session's files the first time it is asked for. */
function staging(): Promise<Directory | undefined> {
  folder ??= (async () => {
    const storage = globalThis.navigator?.storage;
    if (typeof storage?.getDirectory !== 'function') return undefined;
    const dir = (await (
      await storage.getDirectory()
    ).getDirectoryHandle(FOLDER, { create: true })) as Directory;
    const stale: string[] = [];
    for await (const name of dir.keys()) stale.push(name);
    // A file another tab is still writing is locked and stays.
    await Promise.all(stale.map((name) => dir.removeEntry(name).catch(() => {})));
    return dir;
  })().catch(() => undefined);
  return folder;
}

/** A sink for a download named `name`: staged in OPFS where it can be, else in memory. */
export async function downloadSink(name: string): Promise<DownloadSink | BlobSink> {
  const dir = await staging();
  if (!dir) return blobSink(name);
  const file = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${name}`;
  try {
    const handle = (await dir.getFileHandle(file, { create: true })) as StagingHandle;
    const remove = () => dir.removeEntry(file).catch(() => {});
    if (handle.createWritable) {
      const writable = await handle.createWritable();
      return {
        name,
        write: (bytes) => writable.write(bytes as Uint8Array<ArrayBuffer>),
        close: () => writable.close(),
        abort: () => writable.abort().then(remove, remove),
        blob: () => handle.getFile(),
      };
    }
    if (handle.createSyncAccessHandle) {
      // Safari: no writable streams in OPFS, but a dedicated worker gets a synchronous handle.
      const access = await handle.createSyncAccessHandle();
      let at = 0;
      let open = true;
      const close = () => {
        if (open) access.close();
        open = false;
      };
      return {
        name,
        async write(bytes) {
          const n = access.write(bytes, { at });
          if (n !== bytes.byteLength)
            throw new Error(`${name}: wrote ${n} of ${bytes.byteLength} bytes (disk full?)`);
          at += n;
        },
        async close() {
          access.flush();
          close();
        },
        abort: async () => (close(), remove()),
        blob: () => handle.getFile(),
      };
    }
    await remove();
  } catch {
    // quota, a private window: fall through to memory
  }
  return blobSink(name);
}
