// The pre-0.4 torch.save format, as torch/serialization.py's legacy_load reads it: a tar archive
// (ustar or PAX) of four members —
//   sys_info  a pickled dict (little_endian: False is refused);
//   pickle    the object; each tensor a persistent id str(key), each module class (class, file,
//             source) whose source is never looked at;
//   tensors   a pickled count, then per tensor the pickle (key, storage key, tensor type) and
//             int32 ndim, 4 padding bytes, ndim int64 sizes, ndim int64 strides, int64 offset;
//   storages  a pickled count, then per storage the pickle (key, location, storage type), an
//             int64 element count and the raw bytes; then the pickled list of views
//             (view key, root key, offset, numel).
// Tar members are stored, so each lies at a known offset: the headers are read block by block,
// the small members whole, and the storages member is walked pickle by pickle (its raw bytes are
// skipped, never read), so each tensor is then read by range from its root storage.
import { FormatError } from '../errors';
import type { ByteSource } from '../source';
import { collectTensors, type NamedTensor } from './state-dict';
import { storageLoader, type StorageBytes } from './storages';
import { PickleNeedsMore, unpickle } from './unpickler';
import { PyDict, PyGlobal, PyList, PyStorage, PyTensor, PyTuple, type PyValue } from './values';

const BLOCK = 512;
/** A tar header's "ustar" magic lies at offset 257 of its first block. */
const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72];
/** The members legacy_load reads; any other is skipped. */
const MEMBERS = ['sys_info', 'pickle', 'tensors', 'storages'] as const;
/** Headers walked before giving up: torch writes four members (and PAX headers). */
const MAX_HEADERS = 64;
/** A PAX extended header is a few records; sys_info a few hundred bytes. */
const MAX_SMALL_MEMBER = 1 << 20;
/** Bytes read for a storage record's pickle (about 50), fourfold more while it does not fit. */
const RECORD_WINDOW = 128;
/** Dimensions of one tensor (torch's own limit is 64). */
const MAX_NDIM = 64;

/** Is this the first block of a tar archive (ustar magic at 257)? Needs the first 262 bytes or more. */
export function matchTar(first: Uint8Array): boolean {
  return first.byteLength >= 262 && USTAR.every((b, i) => first[257 + i] === b);
}

interface Member {
  readonly start: number;
  readonly size: number;
}

type Code =
  | 'header-json'
  | 'unsupported'
  | 'truncated'
  | 'size-mismatch'
  | 'out-of-bounds'
  | 'duplicate-name'
  | 'bad-shape';

