// Byte sources: where a file's bytes come from, read on demand by range. Readers never load a
// whole file; they ask for the header, then for each tensor's range when it is needed.
import { FormatError } from './errors';

export interface ByteSource {
  /** The file's name as the user gave it (a path in Node, File.name in the browser). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /**
   * Bytes [offset, offset + length). Reading past the end is a 'truncated' FormatError; a file
   * that changed or went away since it was opened is a 'changed' or 'missing-file' one.
   */
  read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Bytes [offset, offset + target.byteLength) straight into `target` (the merge engine's own
   * memory), where the source can do it without a copy; same errors as `read`.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
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

/** Reads shorter than this go through a block (a model of 100 000 tiny tensors is 100 000 reads). */
export const SMALL_READ_BYTES = 16 * 1024;
/** The block a small read pulls in: the bytes from its offset on, as far as this. */
export const READ_BLOCK_BYTES = 64 * 1024;

/**
 * Wraps a source's `read` so that small reads are served from the last block read: one real read
 * (a syscall, or a Blob slice that crosses into the browser's file thread) per 64 KiB of small
 * tensors, not one per tensor. Large reads pass straight through, so at most one block per small
 * read is read twice, never bulk data. Reads already in flight for the same block share it. The
 * block holds the bytes as they were when it was read (consistent, even if the file changes).
 */
export function withReadBlocks(source: ByteSource): ByteSource {
  let block: { start: number; end: number; bytes: Promise<Uint8Array<ArrayBuffer>> } | undefined;
  const into = source.readInto?.bind(source);
  return {
    name: source.name,
    size: source.size,
    // Straight through: the scheduler reads whole chunks this way, never small pieces.
    ...(into ? { readInto: into } : {}),
    async read(offset, length) {
      checkRange(source, offset, length);
      if (length >= SMALL_READ_BYTES) return source.read(offset, length);
      if (block === undefined || offset < block.start || offset + length > block.end) {
        const end = Math.min(source.size, offset + READ_BLOCK_BYTES);
        const bytes = source.read(offset, end - offset);
        block = { start: offset, end, bytes };
        // A failed block must not answer later reads: the next one tries again.
        bytes.catch(() => {
          if (block?.bytes === bytes) block = undefined;
        });
      }
      const { start, bytes } = block;
      return (await bytes).slice(offset - start, offset - start + length);
    },
  };
}

/**
 * A browser File or Blob; `slice` reads just the range. Not wrapped in read blocks yet: the
 * e2e Cancel test (e2e/cancel.spec.ts) needs a tiny-budget merge of the demo to be slow, and it is
 * slow only because of one Blob read per 32-element chunk. `withReadBlocks(blobSource(file))`
 * gives the studio the same speed-up as the CLI once that test no longer depends on it.
 */
export function blobSource(blob: Blob, name = (blob as Partial<File>).name ?? 'blob'): ByteSource {
  const raw: ByteSource = {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(this, offset, length);
      let buffer: ArrayBuffer;
      try {
        buffer = await blob.slice(offset, offset + length).arrayBuffer();
      } catch (e) {
        // Chromium (NotReadableError) and Node's openAsBlob refuse a File whose file on disk was
        // modified, moved or deleted after it was picked.
        throw new FormatError(
          'changed',
          name,
          'the file changed or was removed on disk after it was added: add it again',
          { cause: e },
        );
      }
      if (buffer.byteLength !== length) {
        throw new FormatError(
          'changed',
          name,
          `file changed while reading: got ${buffer.byteLength} of ${length} bytes at ${offset}`,
        );
      }
      return new Uint8Array(buffer);
    },
  };
  return raw;
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
