// The zip container of torch.save (since 1.6): the central directory is found from the end-of-
// central-directory record at the file's end (zip64 when the file needs it) and read by range;
// an entry's bytes are found through its local header. Nothing is inflated: torch stores every
// entry uncompressed, and a compressed one is refused by whoever needs it.
import { FormatError } from '../errors';
import type { ByteSource } from '../source';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated, … */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD_BYTES = 22;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
/** The EOCD record plus the longest comment it may carry. */
const EOCD_SEARCH_BYTES = EOCD_BYTES + 0xffff;
/** The first tail read, enough for torch's records (zip64 included). */
const FIRST_TAIL_BYTES = 512;

function findEocd(tv: DataView): number {
  for (let i = tv.byteLength - EOCD_BYTES; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG && i + EOCD_BYTES + tv.getUint16(i + 20, true) === tv.byteLength)
      return i;
  }
  return -1;
}

/** A central directory larger than this is not torch's (100 000 tensors take ~10 MB). */
export const MAX_CENTRAL_DIRECTORY_BYTES = 64 << 20;

export const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

export function matchZip(first: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => first[i] === b);
}

export async function readZipDirectory(source: ByteSource): Promise<Map<string, ZipEntry>> {
  const file = source.name;
  const fail = (problem: string, code: 'truncated' | 'header-json' | 'unsupported' = 'header-json') =>
    new FormatError(code, file, `zip archive: ${problem}`);
  // torch writes no archive comment: the record is in the last bytes; a comment needs the longer search
  let tailStart = 0;
  let tv = new DataView(new ArrayBuffer(0));
  let eocd = -1;
  for (const want of [FIRST_TAIL_BYTES, EOCD_SEARCH_BYTES]) {
    const tailBytes = Math.min(source.size, want);
    tailStart = source.size - tailBytes;
    const tail = await source.read(tailStart, tailBytes);
    tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    eocd = findEocd(tv);
    if (eocd >= 0 || tailBytes === source.size) break;
  }
  if (eocd < 0)
    throw fail('no end-of-central-directory record: the file is truncated or not a zip', 'truncated');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = tailStart + eocd - ZIP64_LOCATOR_BYTES;
    if (loc < 0) throw fail('a zip64 archive without its zip64 locator', 'truncated');
    const l = await source.read(loc, ZIP64_LOCATOR_BYTES);
    const lv = new DataView(l.buffer, l.byteOffset);
    if (lv.getUint32(0, true) !== ZIP64_LOCATOR_SIG) throw fail('a zip64 archive without its zip64 locator');
    const at = safe(lv.getBigUint64(8, true), 'the zip64 record offset', fail);
    const r = await source.read(at, 56);
    const rv = new DataView(r.buffer, r.byteOffset);
    if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG)
      throw fail('the zip64 end-of-central-directory record is missing');
    count = safe(rv.getBigUint64(32, true), 'the entry count', fail);
    cdSize = safe(rv.getBigUint64(40, true), 'the central directory size', fail);
    cdOffset = safe(rv.getBigUint64(48, true), 'the central directory offset', fail);
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES)
    throw fail(
      `a central directory of ${cdSize} bytes, over the ${MAX_CENTRAL_DIRECTORY_BYTES}-byte cap`,
      'unsupported',
    );
  if (cdOffset + cdSize > source.size)
    throw fail(
      `the central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file`,
      'truncated',
    );
  if (count * 46 > cdSize) throw fail(`${count} entries cannot fit in a ${cdSize}-byte central directory`);
  const cd = await source.read(cdOffset, cdSize);
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries = new Map<string, ZipEntry>();
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== CENTRAL_SIG)
      throw fail(`central directory entry ${i} is damaged`);
    const method = cv.getUint16(p + 10, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLength = cv.getUint16(p + 28, true);
    const extraLength = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    let localOffset = cv.getUint32(p + 42, true);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > cdSize) throw fail(`central directory entry ${i} runs past the directory`);
    const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLength));
    // zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in this order
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = (what: string): number => {
          if (q + 8 > e + 4 + len || q + 8 > extraEnd) throw fail(`entry ${name}: a short zip64 field`);
          const v = safe(cv.getBigUint64(q, true), what, fail);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next('an entry size');
        if (compressedSize === 0xffffffff) compressedSize = next('an entry size');
        if (localOffset === 0xffffffff) localOffset = next('an entry offset');
      }
      e += 4 + len;
    }
    if (entries.has(name))
      throw new FormatError('duplicate-name', file, `zip archive: entry ${name} appears twice`);
    entries.set(name, { name, method, compressedSize, size, localOffset });
    p = end;
  }
  return entries;
}

/** Where a stored entry's bytes start, from its local header (torch pads the extra field to align). */
export async function entryDataOffset(source: ByteSource, entry: ZipEntry): Promise<number> {
  const fail = (problem: string, code: 'truncated' | 'header-json' = 'header-json') =>
    new FormatError(code, source.name, `zip archive: entry ${entry.name}: ${problem}`);
  if (entry.localOffset + LOCAL_HEADER_BYTES > source.size)
    throw fail('its local header is past the end of the file', 'truncated');
  const h = await source.read(entry.localOffset, LOCAL_HEADER_BYTES);
  const hv = new DataView(h.buffer, h.byteOffset);
  if (hv.getUint32(0, true) !== LOCAL_SIG) throw fail('its local header is missing');
  const start = entry.localOffset + LOCAL_HEADER_BYTES + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (start + entry.compressedSize > source.size)
    throw fail(`its ${entry.compressedSize} bytes at ${start} run past the end of the file`, 'truncated');
  return start;
}

/** A stored entry's bytes, read whole: for the small ones only (data.pkl, byteorder). */
export async function readStoredEntry(source: ByteSource, entry: ZipEntry, cap: number): Promise<Uint8Array> {
  if (entry.method !== 0)
    throw new FormatError(
      'unsupported',
      source.name,
      `zip archive: entry ${entry.name} is compressed (method ${entry.method}); torch stores entries uncompressed`,
    );
  if (entry.size > cap)
    throw new FormatError(
      'unsupported',
      source.name,
      `zip archive: entry ${entry.name} is ${entry.size} bytes, over the ${cap}-byte cap`,
    );
  return source.read(await entryDataOffset(source, entry), entry.size);
}

function safe(v: bigint, what: string, fail: (p: string) => FormatError): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`${what} ${v} is too large`);
  return Number(v);
}