export async function readTar(
  source: ByteSource,
  maxPickleBytes: number,
): Promise<{ named: NamedTensor[]; storageStart: StorageBytes }> {
  const file = source.name;
  const fail = (problem: string, code: Code = 'header-json') =>
    new FormatError(code, file, `torch.save tar (torch < 0.4): ${problem}`);
  const members = await readMembers(source, fail);
  const member = (name: (typeof MEMBERS)[number]): Member => {
    const m = members.get(name);
    if (m === undefined)
      throw fail(`a tar archive without a "${name}" member: not a torch.save file`, 'unsupported');
    return m;
  };
  const whole = async (name: (typeof MEMBERS)[number], cap: number) => {
    const m = member(name);
    if (m.size > cap)
      throw fail(`its "${name}" member is ${m.size} bytes, over the ${cap}-byte cap`, 'unsupported');
    return source.read(m.start, m.size);
  };
  const noIds = (what: string) => () => {
    throw fail(`${what} has a persistent id`);
  };

  const sysInfo = members.has('sys_info')
    ? unpickle(await whole('sys_info', MAX_SMALL_MEMBER), 0, {
        file,
        what: 'sys_info',
        persistentLoad: noIds('sys_info'),
      }).value
    : null;
  if (sysInfo instanceof PyDict && sysInfo.get('little_endian') === false)
    throw fail('it was saved big-endian; only little-endian is read', 'unsupported');

  // storages: (key, location, type) + count + bytes each, then the views — walked by range
  const store = member('storages');
  const storeEnd = store.start + store.size;
  const loader = storageLoader(file, source.size);
  const roots = new Map<string, { storage: PyStorage; start: number }>();
  const pickleAt = async (at: number, what: string) => {
    let length = Math.min(storeEnd - at, RECORD_WINDOW);
    for (;;) {
      const bytes = await source.read(at, length);
      try {
        const r = unpickle(bytes, 0, {
          file,
          what,
          partial: at + length < storeEnd,
          persistentLoad: noIds(what),
        });
        return { value: r.value, end: at + r.end };
      } catch (e) {
        if (!(e instanceof PickleNeedsMore)) throw e;
        if (length >= maxPickleBytes)
          throw fail(`${what} is larger than the ${maxPickleBytes}-byte cap`, 'unsupported');
        length = Math.min(storeEnd - at, length * 4, maxPickleBytes);
      }
    }
  };
  let next = await pickleAt(store.start, 'the storage count');
  const count = next.value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count * 9 > store.size)
    throw fail(`the storages member declares ${String(count)} storages`);
  for (let i = 0; i < count; i++) {
    const what = `storage record ${i}`;
    next = await pickleAt(next.end, what);
    const record = next.value;
    if (!(record instanceof PyTuple) || record.items.length !== 3)
      throw fail(`${what} is not (key, location, type)`);
    const [key, location, type] = record.items;
    if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'string')
      throw fail(`${what} has a key that is not a number`);
    if (next.end + 8 > storeEnd)
      throw fail(`the storages member ends inside storage ${String(key)}`, 'truncated');
    const head = await source.read(next.end, 8);
    const numel = new DataView(head.buffer, head.byteOffset).getBigInt64(0, true);
    if (numel < 0n || numel > BigInt(Number.MAX_SAFE_INTEGER))
      throw fail(`storage ${String(key)} holds ${numel} elements`, 'size-mismatch');
    const storage = loader.load(
      new PyTuple(['storage', type ?? null, String(key), location ?? null, Number(numel)]),
    );
    if (!(storage instanceof PyStorage)) throw fail(`${what} is not a storage`);
    const start = next.end + 8;
    const end = start + storage.numel * storage.elementBytes;
    if (end > storeEnd) throw fail(`storage ${storage.key} runs past the end of its member`, 'truncated');
    if (roots.has(storage.key)) throw fail(`storage ${storage.key} is written twice`, 'duplicate-name');
    roots.set(storage.key, { storage, start });
    next = { value: null, end };
  }
  // A view is a slice of a root storage; torch 0.3 also wrote it as its own storage, which the view replaces.
  const views = new Map<string, { root: PyStorage; offset: number; numel: number }>();
  const viewList = (await pickleAt(next.end, 'the storage views')).value;
  if (!(viewList instanceof PyList || viewList instanceof PyTuple))
    throw fail('the storage views are not a list');
  for (const v of viewList.items) {
    const [target, rootKey, offset, numel] = v instanceof PyTuple || v instanceof PyList ? v.items : [];
    const root = roots.get(String(rootKey));
    if (root === undefined || !isSize(offset) || !isSize(numel))
      throw fail(`a storage view ${String(target)} of a storage that is not written, or with a bad range`);
    if (offset + numel > root.storage.numel)
      throw fail(
        `storage view ${String(target)} runs past its root storage ${root.storage.key}`,
        'out-of-bounds',
      );
    views.set(String(target), { root: root.storage, offset, numel });
  }

  // tensors: their views of the storages, by key
  const tensors = new Map<string, PyTensor>();
  const meta = await whole('tensors', maxPickleBytes);
  const view = new DataView(meta.buffer, meta.byteOffset, meta.byteLength);
  let pos = 0;
  const at = (n: number, what: string) => {
    if (pos + n > meta.byteLength) throw fail(`the tensors member ends inside ${what}`, 'truncated');
    const here = pos;
    pos += n;
    return here;
  };
  const i64 = (what: string) => {
    const v = view.getBigInt64(at(8, what), true);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`${what} is ${v}`, 'bad-shape');
    return Number(v);
  };
  let r = unpickle(meta, 0, { file, what: 'the tensor count', persistentLoad: noIds('the tensors member') });
  pos = r.end;
  const tensorCount = r.value;
  if (typeof tensorCount !== 'number' || !Number.isSafeInteger(tensorCount) || tensorCount < 0)
    throw fail(`the tensors member declares ${String(tensorCount)} tensors`);
  for (let i = 0; i < tensorCount; i++) {
    r = unpickle(meta, pos, {
      file,
      what: `tensor record ${i}`,
      persistentLoad: noIds('the tensors member'),
    });
    pos = r.end;
    const rec = r.value;
    if (!(rec instanceof PyTuple) || rec.items.length !== 3)
      throw fail(`tensor record ${i} is not (key, storage, type)`);
    const key = String(rec.items[0]);
    const storageKey = String(rec.items[1]);
    const ndim = view.getInt32(at(8, `tensor ${key}`), true); // an int32, then 4 bytes of padding
    if (ndim < 0 || ndim > MAX_NDIM) throw fail(`tensor ${key} has ${ndim} dimensions`);
    const shape = Array.from({ length: ndim }, () => i64(`a size of tensor ${key}`));
    const stride = Array.from({ length: ndim }, () => i64(`a stride of tensor ${key}`));
    const offset = i64(`the offset of tensor ${key}`);
    const v = views.get(storageKey);
    const root = v?.root ?? roots.get(storageKey)?.storage;
    if (root === undefined)
      throw fail(`tensor ${key}'s storage ${storageKey} is not written`, 'out-of-bounds');
    if (v) {
      let numel = 1;
      for (const d of shape) numel *= d;
      if (numel > 0 && offset + numel > v.numel)
        throw fail(`tensor ${key} runs past its storage view ${storageKey}`, 'out-of-bounds');
    }
    if (tensors.has(key)) throw fail(`tensor ${key} is written twice`, 'duplicate-name');
    tensors.set(key, new PyTensor(root, (v?.offset ?? 0) + offset, shape, stride));
  }

  // the object: tensors by persistent id, module classes as the inert globals they are
  const { value } = unpickle(await whole('pickle', maxPickleBytes), 0, {
    file,
    what: 'the pickle member',
    persistentLoad: (pid: PyValue) => {
      if (pid instanceof PyTuple && pid.items[0] instanceof PyGlobal) return pid.items[0];
      const key =
        typeof pid === 'string' && /^\d+$/.test(pid)
          ? pid
          : typeof pid === 'number'
            ? String(pid)
            : undefined;
      const tensor = key === undefined ? undefined : tensors.get(key);
      if (tensor === undefined)
        throw fail(`the pickle names a tensor ${JSON.stringify(String(pid))} that is not written`);
      return tensor;
    },
  });
  const named = collectTensors(value, file, 'the pickle member');
  const storageStart: StorageBytes = (storage, tensor) => {
    const root = roots.get(storage.key);
    if (root === undefined || root.storage !== storage)
      throw fail(
        `tensor ${JSON.stringify(tensor)}: its storage ${storage.key} is not written`,
        'out-of-bounds',
      );
    return () => Promise.resolve(root.start);
  };
  return { named, storageStart };
}

