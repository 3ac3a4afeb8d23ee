// Byte sinks the worker writes exports into: a file the user picked (streamed to disk through
// the File System Access API, never whole in memory), or a Blob built from the written pieces.
import type { ByteSink } from '../../src/formats/sink';

export interface BlobSink extends ByteSink {
  blob(): Blob;
}

export function blobSink(name: string, type = 'application/octet-stream'): BlobSink {
  // Each piece becomes a Blob at once: Blob() copies, so writers may reuse their arrays.
  const parts: Blob[] = [];
  return {
    name,
    async write(bytes) {
      parts.push(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    },
    async close() {},
    blob: () => new Blob(parts, { type }),
  };
}

export interface AbortableSink extends ByteSink {
  /** Drops what was written (a failed export leaves no half file behind). */
  abort(): Promise<void>;
}

export async function fileHandleSink(handle: FileSystemFileHandle): Promise<AbortableSink> {
  const writable = await handle.createWritable();
  return {
    name: handle.name,
    write: (bytes) => writable.write(bytes as Uint8Array<ArrayBuffer>),
    close: () => writable.close(),
    abort: () => writable.abort(),
  };
}
