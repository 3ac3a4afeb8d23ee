// The CLI's scratch file for EMR values spilled out of memory: a hidden file in the output folder
// (same disk as the result, and removed with the run — on success, failure or Ctrl-C).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScratchFile } from '../merge/emr-values';

export class ScratchSpaceError extends Error {
  override readonly name = 'ScratchSpaceError';
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

export async function scratchFile(dir: string, bytes: number): Promise<ScratchFile> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (bytes > free)
    throw new ScratchSpaceError(
      `${dir}: the merge needs ${gib(bytes)} of scratch space there for τ_uni and the masks (they do not fit the memory limit, --spill-over), and the disk has ${gib(free)} free`,
    );
  // An unguessable name, created exclusively and never through a link: a file or link planted in
  // the output folder cannot receive the values or be truncated by them.
  const path = join(dir, `.emr-values-${process.pid}-${randomBytes(6).toString('hex')}.scratch`);
  const handle = await open(
    path,
    constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  let open_ = true;
  return {
    name: path,
    async write(offset, data) {
      let done = 0;
      while (done < data.byteLength) {
        const { bytesWritten } = await handle.write(data, done, data.byteLength - done, offset + done);
        if (bytesWritten === 0) throw new ScratchSpaceError(`${path}: the disk took no more bytes (full?)`);
        done += bytesWritten;
      }
    },
    async read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0)
          throw new ScratchSpaceError(`${path}: ended at ${offset + done}, before ${offset + length}`);
        done += bytesRead;
      }
      return out;
    },
    async remove() {
      if (!open_) return;
      open_ = false;
      await handle.close().catch(() => {});
      await rm(path, { force: true });
    },
  };
}
