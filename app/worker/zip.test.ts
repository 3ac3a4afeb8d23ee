// Plan: the export zip. Entries written in pieces through their sinks come back byte for byte
// (fflate's unzip), and each is stored deflated (method 8 in the central directory) and smaller
// than its bytes when they compress.
import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { MemorySink } from '../../src/formats/sink';
import { zipWriter } from './zip';

/** Per entry of the central directory: its name, compression method and compressed size. */
function centralDirectory(zip: Uint8Array): { name: string; method: number; compressed: number }[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const out = [];
  for (let i = 0; i < count; i++) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true);
    out.push({
      name: new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength)),
      method: view.getUint16(at + 10, true),
      compressed: view.getUint32(at + 20, true),
    });
    at += 46 + nameLength + extra + comment;
  }
  return out;
}

describe('zipWriter', () => {
  it('deflates each entry and gives every file back byte for byte', async () => {
    const zeros = new Uint8Array(60_000); // a zero-filled tensor: compresses to almost nothing
    const noise = Uint8Array.from({ length: 20_000 }, (_, i) => (Math.imul(i, 2654435761) >>> 13) & 255);
    const out = new MemorySink();
    const zip = zipWriter(out);
    await zip.entry('zeros.safetensors', async (sink) => {
      for (let at = 0; at < zeros.length; at += 25_000) await sink.write(zeros.subarray(at, at + 25_000));
      await sink.close();
    });
    await zip.entry('noise.safetensors', async (sink) => {
      await sink.write(noise);
      await sink.close();
    });
    await zip.close();
    const bytes = out.bytes();
    const entries = unzipSync(bytes);
    expect(Object.keys(entries)).toEqual(['zeros.safetensors', 'noise.safetensors']);
    expect(entries['zeros.safetensors']).toEqual(zeros);
    expect(entries['noise.safetensors']).toEqual(noise);
    const directory = centralDirectory(bytes);
    expect(directory.map((e) => [e.name, e.method])).toEqual([
      ['zeros.safetensors', 8],
      ['noise.safetensors', 8],
    ]);
    expect(directory[0]?.compressed).toBeLessThan(zeros.length / 50);
  }, 30_000); // a few ms alone; a loaded machine running every test file at once is slower
});
