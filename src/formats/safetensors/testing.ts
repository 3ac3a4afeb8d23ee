// Test helpers: safetensors bytes around any header text (corrupt ones included), a source that
// records what was read, and the check that an operation failed with a given FormatError.
import { expect } from 'vitest';
import { FormatError, type FormatErrorCode } from '../errors';
import { bytesSource, type ByteSource } from '../source';

/** The length prefix (the header's true byte length unless `headerLength` says otherwise), the header, the data. */
export function safetensorsBytes(
  header: string,
  data: Uint8Array | number = 0,
  headerLength?: bigint,
): Uint8Array<ArrayBuffer> {
  const text = new TextEncoder().encode(header);
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + text.byteLength + dataBytes.byteLength);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(dataBytes, 8 + text.byteLength);
  return out;
}

/** A bytesSource that logs each read as [offset, length]. */
export function loggingSource(bytes: Uint8Array, name: string): ByteSource & { reads: [number, number][] } {
  const inner = bytesSource(bytes, name);
  const reads: [number, number][] = [];
  return {
    name,
    size: inner.size,
    reads,
    read(offset, length) {
      reads.push([offset, length]);
      return inner.read(offset, length);
    },
  };
}

/** Awaits `operation`, expects it to fail with a FormatError of `code` about `file`, and returns the error. */
export async function expectFormatError(
  operation: Promise<unknown>,
  code: FormatErrorCode,
  file: string,
): Promise<FormatError> {
  const error = await operation.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FormatError);
  expect(error).toMatchObject({ code, file });
  expect((error as FormatError).message).toBe(`${file}: ${(error as FormatError).problem}`);
  return error as FormatError;
}
