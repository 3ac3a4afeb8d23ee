// Byte sources: where a file's bytes come from, read on demand by range. Readers never load a
// whole file; they ask for the header, then for each tensor's range when it is needed.
import { FormatError } from './errors';

export interface ByteSource {
  /** The file's name as the user gave it (a path in Node, File.name in the browser). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Bytes [offset, offset + length). Reading past the end is a 'truncated' FormatError. */
  read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
}

export function checkRange(source: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new FormatError('out-of-bounds', source.name, `invalid read of ${length} bytes at ${offset}`);
  }
  if (offset + length > source.size) {
    throw new FormatError(
      'truncated',
      source.name,
      `file is truncated: needs bytes up to ${offset + length}, but it has ${source.size}`,
    );
  }
}

/** A browser File or Blob; `slice` reads just the range. */
export function blobSource(blob: Blob, name = (blob as Partial<File>).name ?? 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(this, offset, length);
      const buffer = await blob.slice(offset, offset + length).arrayBuffer();
      if (buffer.byteLength !== length) {
        throw new FormatError(
          'truncated',
          name,
          `file changed while reading: got ${buffer.byteLength} of ${length} bytes at ${offset}`,
        );
      }
      return new Uint8Array(buffer);
    },
  };
}

/** Bytes already in memory (tests, small files, freshly written output). */
export function bytesSource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(this, offset, length);
      return bytes.slice(offset, offset + length);
    },
  };
}
