// The legacy torch.save format (before 1.6, or _use_new_zipfile_serialization=False): five pickles
// in a row — the magic number, the protocol version, sys_info, the data, the list of storage keys —
// then each storage in that order as an 8-byte little-endian element count and its raw bytes.
// The pickles are read from a growing prefix of the file; the storages are found by walking the
// counts (8 bytes read per storage), never by reading their bytes.
import { FormatError } from '../errors';
import type { ByteSource } from '../source';
import { collectTensors, type NamedTensor } from './state-dict';
import { storageLoader, type StorageBytes } from './storages';
import { PickleNeedsMore, unpickle } from './unpickler';
import { PyDict, PyList, type PyValue } from './values';

/** PROTO 2, LONG1 of 10 bytes: 0x1950a86a20f9469cfc6c, torch's legacy magic number. */
export const LEGACY_MAGIC_PREFIX = [
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];
const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
/** The first prefix read for the pickles; it grows fourfold until they fit. */
const FIRST_PREFIX_BYTES = 1 << 20;

export async function readLegacy(
  source: ByteSource,
  maxPickleBytes: number,
): Promise<{ named: NamedTensor[]; storageStart: StorageBytes }> {
  const file = source.name;
  const fail = (
    problem: string,
    code: 'header-json' | 'unsupported' | 'truncated' | 'size-mismatch' = 'header-json',
  ) => new FormatError(code, file, `legacy torch.save file: ${problem}`);
  let length = Math.min(source.size, FIRST_PREFIX_BYTES);
  for (;;) {
    const bytes = await source.read(0, length);
    try {
      return await parse(bytes, length < source.size);
    } catch (e) {
      if (!(e instanceof PickleNeedsMore)) throw e;
      if (length >= maxPickleBytes)
        throw fail(`its pickles are larger than the ${maxPickleBytes}-byte cap`, 'unsupported');
      length = Math.min(source.size, length * 4, maxPickleBytes);
    }
  }

  async function parse(bytes: Uint8Array, partial: boolean) {
    const loader = storageLoader(file, source.size);
    let pos = 0;
    const next = (
      what: string,
      persistentLoad: (pid: PyValue) => PyValue = () => {
        throw fail(`${what} has a persistent id`);
      },
    ): PyValue => {
      const r = unpickle(bytes, pos, { file, what, partial, persistentLoad });
      pos = r.end;
      return r.value;
    };
    if (next('the magic number') !== MAGIC) throw fail('the magic number is wrong');
    const version = next('the protocol version');
    if (version !== PROTOCOL_VERSION)
      throw fail(
        `protocol version ${String(version)} (this reader knows ${PROTOCOL_VERSION})`,
        'unsupported',
      );
    const sysInfo = next('sys_info');
    if (sysInfo instanceof PyDict && sysInfo.get('little_endian') === false)
      throw fail('it was saved big-endian; only little-endian is read', 'unsupported');
    const root = next('the data pickle', loader.load);
    const keys = next('the storage key list');
    if (!(keys instanceof PyList) || !keys.items.every((k) => typeof k === 'string'))
      throw fail('the storage key list is not a list of strings');
    const named = collectTensors(root, file, 'the data pickle');

    // Walk the storages: 8 bytes each, in the key list's order.
    const starts = new Map<string, number>();
    let at = pos;
    for (const key of keys.items as string[]) {
      const storage = loader.storages.get(key);
      if (storage === undefined) throw fail(`storage ${key} is listed but no tensor declares it`);
      if (starts.has(key)) throw fail(`storage ${key} is listed twice`);
      if (at + 8 > source.size) throw fail(`the file ends before storage ${key}`, 'truncated');
      const head = await source.read(at, 8);
      const count = new DataView(head.buffer, head.byteOffset).getBigUint64(0, true);
      if (count !== BigInt(storage.numel))
        throw fail(
          `storage ${key} holds ${count} elements, but the pickle declares ${storage.numel}`,
          'size-mismatch',
        );
      const end = at + 8 + storage.numel * storage.elementBytes;
      if (end > source.size) throw fail(`storage ${key} runs past the end of the file`, 'truncated');
      starts.set(key, at + 8);
      at = end;
    }
    const storageStart: StorageBytes = (storage, tensor) => {
      const start = starts.get(storage.key);
      if (start === undefined)
        throw new FormatError(
          'out-of-bounds',
          file,
          `tensor ${JSON.stringify(tensor)}: its storage ${storage.key} is not in the file's storage list`,
        );
      return () => Promise.resolve(start);
    };
    return { named, storageStart };
  }
}
