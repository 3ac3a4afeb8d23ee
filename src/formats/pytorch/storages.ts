// torch's storage classes and their persistent ids: ('storage', storage_type, key, location, numel)
// in both the zip and the legacy format (the legacy one adds a view_metadata that is always None
// since torch 1.x's typed storages).
import type { DType } from '../dtype';
import { FormatError } from '../errors';
import { PyGlobal, PyStorage, PyTuple, type PyValue } from './values';

/** torch.<Name>Storage → [dtype, element bytes]; the ones we cannot read have no dtype (refused by tensor). */
const STORAGE_TYPES: Record<string, readonly [DType | undefined, number]> = {
  FloatStorage: ['F32', 4],
  HalfStorage: ['F16', 2],
  BFloat16Storage: ['BF16', 2],
  DoubleStorage: ['F64', 8],
  LongStorage: ['I64', 8],
  IntStorage: ['I32', 4],
  ShortStorage: ['I16', 2],
  CharStorage: ['I8', 1],
  ByteStorage: ['U8', 1],
  BoolStorage: ['BOOL', 1],
  UntypedStorage: ['U8', 1],
  ComplexFloatStorage: [undefined, 8],
  ComplexDoubleStorage: [undefined, 16],
  QInt8Storage: [undefined, 1],
  QUInt8Storage: [undefined, 1],
  QInt32Storage: [undefined, 4],
  QUInt4x2Storage: [undefined, 1],
  QUInt2x4Storage: [undefined, 1],
};

/** Where a storage's bytes start in the file, resolved on first read (the zip needs a local header read). */
export type StorageBytes = (storage: PyStorage, tensor: string) => () => Promise<number>;

/**
 * Parses a persistent id into a storage, once per key (tied weights reuse it). `fileBytes` caps the
 * declared size: a storage cannot hold more than the file does.
 */
export function storageLoader(
  file: string,
  fileBytes: number,
): { load(pid: PyValue): PyValue; storages: Map<string, PyStorage> } {
  const storages = new Map<string, PyStorage>();
  const fail = (problem: string, code: 'header-json' | 'unsupported' | 'out-of-bounds' = 'header-json') =>
    new FormatError(code, file, problem);
  const load = (pid: PyValue): PyValue => {
    // The legacy format also pickles a whole module's classes as ('module', class, file, source):
    // the class is kept as the inert global it already is; its source is never looked at.
    if (pid instanceof PyTuple && pid.items[0] === 'module' && pid.items[1] instanceof PyGlobal)
      return pid.items[1];
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage')
      throw fail(`a persistent id that is not a ('storage', …) tuple`);
    const [, type, key, , numel, viewMetadata] = pid.items;
    if (pid.items.length < 5 || pid.items.length > 6) throw fail(`a storage id of ${pid.items.length} items`);
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !Object.hasOwn(STORAGE_TYPES, type.name))
      throw fail(
        `storage type ${type instanceof PyGlobal ? type.qualified : String(type)} is not a torch storage class this reader knows`,
        'unsupported',
      );
    if (typeof key !== 'string') throw fail('a storage key that is not a string');
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
      throw fail(`storage ${key} declares ${String(numel)} elements`);
    if (viewMetadata !== undefined && viewMetadata !== null)
      throw fail(
        `storage ${key} is a view of another storage (torch before 1.0): not supported`,
        'unsupported',
      );
    const [dtype, elementBytes] = STORAGE_TYPES[type.name] as readonly [DType | undefined, number];
    if (numel * elementBytes > fileBytes)
      throw fail(
        `storage ${key} declares ${numel} elements of ${type.name}, more than the file's ${fileBytes} bytes hold`,
        'out-of-bounds',
      );
    const seen = storages.get(key);
    if (seen) {
      if (seen.typeName !== type.qualified || seen.numel !== numel)
        throw fail(`storage ${key} is declared twice, with different types or sizes`);
      return seen;
    }
    const storage = new PyStorage(type.qualified, dtype, elementBytes, key, numel);
    storages.set(key, storage);
    return storage;
  };
  return { load, storages };
}
