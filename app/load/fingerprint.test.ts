// Plan: the fingerprint tells a copy from a fine-tune of the same base — same bytes give the same
// print, one changed weight byte in the sampled middle or end (past the header) gives another,
// and a companion's size counts; a large file is sampled, not read whole.
import { describe, expect, it } from 'vitest';
import { fingerprint } from './fingerprint';

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('fingerprint', () => {
  it('is equal for the same bytes and differs for a fine-tune with the same header and size', async () => {
    const a = bytes(100_000);
    const b = a.slice();
    b[99_000] = (b[99_000] ?? 0) ^ 1; // a weight near the end
    expect(await fingerprint(new Blob([a]))).toBe(await fingerprint(new Blob([a.slice()])));
    expect(await fingerprint(new Blob([a]))).not.toBe(await fingerprint(new Blob([b])));
  });

  it('samples the start, middle and end of a large file, and counts companions', async () => {
    const big = bytes(1_000_000);
    const middle = big.slice();
    middle[500_000] = (middle[500_000] ?? 0) ^ 1;
    const unsampled = big.slice();
    unsampled[200_000] = (unsampled[200_000] ?? 0) ^ 1; // between the sampled slices
    const print = await fingerprint(new Blob([big]));
    expect(await fingerprint(new Blob([middle]))).not.toBe(print);
    expect(await fingerprint(new Blob([unsampled]))).toBe(print);
    expect(await fingerprint(new Blob([big]), [new Blob([bytes(10)])])).not.toBe(print);
  });

  it('tells apart two sharded fine-tunes with the same index and shard sizes by their shards', async () => {
    const index = new Blob(['{"weight_map":{"a":"model-00001-of-00001.safetensors"}}']);
    const shard = bytes(300_000);
    const tuned = shard.slice();
    tuned[299_999] = (tuned[299_999] ?? 0) ^ 1;
    const a = await fingerprint(index, [new Blob([shard])]);
    expect(await fingerprint(index, [new Blob([shard.slice()])])).toBe(a);
    expect(await fingerprint(index, [new Blob([tuned])])).not.toBe(a);
  });
});
