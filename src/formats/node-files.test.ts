// Plan: files that change under the reader. A Node file source whose file shrinks, grows, is
// rewritten or goes away between opening and reading fails with a typed FormatError naming the
// path ('changed' / 'missing-file'), never a raw fs error and never a silent mix of old and new
// bytes; a checkpoint whose file changes mid-read fails the same way. The browser's Blob source is
// tested through Node's openAsBlob, which refuses a modified or deleted file as Chromium does.
// Also: small reads are served from 64 KiB blocks (few real reads), and the file sink gathers
// small writes without changing a byte.
import { openAsBlob } from 'node:fs';
import {
  appendFile,
  mkdtemp,
  readdir,
  readFile,
  rm,
  truncate,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink, fileSource } from './node-files';
import { openSafetensors, writeSafetensors } from './safetensors';
import { expectFormatError } from './safetensors/testing';
import { MemorySink } from './sink';
import { blobSource, READ_BLOCK_BYTES, withReadBlocks, type ByteSource } from './source';
import { readTensor } from './tensor';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'node-files-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function file(bytes: Uint8Array | number): Promise<string> {
  const path = join(dir, `f${n++}.bin`);
  await writeFile(path, typeof bytes === 'number' ? new Uint8Array(bytes).map((_, i) => i & 0xff) : bytes);
  return path;
}

async function checkpointFile(): Promise<{ path: string; bytes: Uint8Array }> {
  const sink = new MemorySink();
  await writeSafetensors(sink, [
    { name: 'a', dtype: 'F32', shape: [4], bytes: new Uint8Array(16).fill(1) },
    { name: 'b', dtype: 'F32', shape: [8192], bytes: new Uint8Array(32768).fill(2) },
  ]);
  const bytes = sink.bytes();
  return { path: await file(bytes), bytes };
}

describe('a Node file that changes while it is read', () => {
  it('shrinks: changed, naming the file', async () => {
    const path = await file(100_000);
    const source = await fileSource(path);
    expect((await source.read(0, 10)).byteLength).toBe(10);
    await truncate(path, 50_000);
    const e = await expectFormatError(source.read(60_000, 20_000), 'changed', path);
    expect(e.problem).toMatch(/size went from 100000 to 50000/);
    await source.close();
  });

  // Small ranges and large ones: both check, after reading, that the file is still the same.
  it.each([
    ['a small range', 4096],
    ['a large range', 300_000],
  ])('shrinks under readInto of %s: changed', async (_, length) => {
    const path = await file(400_000);
    const source = await fileSource(path);
    const into = new Uint8Array(length);
    await source.readInto?.(0, into);
    expect(into[1]).toBe(1);
    await truncate(path, 50_000);
    const e = await expectFormatError(
      (source.readInto as NonNullable<typeof source.readInto>)(60_000, into),
      'changed',
      path,
    );
    expect(e.problem).toMatch(/size went from 400000 to 50000/);
    await writeFile(path, new Uint8Array(400_000)); // same size again, later mtime: still changed
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    await expectFormatError(
      (source.readInto as NonNullable<typeof source.readInto>)(0, into),
      'changed',
      path,
    );
    await source.close();
  });

  it('grows: changed', async () => {
    const path = await file(100_000);
    const source = await fileSource(path);
    await appendFile(path, new Uint8Array(10));
    await expectFormatError(source.read(0, 20_000), 'changed', path);
    await source.close();
  });

  it('is rewritten with the same size: changed', async () => {
    const path = await file(100_000);
    const source = await fileSource(path);
    expect((await source.read(0, 20_000)).byteLength).toBe(20_000);
    await writeFile(path, new Uint8Array(100_000));
    await utimes(path, new Date(), new Date(Date.now() + 5000)); // a later mtime, whatever the clock's grain
    await expectFormatError(source.read(20_000, 20_000), 'changed', path);
    await source.close();
  });

  it('disappears before its first read: missing-file', async () => {
    const path = await file(1000);
    const source = await fileSource(path);
    await unlink(path);
    const e = await expectFormatError(source.read(0, 10), 'missing-file', path);
    expect(e.problem).toMatch(/removed/);
  });

  it('disappears after the handle was opened: the open handle keeps reading the same bytes', async () => {
    const path = await file(100_000);
    const source = await fileSource(path);
    const first = await source.read(0, 20_000);
    await unlink(path);
    expect(await source.read(0, 20_000)).toEqual(first);
    await source.close();
  });

  it('reads that start together share one handle, and close leaves no descriptor open', async () => {
    const fds = async () => (await readdir('/proc/self/fd').catch(() => [])).length;
    const path = await file(200_000);
    const before = await fds();
    const source = await fileSource(path);
    await Promise.all(Array.from({ length: 8 }, (_, i) => source.read(i * 20_000, 20_000)));
    await source.close();
    expect(await fds()).toBe(before);
  });

  it('does not exist at all: missing-file', async () => {
    await expectFormatError(
      fileSource(join(dir, 'nope.safetensors')),
      'missing-file',
      join(dir, 'nope.safetensors'),
    );
  });

  it('a checkpoint whose file is cut short after its header was read fails on the tensor read', async () => {
    const { path, bytes } = await checkpointFile();
    const source = await fileSource(path);
    const checkpoint = await openSafetensors(source);
    await truncate(path, bytes.byteLength - 100);
    const b = checkpoint.tensors.get('b' as never);
    await expectFormatError(readTensor(b as NonNullable<typeof b>), 'changed', path);
    await source.close();
  });
});

