// Opens a torch.save checkpoint (pytorch_model.bin, .pt, .pth, .ckpt) without executing it: the
// zip format (torch ≥ 1.6), the legacy one (a run of pickles, then the raw storages) or the tar of
// torch < 0.4 (tar.ts). Only the
// pickle is read whole; each tensor's bytes are read by range from its storage when asked for.
import { dtypeBytes, type DType } from '../dtype';
import { FormatError } from '../errors';
import type { ByteSource } from '../source';
import {
  sourceRangeData,
  tensorName,
  type Checkpoint,
  type TensorData,
  type TensorEntry,
  type TensorName,
} from '../tensor';
import { LEGACY_MAGIC_PREFIX, readLegacy } from './legacy';
import { collectTensors, type NamedTensor } from './state-dict';
import { matchTar, readTar } from './tar';
import { storageLoader, type StorageBytes } from './storages';
import { unpickle } from './unpickler';
import { entryDataOffset, matchZip, readStoredEntry, readZipDirectory, type ZipEntry } from './zip';

/** data.pkl of a whole pickled model is kilobytes to megabytes; past this it is not torch's. */
export const MAX_PICKLE_BYTES = 256 << 20;

/**
 * Is this a torch.save file, judging by its first bytes (16 or more)? A zip, or the legacy magic;
 * given a tar's first block (512 bytes), also the tar of torch < 0.4.
 */
export function matchPytorch(first: Uint8Array): boolean {
  return matchZip(first) || LEGACY_MAGIC_PREFIX.every((b, i) => first[i] === b) || matchTar(first);
}

export async function openPytorch(source: ByteSource): Promise<Checkpoint> {
  const first = await source.read(0, Math.min(16, source.size));
  if (matchZip(first)) return openZip(source);
  if (LEGACY_MAGIC_PREFIX.every((b, i) => first[i] === b)) {
    const { named, storageStart } = await readLegacy(source, MAX_PICKLE_BYTES);
    return checkpoint(source, named, storageStart, 'legacy pickle');
  }
  if (matchTar(await source.read(0, Math.min(512, source.size)))) {
    const { named, storageStart } = await readTar(source, MAX_PICKLE_BYTES);
    return checkpoint(source, named, storageStart, 'legacy tar');
  }
  throw new FormatError(
    'unsupported',
    source.name,
    'not a torch.save file (neither a zip, nor the legacy pickle, nor the tar of torch < 0.4)',
  );
}

