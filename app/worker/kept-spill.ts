// A kept result past the memory budget, written to a scratch file in the origin-private file system
// as its own artefact (src/flow/result-artefact.ts: EMR's bundle, a per-task artefact, or the merged
// f32 values) and read back from there by the same readers that open bundles. The file is held by
// a synchronous access handle (./scratch.ts), so another tab's start-up clean-up leaves it alone;
// it is deleted when its result goes, and a file a closed tab left is deleted at the next start.
import { openSafetensors } from '../../src/formats/safetensors';
import type { ByteSink } from '../../src/formats/sink';
import { checkRange, type ByteSource } from '../../src/formats/source';
import type { ScratchFile } from '../../src/merge/emr-values';
import type { AnyMergeResult } from '../../src/merge/merge';
import { spilledResult, writeResultArtefact } from '../../src/flow/result-artefact';
import { opfsScratch, type ScratchUse } from './scratch';

export interface KeptArtefact {
  /** The result as it was when written, read back into memory. */
  read(): Promise<AnyMergeResult>;
  /** Deletes the file (the result it holds is gone). */
  remove(): Promise<void>;
}

export const KEPT_SCRATCH: ScratchUse = {
  prefix: 'kept',
  holds: 'keeping this result on disk needs {size} of scratch space',
};

/** The artefact's size, by its own writer into a sink that only counts. */
const artefactBytes = (result: AnyMergeResult) =>
  writeResultArtefact(result, { name: 'size', write: async () => {}, close: async () => {} });

/**
 * Writes `result`'s artefact to a new scratch file; the caller then lets the result go. A failure
 * (no room: the quota, a short write) removes the file and is thrown, so the caller can drop the
 * result instead.
 */
export async function writeKept(
  result: AnyMergeResult,
  open: (bytes: number, use: ScratchUse) => Promise<ScratchFile> = opfsScratch,
): Promise<KeptArtefact> {
  const size = await artefactBytes(result);
  const file = await open(size, KEPT_SCRATCH);
  try {
    let at = 0;
    const sink: ByteSink = {
      name: file.name,
      async write(bytes) {
        await file.write(at, bytes);
        at += bytes.byteLength;
      },
      close: async () => {},
    };
    await writeResultArtefact(result, sink);
  } catch (e) {
    await file.remove();
    throw e;
  }
  const back = spilledResult(result);
  const source: ByteSource = {
    name: file.name,
    size,
    async read(offset, length) {
      checkRange(source, offset, length);
      return (await file.read(offset, length)) as Uint8Array<ArrayBuffer>;
    },
  };
  return {
    read: async () => back.reopen(await openSafetensors(source)),
    remove: () => file.remove(),
  };
}
