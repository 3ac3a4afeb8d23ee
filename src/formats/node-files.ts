// Node files: a byte source read by range through a file handle, and a sink that appends to a file.
// Kept apart from source.ts so the browser bundle never sees node:fs.
import { Buffer } from 'node:buffer';
import { constants, fstatSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { FormatError } from './errors';
import type { ByteSink } from './sink';
import { checkRange, withReadBlocks, type ByteSource } from './source';

export interface FileSource extends ByteSource {
  close(): Promise<void>;
}

/** What identifies the file's contents as it was opened: a different one means it was rewritten. */
const fingerprint = (s: Stats): string => `${s.size}:${s.mtimeMs}:${s.ino}`;

function describeChange(before: Stats, now: Stats): string {
  if (now.size !== before.size) return `its size went from ${before.size} to ${now.size} bytes`;
  if (now.ino !== before.ino) return 'it was replaced by another file';
  return 'it was modified';
}

/** What a path that is not a regular file is, for the message that refuses it. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function notRegular(path: string, s: Stats): FormatError {
  return new FormatError(
    'unsupported',
    path,
    `${kindOf(s)}, not a regular file: only regular files are read (a pipe or a device could block forever)`,
  );
}

/**
 * Opens `path` for reading without ever blocking: O_NONBLOCK makes open() of a FIFO return at once
 * (a plain open waits for a writer, forever, where Ctrl-C cannot reach it), and the handle's own
 * fstat then refuses anything but a regular file — the file opened, not the one stat saw before.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const s = await handle.stat();
    if (!s.isFile()) throw notRegular(path, s);
  } catch (e) {
    await handle.close();
    throw e;
  }
  return handle;
}

/** A small text file (a config, a YAML job, a tokenizer), read only when it is a regular file. */
export async function readRegularText(path: string): Promise<string> {
  const handle = await openRegularFile(path);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export async function fileSource(path: string): Promise<FileSource> {
  let opened: Stats;
  try {
    opened = await stat(path);
  } catch (e) {
    throw new FormatError('missing-file', path, 'file not found or not readable', { cause: e });
  }
  if (!opened.isFile()) throw notRegular(path, opened);
  const expected = fingerprint(opened);
  // Opened on first read: a directory's worth of companions costs a stat each until used. The
  // promise is kept, so reads that start together share one handle.
  let handle: Promise<FileHandle> | undefined;
  const getHandle = (): Promise<FileHandle> => {
    handle ??= openRegularFile(path).catch((e: unknown) => {
      handle = undefined;
      if (e instanceof FormatError) throw e;
      throw new FormatError(
        'missing-file',
        path,
        'the file was removed or became unreadable since it was opened',
        { cause: e },
      );
    });
    return handle;
  };
  // Each read then checks that the file is still the one that was opened: a file rewritten
  // mid-merge must not feed a mix of old and new bytes into the result. An fstat on the open
  // descriptor, synchronous: it reads no data (microseconds), where an asynchronous one was a
  // thread-pool round trip per read — half of a merge's file operations (docs/benchmarks.md).
  const checkUnchanged = (h: FileHandle): void => {
    const now = fstatSync(h.fd);
    if (fingerprint(now) !== expected) {
      throw new FormatError(
        'changed',
        path,
        `the file changed while it was being read: ${describeChange(opened, now)}`,
      );
    }
  };
  /** Fills `out` with the bytes at `offset`, then checks that the file did not change. */
  const fill = async (offset: number, out: Uint8Array): Promise<void> => {
    checkRange(raw, offset, out.byteLength);
    const h = await getHandle();
    const length = out.byteLength;
    const reading = (async () => {
      let done = 0;
      while (done < length) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await h.read(out, done, length - done, offset + done));
        } catch (e) {
          throw new FormatError('changed', path, `reading ${length} bytes at ${offset} failed`, {
            cause: e,
          });
        }
        if (bytesRead === 0) {
          throw new FormatError(
            'changed',
            path,
            `the file shrank while it was being read: got ${done} of ${length} bytes at ${offset}`,
          );
        }
        done += bytesRead;
      }
    })();
    let failed: { error: unknown } | undefined;
    await reading.catch((error: unknown) => (failed = { error }));
    checkUnchanged(h); // the change is the better explanation of a short or failed read
    if (failed) throw failed.error;
  };
  const raw: ByteSource = {
    name: path,
    size: opened.size,
    async read(offset, length) {
      checkRange(raw, offset, length);
      // Not zero-filled: every byte is read into it, or the read throws and it is dropped. A zeroed
      // array is fresh pages each time (a page fault per 4 KiB before the read touches them again),
      // which cost the streaming merge about a third of its time.
      const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
      await fill(offset, out);
      return out;
    },
    readInto: fill,
  };
  const blocks = withReadBlocks(raw);
  return {
    name: path,
    size: opened.size,
    read: (offset, length) => blocks.read(offset, length),
    readInto: fill,
    async close() {
      const h = handle;
      handle = undefined;
      await (await h?.catch(() => undefined))?.close();
    },
  };
}

/** Writes smaller than this are gathered into one buffer (100 000 tiny tensors, not 100 000 syscalls). */
const SINK_BUFFER_BYTES = 1 << 20;

/**
 * A file written from the start, appended to in order (the CLI's writers). `exclusive`: the file
 * must not exist yet — not even as a link, which is never followed (O_CREAT|O_EXCL|O_NOFOLLOW), so
 * a link planted at the name cannot send the bytes elsewhere.
 */
export async function fileSink(path: string, { exclusive = false } = {}): Promise<ByteSink> {
  const flags = exclusive
    ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
    : 'w';
  const handle = await open(path, flags, 0o644);
  const buffer = new Uint8Array(SINK_BUFFER_BYTES);
  let buffered = 0;
  const writeAll = async (bytes: Uint8Array): Promise<void> => {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
      done += bytesWritten;
    }
  };
  const flush = async (): Promise<void> => {
    if (buffered === 0) return;
    const n = buffered;
    buffered = 0;
    await writeAll(buffer.subarray(0, n));
  };
  return {
    name: path,
    async write(bytes) {
      if (buffered + bytes.byteLength > SINK_BUFFER_BYTES) await flush();
      if (bytes.byteLength >= SINK_BUFFER_BYTES) return writeAll(bytes);
      buffer.set(bytes, buffered);
      buffered += bytes.byteLength;
    },
    async close() {
      try {
        await flush();
      } finally {
        await handle.close();
      }
    },
  };
}
