// Node files: a byte source read by range through a file handle, and a sink that appends to a file.
// Kept apart from source.ts so the browser bundle never sees node:fs.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { FormatError } from './errors';
import type { ByteSink } from './sink';
import { checkRange, type ByteSource } from './source';

export interface FileSource extends ByteSource {
  close(): Promise<void>;
}

export async function fileSource(path: string): Promise<FileSource> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new FormatError('missing-file', path, 'file not found or not readable', { cause: e });
  }
  // Opened on first read: a directory's worth of companions costs a stat each until used.
  let handle: FileHandle | undefined;
  const source: FileSource = {
    name: path,
    size,
    async read(offset, length) {
      checkRange(source, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        handle ??= await open(path, 'r');
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new FormatError(
            'truncated',
            path,
            `file changed while reading: got ${done} of ${length} bytes at ${offset}`,
          );
        }
        done += bytesRead;
      }
      return out;
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
  return source;
}

/** A file written from the start, appended to in order (the CLI's writers). */
export async function fileSink(path: string): Promise<ByteSink> {
  const handle = await open(path, 'w');
  return {
    name: path,
    async write(bytes) {
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
        done += bytesWritten;
      }
    },
    close: () => handle.close(),
  };
}
