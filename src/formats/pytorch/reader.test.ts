// Plan: files torch 1.13 wrote (tools/fixtures/make_torch_fixtures.py) open to exactly the
// tensors __fixtures__/expected.json lists — names in state_dict() order, dtypes, shapes and the
// sha256 of the bytes read by range — for the zip and legacy formats, the tar of torch < 0.4 (a
// state dict, a whole module whose Parameters are pickled as 0.3 did, a storage view), a whole pickled module, a
// Lightning-like .ckpt, tied weights (two tensors over one storage), every readable dtype, a view
// at a storage offset, a zip64 archive (every zip64 record and extra field), and a sharded
// pytorch_model.bin.index.json. Each file's safetensors twin has
// the same bytes. Reads are by range: opening reads the pickle and directory only, and a tensor read
// by halves gives the same bytes. A non-contiguous tensor is refused by name.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFormatError } from '../errors';
import { fileSource } from '../node-files';
import { openCheckpoint, sniffCheckpoint } from '../open';
import { bytesSource } from '../source';
import { readTensor, type Checkpoint } from '../tensor';
import { strictSource } from '../testing';
import { matchPytorch, openPytorch } from './reader';

interface Expected {
  tensors: { name: string; dtype: string; shape: number[]; sha256: string }[];
}
const FIXTURES = new URL('./__fixtures__/', import.meta.url).pathname;
const expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  Expected
>;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function open(rel: string): Promise<Checkpoint> {
  const path = join(FIXTURES, rel);
  const dir = dirname(path);
  // the fixtures' regular files beside it (not the hostile/ and merge/ folders), as the CLI offers them
  const entries = await readdir(dir, { withFileTypes: true });
  const companions = await Promise.all(
    entries.filter((e) => e.isFile() && join(dir, e.name) !== path).map((e) => fileSource(join(dir, e.name))),
  );
  return openCheckpoint(await fileSource(path), companions);
}

async function expectMatches(checkpoint: Checkpoint, want: Expected): Promise<void> {
  expect([...checkpoint.tensors.keys()]).toEqual(want.tensors.map((t) => t.name));
  for (const t of want.tensors) {
    const entry = checkpoint.tensors.get(t.name as never)!;
    expect({ name: t.name, dtype: entry.dtype, shape: entry.shape }).toEqual({
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
    });
    const bytes = await readTensor(entry);
    expect(sha256(bytes), t.name).toBe(t.sha256);
    const half = Math.floor(entry.byteLength / 2);
    const parts = new Uint8Array(entry.byteLength);
    parts.set(await entry.data.read(0, half));
    parts.set(await entry.data.read(half, entry.byteLength), half);
    expect(sha256(parts)).toBe(t.sha256);
  }
}

describe('PyTorch fixtures equal expected.json', () => {
  for (const rel of Object.keys(expected)) {
    it(rel, async () => {
      const checkpoint = await open(rel);
      expect(checkpoint.format).toBe('pytorch');
      await expectMatches(checkpoint, expected[rel]!);
    });
  }

  it('each safetensors twin holds the same tensors, byte for byte', async () => {
    const twins = Object.keys(expected).filter(
      (r) => /\.(bin|pt)$/.test(r) && !/legacy|module|zip64|tar/.test(r),
    );
    expect(twins.length).toBeGreaterThanOrEqual(5);
    for (const rel of twins) {
      const twin = await open(rel.replace(/\.(bin|pt)$/, '.safetensors'));
      expect(twin.format).toBe('safetensors');
      await expectMatches(twin, expected[rel]!);
    }
  });
});

describe('reading by range', () => {
  it('opening reads the directory and the pickle, not the tensors', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'bert.bin')));
    const source = strictSource(bytes, 'bert.bin');
    const checkpoint = await openPytorch(source);
    const tensorBytes = [...checkpoint.tensors.values()].reduce((a, t) => a + t.byteLength, 0);
    expect(source.bytesRead).toBeLessThan(bytes.byteLength - tensorBytes / 2);
  });

  it('the legacy format walks the storage counts, 8 bytes each', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'bert_legacy.bin')));
    const source = strictSource(bytes, 'bert_legacy.bin');
    const checkpoint = await openPytorch(source);
    expect(checkpoint.metadata.get('pytorch_layout')).toBe('legacy pickle');
    // the sniff (16 bytes), the prefix (the whole small file here), then one 8-byte read per storage
    expect(source.bytesRead).toBe(16 + bytes.byteLength + 8 * checkpoint.tensors.size);
  });

  it('the tar of torch < 0.4 is recognised by its first block and read by range', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'bert_tar.pt')));
    expect(matchPytorch(bytes.subarray(0, 16))).toBe(false);
    expect(matchPytorch(bytes.subarray(0, 512))).toBe(true);
    expect(await sniffCheckpoint(bytesSource(bytes, 'model'))).toBe('pytorch');
    const source = strictSource(bytes, 'bert_tar.pt');
    const checkpoint = await openPytorch(source);
    expect(checkpoint.metadata.get('pytorch_layout')).toBe('legacy tar');
    const tensorBytes = [...checkpoint.tensors.values()].reduce((a, t) => a + t.byteLength, 0);
    // headers, the small members and a window per storage record: not the storages' bytes
    expect(source.bytesRead).toBeLessThan(bytes.byteLength - tensorBytes / 2);
  });

  it('tied weights are two tensors over one storage range', async () => {
    const checkpoint = await open('tied.bin');
    const a = await readTensor(checkpoint.tensors.get('embed.weight' as never)!);
    const b = await readTensor(checkpoint.tensors.get('lm_head.weight' as never)!);
    expect(b).toEqual(a);
  });

  it('sniffs by first bytes, whatever the name', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'bert.bin')));
    expect(matchPytorch(bytes.subarray(0, 16))).toBe(true);
    expect(await sniffCheckpoint(bytesSource(bytes, 'weights.data'))).toBe('pytorch');
    const legacy = new Uint8Array(await readFile(join(FIXTURES, 'bert_legacy.bin')));
    expect(await sniffCheckpoint(bytesSource(legacy, 'model'))).toBe('pytorch');
    const checkpoint = await openCheckpoint(bytesSource(legacy, 'model'));
    expect(checkpoint.tensors.size).toBe(expected['bert_legacy.bin']!.tensors.length);
  });

  it('a non-contiguous tensor is refused by name', async () => {
    const err = await open('noncontiguous.pt').catch((e: unknown) => e);
    expect(isFormatError(err, 'unsupported')).toBe(true);
    expect(String(err)).toMatch(/noncontiguous\.pt: tensor "transposed": it is not contiguous/);
  });

  it('a sharded index names its PyTorch shards and files', async () => {
    const checkpoint = await open('sharded/pytorch_model.bin.index.json');
    expect(checkpoint.files.map((f) => f.split('/').pop())).toEqual([
      'pytorch_model.bin.index.json',
      'pytorch_model-00001-of-00002.bin',
      'pytorch_model-00002-of-00002.bin',
    ]);
  });
});
