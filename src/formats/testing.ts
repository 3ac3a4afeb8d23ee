// Test helpers for hostile input: a byte source that fails loudly (not with a FormatError) on any
// read outside its file and counts what was read, the names that live on Object.prototype, and a
// check that nothing was added to it.
import { FormatError } from './errors';
import type { ByteSource } from './source';

/** Tensor names that are also properties of every object: they must stay ordinary names. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  'prototype',
] as const;

/** Not a FormatError, so a property that allows FormatErrors only still fails on it. */
export class ReadPastEnd extends Error {
  override readonly name = 'ReadPastEnd';
}

export interface StrictSource extends ByteSource {
  /** Bytes handed out, over all reads. */
  bytesRead: number;
  reads: number;
}

/**
 * A source over `bytes` for which a read outside [0, size) is a bug in the reader: it throws
 * ReadPastEnd instead of the 'truncated' FormatError a real source gives.
 */
export function strictSource(bytes: Uint8Array, name: string): StrictSource {
  const source: StrictSource = {
    name,
    size: bytes.byteLength,
    bytesRead: 0,
    reads: 0,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new ReadPastEnd(`${name}: read of ${length} bytes at ${offset}`);
      }
      if (offset + length > bytes.byteLength) {
        throw new ReadPastEnd(
          `${name}: read of [${offset}, ${offset + length}) past the end (${bytes.byteLength})`,
        );
      }
      source.bytesRead += length;
      source.reads++;
      return bytes.slice(offset, offset + length);
    },
  };
  return source;
}

/** Resolves to 'ok' or the FormatError's code; anything else is rethrown. */
export async function outcome(run: () => Promise<unknown>): Promise<'ok' | FormatError['code']> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError) {
      if (!e.message.startsWith(`${e.file}: `))
        throw new Error(`a FormatError that does not name its file: ${e.message}`, { cause: e });
      return e.code;
    }
    throw e;
  }
}

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();

/** Throws if anything was added to Object.prototype (a parser that assigned "__proto__" keys, say). */
export function checkNoPollution(): void {
  const keys = Object.getOwnPropertyNames(Object.prototype).sort().join();
  if (keys !== PROTOTYPE_KEYS) throw new Error(`Object.prototype was changed: ${keys}`);
  if (Object.getPrototypeOf({}) !== Object.prototype) throw new Error('{} has another prototype');
  const probe: Record<string, unknown> = {};
  for (const k of ['polluted', 'dtype', 'shape', 'data_offsets', 'weight_map', 'location']) {
    if (k in probe) throw new Error(`Object.prototype has "${k}"`);
  }
}