describe('a browser File that changes after it was picked (Blob source)', () => {
  it('modified: changed, naming the file', async () => {
    const { path } = await checkpointFile();
    const source = blobSource(await openAsBlob(path), 'model.safetensors');
    const checkpoint = await openSafetensors(source);
    await new Promise((r) => setTimeout(r, 20));
    await appendFile(path, new Uint8Array(1));
    const b = checkpoint.tensors.get('b' as never);
    const e = await expectFormatError(readTensor(b as NonNullable<typeof b>), 'changed', 'model.safetensors');
    expect(e.problem).toMatch(/add it again/);
  });

  it('deleted: changed', async () => {
    const { path } = await checkpointFile();
    const source = blobSource(await openAsBlob(path), 'model.safetensors');
    await unlink(path);
    await expectFormatError(openSafetensors(source), 'changed', 'model.safetensors');
  });
});

describe('read blocks', () => {
  function counting(size: number): ByteSource & { reads: number[][] } {
    const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
    const reads: number[][] = [];
    return {
      name: 'counted',
      size,
      reads,
      async read(offset, length) {
        reads.push([offset, length]);
        return bytes.slice(offset, offset + length);
      },
    };
  }

  it('serve many small reads from few real ones, with the right bytes', async () => {
    const inner = counting(1 << 18);
    const source = withReadBlocks(inner);
    for (let at = 0; at + 16 <= 1 << 18; at += 16) {
      const got = await source.read(at, 16);
      expect(got[0]).toBe(at & 0xff);
    }
    expect(inner.reads.length).toBe((1 << 18) / READ_BLOCK_BYTES);
  });

  it('pass large reads through unchanged, and never read past the end', async () => {
    const inner = counting(100_000);
    const source = withReadBlocks(inner);
    await source.read(0, 50_000);
    await source.read(99_990, 10);
    expect(inner.reads).toEqual([
      [0, 50_000],
      [99_990, 10],
    ]);
    await expectFormatError(source.read(99_995, 10), 'truncated', 'counted');
  });

  it('do not keep a failed block', async () => {
    let fail = true;
    const source = withReadBlocks({
      name: 'flaky',
      size: 1000,
      read: async (offset, length) => {
        if (fail) throw new Error('EIO');
        return new Uint8Array(length).fill(offset);
      },
    });
    await expect(source.read(0, 10)).rejects.toThrow('EIO');
    fail = false;
    expect((await source.read(0, 10)).byteLength).toBe(10);
  });
});

it('the file sink gathers small writes into the same bytes', async () => {
  const path = join(dir, 'sink.bin');
  const sink = await fileSink(path);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) parts.push(new Uint8Array(i % 7 === 0 ? 3 : 700).fill(i & 0xff));
  parts.splice(1500, 0, new Uint8Array(3 << 20).fill(9));
  for (const p of parts) await sink.write(p);
  await sink.close();
  const expected = Buffer.concat(parts);
  expect((await readFile(path)).equals(expected)).toBe(true);
});