async function openZip(source: ByteSource): Promise<Checkpoint> {
  const file = source.name;
  const entries = await readZipDirectory(source);
  const pickles = [...entries.values()].filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  const [pkl] = pickles;
  if (pkl === undefined)
    throw new FormatError(
      'unsupported',
      file,
      'a zip archive, but not a PyTorch checkpoint (no <archive>/data.pkl)',
    );
  if (pickles.length > 1)
    throw new FormatError(
      'unsupported',
      file,
      `a zip archive with ${pickles.length} data.pkl files: not one PyTorch checkpoint`,
    );
  const archive = pkl.name.slice(0, -'/data.pkl'.length);
  const byteorder = entries.get(`${archive}/byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(await readStoredEntry(source, byteorder, 16));
    if (order !== 'little')
      throw new FormatError(
        'unsupported',
        file,
        `the checkpoint was saved ${JSON.stringify(order)}-endian; only little-endian is read`,
      );
  }
  const loader = storageLoader(file, source.size);
  const { value } = unpickle(await readStoredEntry(source, pkl, MAX_PICKLE_BYTES), 0, {
    file,
    what: `${archive}/data.pkl`,
    persistentLoad: loader.load,
  });
  const named = collectTensors(value, file, `${archive}/data.pkl`);
  const offsets = new Map<string, Promise<number>>();
  const storageStart: StorageBytes = (storage, tensor) => {
    const entry = entries.get(`${archive}/data/${storage.key}`);
    const fail = (problem: string, code: 'unsupported' | 'size-mismatch' | 'out-of-bounds') =>
      new FormatError(code, file, `tensor ${JSON.stringify(tensor)}: ${problem}`);
    if (entry === undefined)
      throw fail(`its storage ${archive}/data/${storage.key} is not in the archive`, 'out-of-bounds');
    if (entry.method !== 0 || entry.compressedSize !== entry.size)
      throw fail(
        `its storage ${entry.name} is compressed (zip method ${entry.method}); torch stores storages uncompressed — re-save it with torch.save`,
        'unsupported',
      );
    if (entry.size < storage.numel * storage.elementBytes)
      throw fail(
        `its storage ${entry.name} has ${entry.size} bytes, less than the ${storage.numel} elements it declares`,
        'size-mismatch',
      );
    return () => {
      let at = offsets.get(entry.name);
      if (!at) offsets.set(entry.name, (at = entryDataOffset(source, entry as ZipEntry)));
      return at;
    };
  };
  return checkpoint(source, named, storageStart, 'zip');
}

/** Checks each tensor against its storage (synchronously, so open refuses a bad one) and makes the entries. */
function checkpoint(
  source: ByteSource,
  named: readonly NamedTensor[],
  storageStart: StorageBytes,
  layout: string,
): Checkpoint {
  const file = source.name;
  const tensors = new Map<TensorName, TensorEntry>();
  const tied = new Map<TensorName, TensorName>();
  const views = new Map<string, TensorName>();
  for (const { name, tensor } of named) {
    const { storage, shape, stride, offset } = tensor;
    const fail = (problem: string, code: 'unsupported' | 'out-of-bounds' | 'bad-shape' = 'unsupported') =>
      new FormatError(code, file, `tensor ${JSON.stringify(name)}: ${problem}`);
    const dtype: DType | undefined = storage.dtype;
    if (dtype === undefined)
      throw fail(
        `its storage type ${storage.typeName} is not supported (complex and quantized tensors are not read)`,
      );
    let numel = 1;
    for (const d of shape) numel *= d;
    if (!Number.isSafeInteger(numel)) throw fail(`shape [${shape.join(', ')}] is too large`, 'bad-shape');
    if (numel > 0 && !isRowMajor(shape, stride))
      throw fail(
        `it is not contiguous (shape [${shape.join(', ')}], strides [${stride.join(', ')}]); save it after .contiguous()`,
      );
    if (numel > 0 && offset + numel > storage.numel)
      throw fail(
        `elements [${offset}, ${offset + numel}) run past its storage's ${storage.numel}`,
        'out-of-bounds',
      );
    // Resolved now for missing or compressed storages (a clear refusal at open), the offset later.
    const where = storageStart(storage, name);
    const view = `${JSON.stringify(storage.key)}/${offset}/${shape.join(',')}/${stride.join(',')}`;
    const first = views.get(view);
    if (first === undefined) views.set(view, tensorName(name));
    else tied.set(tensorName(name), first);
    const size = dtypeBytes(dtype);
    const byteLength = numel * size;
    const what = `tensor ${JSON.stringify(name)}`;
    tensors.set(tensorName(name), {
      name: tensorName(name),
      dtype,
      shape,
      byteLength,
      file,
      data: lazyRange(source, where, offset * size, byteLength, what),
    });
  }
  const metadata = new Map([['pytorch_layout', layout]]);
  return { format: 'pytorch', files: [file], tensors, metadata, ...(tied.size > 0 ? { tied } : {}) };
}

/** Row-major strides, ignoring dimensions of size 1 (torch gives those any stride). */
function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] as number;
    if (d !== 1 && stride[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/** sourceRangeData once the storage's start is known. */
function lazyRange(
  source: ByteSource,
  start: () => Promise<number>,
  offset: number,
  byteLength: number,
  what: string,
): TensorData {
  let data: Promise<TensorData> | undefined;
  const get = () => (data ??= start().then((s) => sourceRangeData(source, s + offset, byteLength, what)));
  const into = source.readInto;
  return {
    read: async (a, b) => (await get()).read(a, b),
    ...(into
      ? {
          readInto: async (a: number, b: number, target: Uint8Array) => {
            const d = await get();
            return d.readInto ? d.readInto(a, b, target) : target.set(await d.read(a, b));
          },
        }
      : {}),
  };
}
