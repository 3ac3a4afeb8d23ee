// A zip written entry by entry into a ByteSink with fflate, each entry deflated: the bytes of every
// file are the writers' own (unzipped, each equals its single export), only the container
// compresses. Level 1: float weights shrink by a few per cent at any level, masks and zero-filled
// tensors a lot at every level, and the lowest one costs the least time. Each entry is itself a
// ByteSink, so the safetensors / ONNX / bundle writers stream straight into the archive.
import { Zip, ZipDeflate } from 'fflate';
import type { ByteSink } from '../../src/formats/sink';

export interface ZipWriter {
  /** A sink for one entry; the entry ends when the sink is closed. One entry at a time. */
  file(filename: string): ByteSink;
  /** Writes one entry through `write`, which gets a sink for the entry's bytes. */
  entry(filename: string, write: (sink: ByteSink) => Promise<unknown>): Promise<void>;
  /** Writes the central directory and closes the outer sink. */
  close(): Promise<void>;
}

export function zipWriter(out: ByteSink): ZipWriter {
  // fflate hands out bytes synchronously; we chain the outer writes and wait for them to drain
  // after every push, so at most one piece is in flight.
  let pending: Promise<void> = Promise.resolve();
  let failure: unknown;
  let ended: () => void = () => {};
  const done = new Promise<void>((resolve) => (ended = resolve));
  const zip = new Zip((err, chunk, final) => {
    if (err) failure = err;
    pending = pending.then(() => out.write(chunk));
    if (final) void pending.then(ended, ended);
  });
  const drain = async () => {
    await pending;
    if (failure) throw failure;
  };
  const file = (filename: string): ByteSink => {
    const entry = new ZipDeflate(filename, { level: 1 });
    zip.add(entry);
    return {
      name: filename,
      async write(bytes) {
        entry.push(bytes);
        await drain();
      },
      async close() {
        entry.push(new Uint8Array(0), true);
        await drain();
      },
    };
  };
  return {
    file,
    async entry(filename, write) {
      await write(file(filename));
    },
    async close() {
      zip.end();
      await done;
      await drain();
      await out.close();
    },
  };
}
