// Opens a .safetensors file lazily: reads only the length prefix and the header, then hands out
// each tensor's bytes by range from the source when they are asked for.
import { FormatError } from '../errors';
import type { ByteSource } from '../source';
import { sourceRangeData, tensorName, type Checkpoint, type TensorEntry, type TensorName } from '../tensor';
import { LENGTH_PREFIX_BYTES, MAX_HEADER_BYTES, parseHeader, type TensorLayout } from './header';

/** The smallest header is "{}". */
const MIN_HEADER_BYTES = 2;
const OPEN_BRACE = 0x7b;

/**
 * Is this a safetensors file, judging by its first bytes (9 or more)? A plausible header length
 * (2 bytes up to the 100 MB cap) followed by '{'.
 */
export function matchSafetensors(first: Uint8Array): boolean {
  if (first.byteLength < LENGTH_PREFIX_BYTES + 1) return false;
  const headerLength = new DataView(first.buffer, first.byteOffset).getBigUint64(0, true);
  return (
    headerLength >= MIN_HEADER_BYTES &&
    headerLength <= MAX_HEADER_BYTES &&
    first[LENGTH_PREFIX_BYTES] === OPEN_BRACE
  );
}

/** Reads and checks the header; tensor bytes stay in the source until TensorEntry.data.read. */
export async function openSafetensors(source: ByteSource): Promise<Checkpoint> {
  const file = source.name;
  if (source.size < LENGTH_PREFIX_BYTES) {
    throw new FormatError(
      'truncated',
      file,
      `the file is ${source.size} bytes, too short for the 8-byte header length`,
    );
  }
  const prefix = await source.read(0, LENGTH_PREFIX_BYTES);
  const declared = new DataView(prefix.buffer, prefix.byteOffset).getBigUint64(0, true);
  if (declared > MAX_HEADER_BYTES) {
    throw new FormatError(
      'header-length',
      file,
      `the header length ${declared} is over the ${MAX_HEADER_BYTES}-byte cap: not a safetensors file, or a corrupt one`,
    );
  }
  const headerLength = Number(declared);
  const dataStart = LENGTH_PREFIX_BYTES + headerLength;
  if (dataStart > source.size) {
    throw new FormatError(
      'header-length',
      file,
      `the header length ${headerLength} runs past the end of the file (${source.size} bytes)`,
    );
  }

  const header = parseHeader(file, decodeUtf8(file, await source.read(LENGTH_PREFIX_BYTES, headerLength)));
  const dataEnd = dataStart + header.dataBytes;
  if (dataEnd > source.size) {
    throw new FormatError(
      'truncated',
      file,
      `the file is truncated: its tensors need ${dataEnd} bytes, but it has ${source.size}`,
    );
  }
  // Like the gaps between tensors: the Rust crate refuses bytes that belong to no tensor.
  if (dataEnd < source.size) {
    throw new FormatError(
      'overlap',
      file,
      `the last ${source.size - dataEnd} bytes of the file, after the last tensor, belong to no tensor`,
    );
  }

  const tensors = new Map<TensorName, TensorEntry>();
  for (const layout of header.tensors) {
    tensors.set(tensorName(layout.name), tensorEntry(source, dataStart, layout));
  }
  return { format: 'safetensors', files: [file], tensors, metadata: header.metadata };
}

function decodeUtf8(file: string, bytes: Uint8Array): string {
  try {
    // ignoreBOM keeps a BOM in the text, so the header is refused for not starting with '{'.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new FormatError('header-json', file, 'the header is not valid UTF-8', { cause: e });
  }
}

function tensorEntry(source: ByteSource, dataStart: number, layout: TensorLayout): TensorEntry {
  const byteLength = layout.end - layout.begin;
  const name = tensorName(layout.name);
  return {
    name,
    dtype: layout.dtype,
    shape: layout.shape,
    byteLength,
    file: source.name,
    data: sourceRangeData(source, dataStart + layout.begin, byteLength, `tensor ${JSON.stringify(name)}`),
  };
}
