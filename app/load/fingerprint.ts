// A checkpoint's fingerprint, to recognise the same model added twice. Fine-tunes of one base
// share their header and size byte for byte, so those alone cannot tell two files apart: the
// fingerprint also hashes the bytes at the start (the header), the middle and the end of the
// file, where any two fine-tunes differ. A whole model is never read for it: three slices at most.

/** Bytes hashed from each of the three places; a file up to three times this is hashed whole. */
const SLICE = 64 * 1024;

export interface FingerprintedFile {
  readonly path: string;
  readonly file: Blob;
}

const hex = (buffer: ArrayBuffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** "size:sha256" of the sampled bytes of the primary file, with every companion's size. */
export async function fingerprint(primary: Blob, companions: readonly Blob[] = []): Promise<string> {
  const size = primary.size;
  const parts =
    size <= 3 * SLICE
      ? [primary]
      : [
          primary.slice(0, SLICE),
          primary.slice(Math.floor(size / 2) - SLICE / 2, Math.floor(size / 2) + SLICE / 2),
          primary.slice(size - SLICE),
        ];
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [size, ...companions.map((c) => c.size), hex(digest)].join(':');
}
