// The safetensors header (the JSON after the length prefix), checked as strictly as the Rust crate
// checks it: known dtypes, sane shapes, and data ranges that tile the data section exactly.
import { DTYPE_BYTES, dtypeBytes, elementCount, isDType, type DType } from '../dtype';
import { FormatError } from '../errors';
import { MAX_TENSORS_PER_FILE } from '../limits';
import { isJsonObject, preview, scanKeys, type JsonObject } from './json';

/** The file starts with the header's byte length as a little-endian u64. */
export const LENGTH_PREFIX_BYTES = 8;
/** The Rust crate's MAX_HEADER_SIZE: a longer header is refused, not parsed. */
export const MAX_HEADER_BYTES = 100_000_000;
/** The one top-level key that is not a tensor. */
export const METADATA_KEY = '__metadata__';

export interface TensorLayout {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte range [begin, end) inside the data section. */
  readonly begin: number;
  readonly end: number;
}

export interface Header {
  readonly metadata: ReadonlyMap<string, string>;
  /** In data order (by begin, then end). */
  readonly tensors: readonly TensorLayout[];
  /** Bytes of data the tensors cover: the data section must be exactly this long. */
  readonly dataBytes: number;
}

const quote = (s: string): string => JSON.stringify(s);

/**
 * Parses and validates the header text of the file named `file`. Entries are only ever looked up
 * in Maps, so `__proto__` or `constructor` are ordinary tensor names.
 */
export function parseHeader(file: string, text: string): Header {
  const fail = (code: FormatError['code'], problem: string, cause?: unknown): FormatError =>
    new FormatError(code, file, problem, cause === undefined ? undefined : { cause });

  // The Rust crate refuses a header that does not open with '{' (no whitespace, no BOM).
  if (!text.startsWith('{'))
    throw fail('header-json', `the header does not start with '{': not a JSON object`);
  // Counted first, so that a header of a million tiny tensors costs a scan, not a million objects.
  const scan = scanKeys(text, MAX_TENSORS_PER_FILE + 1); // + 1: __metadata__ is not a tensor
  if (scan.overLimit)
    throw fail(
      'unsupported',
      `the header lists over ${MAX_TENSORS_PER_FILE} tensors, more than one file may hold here (a bound on the memory one header may cost)`,
    );
  let json: JsonObject;
  try {
    json = JSON.parse(text) as JsonObject; // valid JSON that starts with '{' is an object
  } catch (e) {
    throw fail('header-json', `the header is not valid JSON (${(e as Error).message})`, e);
  }
  const { topLevelKeys, duplicate } = scan;
  if (duplicate !== undefined) {
    if (duplicate.path.length === 0) {
      throw fail('duplicate-name', `the header names ${quote(duplicate.key)} twice`);
    }
    throw fail('header-json', `key ${quote(duplicate.key)} appears twice in ${duplicate.path.join('.')}`);
  }

  let metadata: ReadonlyMap<string, string> = new Map();
  const tensors: TensorLayout[] = [];
  for (const name of topLevelKeys) {
    // An own property: JSON.parse defines "__proto__" like any other key, shadowing the accessor.
    const entry = json[name];
    if (name === METADATA_KEY) metadata = parseMetadata(entry, fail);
    else tensors.push(parseTensor(name, entry, fail));
  }

  if (tensors.length > MAX_TENSORS_PER_FILE)
    throw fail(
      'unsupported',
      `the header lists ${tensors.length} tensors, over the ${MAX_TENSORS_PER_FILE} allowed`,
    );
  // Stable: empty tensors at one offset keep their header order.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0; // the data section [0, covered) belongs to the tensors checked so far
  let previous: TensorLayout | undefined;
  for (const t of tensors) {
    if (previous !== undefined && t.begin < covered) {
      throw fail(
        'overlap',
        `tensor ${quote(t.name)} [${t.begin}, ${t.end}) overlaps tensor ${quote(previous.name)} [${previous.begin}, ${previous.end})`,
      );
    }
    // The spec says the data section is entirely indexed; the Rust crate refuses gaps, so do we.
    if (t.begin > covered) {
      throw fail(
        'overlap',
        `bytes [${covered}, ${t.begin}) of the data section, before tensor ${quote(t.name)}, belong to no tensor`,
      );
    }
    covered = t.end;
    previous = t;
  }
  return { metadata, tensors, dataBytes: covered };
}

type Fail = (code: FormatError['code'], problem: string) => FormatError;

function parseMetadata(entry: unknown, fail: Fail): ReadonlyMap<string, string> {
  const metadata = new Map<string, string>();
  if (entry === null) return metadata; // the Rust crate reads null as "no metadata"
  if (!isJsonObject(entry)) throw fail('header-json', `${METADATA_KEY} is not an object of strings`);
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') {
      throw fail('header-json', `${METADATA_KEY} value of ${quote(key)} is ${preview(value)}, not a string`);
    }
    metadata.set(key, value);
  }
  return metadata;
}

function parseTensor(name: string, entry: unknown, fail: Fail): TensorLayout {
  const what = `tensor ${quote(name)}`;
  if (!isJsonObject(entry)) throw fail('header-json', `${what} is not an object`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(entry, field)) throw fail('header-json', `${what} has no "${field}"`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;

  if (typeof dtype !== 'string') throw fail('header-json', `${what} has a dtype that is not a string`);
  if (!isDType(dtype)) {
    throw fail(
      'unknown-dtype',
      `${what} has dtype ${quote(dtype)}; known dtypes: ${Object.keys(DTYPE_BYTES).join(', ')}`,
    );
  }

  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw fail('bad-shape', `${what} has shape ${preview(shape)}: dimensions must be non-negative integers`);
  }
  const elements = elementCount(shape as number[]);
  if (elements === undefined)
    throw fail('bad-shape', `${what} has shape ${preview(shape)}, too many elements`);

  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number')) {
    throw fail('header-json', `${what} has data_offsets ${preview(offsets)}, not two numbers`);
  }
  const [begin, end] = offsets as [number, number];
  if (!offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    throw fail(
      'out-of-bounds',
      `${what} has data_offsets [${begin}, ${end}], not byte positions in the data section`,
    );
  }
  if (end < begin)
    throw fail('overlap', `${what} has data_offsets [${begin}, ${end}] that end before they begin`);

  const bytes = elements * dtypeBytes(dtype);
  if (end - begin !== bytes) {
    throw fail(
      'size-mismatch',
      `${what} is ${dtype} ${preview(shape)}, ${bytes} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}
