// A checkpoint's fingerprint, to recognise the same model added twice. Fine-tunes of one base
// share their header and size byte for byte, so those alone cannot tell two files apart: the
// fingerprint also hashes the bytes at the start (the header), the middle and the end of each of
// its files, where any two fine-tunes differ. A whole model is never read for it: three slices a
// file at most.

/** Bytes hashed from each of the three places; a file up to three times this is hashed whole. */
const SLICE = 64 * 1024;

const hex = (buffer: ArrayBuffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Up to three slices of a file: its start (the header), middle and end; a small file whole. */
function samples(file: Blob): Blob[] {
  const size = file.size;
  if (size <= 3 * SLICE) return [file];
  const middle = Math.floor(size / 2) - SLICE / 2;
  return [file.slice(0, SLICE), file.slice(middle, middle + SLICE), file.slice(size - SLICE)];
}

/**
 * "sizes:sha256" of the sampled bytes of every file of a group. The companions are sampled too:
 * two fine-tunes sharded alike have the same index.json and shard sizes, and differ only inside
 * the shards (an ONNX model's external data likewise).
 */
export async function fingerprint(primary: Blob, companions: readonly Blob[] = []): Promise<string> {
  const files = [primary, ...companions];
  const bytes = new Uint8Array(await new Blob(files.flatMap(samples)).arrayBuffer());
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...files.map((f) => f.size), hex(digest)].join(':');
}