const isSize = (v: PyValue | undefined): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The members legacy_load reads: where each one's data starts and how long it is. */
async function readMembers(
  source: ByteSource,
  fail: (problem: string, code?: Code) => FormatError,
): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  let at = 0;
  let pax = new Map<string, string>();
  for (let n = 0; n < MAX_HEADERS && members.size < MEMBERS.length; n++) {
    if (at >= source.size) break; // no end blocks: what is there is all there is
    if (at + BLOCK > source.size)
      throw fail(`the file ends inside the tar header at offset ${at}`, 'truncated');
    const header = await source.read(at, BLOCK);
    if (header.every((b) => b === 0)) break; // the end of the archive
    const text = (from: number, length: number) => {
      const field = header.subarray(from, from + length);
      const nul = field.indexOf(0);
      return new TextDecoder().decode(nul < 0 ? field : field.subarray(0, nul));
    };
    const checksum = octal(header.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    if (checksum !== sum) throw fail(`the tar header at offset ${at} has a bad checksum`);
    const type = String.fromCharCode(header[156] as number);
    const prefix = text(345, 155);
    const headerName = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const declared = sizeField(header.subarray(124, 136));
    const paxSize = pax.get('size');
    const size = paxSize !== undefined && /^\d+$/.test(paxSize) ? Number(paxSize) : declared;
    if (size === undefined || !Number.isSafeInteger(size))
      throw fail(`the tar header at offset ${at} has a bad size`);
    const start = at + BLOCK;
    const name = pax.get('path') ?? headerName;
    if (start + size > source.size)
      throw fail(`member "${name}" declares ${size} bytes, past the end of the file`, 'truncated');
    pax = new Map();
    if (type === 'x') {
      if (size > MAX_SMALL_MEMBER) throw fail(`a PAX header of ${size} bytes`, 'unsupported');
      pax = paxRecords(await source.read(start, size));
    } else if ((type === '0' || type === '\0') && (MEMBERS as readonly string[]).includes(name)) {
      if (members.has(name)) throw fail(`member "${name}" appears twice`, 'duplicate-name');
      members.set(name, { start, size });
    }
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return members;
}

/** A NUL- or space-terminated octal field; NaN when it is not one. */
function octal(field: Uint8Array): number {
  const s = new TextDecoder()
    .decode(field)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : Number.NaN;
}

/** A size field: octal, or GNU's base-256 (high bit set) for sizes past 8 GiB. */
function sizeField(field: Uint8Array): number | undefined {
  if (((field[0] as number) & 0x80) !== 0) {
    let v = 0n;
    for (let i = 1; i < field.byteLength; i++) v = (v << 8n) | BigInt(field[i] as number);
    if ((field[0] as number) !== 0x80 || v > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    return Number(v);
  }
  const v = octal(field);
  return Number.isNaN(v) ? undefined : v;
}

/** PAX records: "<length> <key>=<value>\n", each length counting the whole record. */
function paxRecords(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const decoder = new TextDecoder();
  let pos = 0;
  while (pos < bytes.byteLength) {
    const space = bytes.indexOf(0x20, pos);
    const length = space < 0 ? Number.NaN : Number(decoder.decode(bytes.subarray(pos, space)));
    if (!Number.isSafeInteger(length) || length <= space - pos || pos + length > bytes.byteLength) break;
    const record = decoder.decode(bytes.subarray(space + 1, pos + length - 1)); // less the newline
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return out;
}
