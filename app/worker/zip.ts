// A zip written entry by entry into a ByteSink with fflate, stored (not deflated: weights hardly
// compress, and storing keeps the export as fast as the writers). Each entry is itself a ByteSink,
// so the safetensors / ONNX / bundle writers stream straight into the archive.
import { Zip, ZipPassThrough } from 'fflate';
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
    const entry = new ZipPassThrough(filename);
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
