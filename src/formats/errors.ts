// The one error type that leaves src/formats: every message names the file and the problem.

export type FormatErrorCode =
  | 'header-length' // the header length field is past the end of the file or over the cap
  | 'header-json' // the header is not valid JSON / not the expected shape
  | 'unknown-dtype'
  | 'bad-shape' // negative, fractional or overflowing dimensions
  | 'out-of-bounds' // a data range outside the file / data section
  | 'overlap' // data ranges overlap, are out of order, or leave gaps / trailing bytes
  | 'size-mismatch' // shape × dtype size ≠ stored byte length
  | 'duplicate-name'
  | 'truncated' // the file ended before its declared content
  | 'changed' // the file changed, shrank or failed to read after it was opened
  | 'missing-file' // a shard or external-data file was not given
  | 'not-onnx' // not a ModelProto
  | 'unsupported' // valid, but something we do not handle (named in the message)
  | 'bad-index' // a sharded index.json that is malformed or disagrees with its shards
  | 'write'; // a writer was used against its contract

export class FormatError extends Error {
  override readonly name = 'FormatError';
  constructor(
    readonly code: FormatErrorCode,
    /** The file the problem is in, as the user named it. */
    readonly file: string,
    /** The problem, without the file name. */
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

export function isFormatError(e: unknown, code?: FormatErrorCode): e is FormatError {
  return e instanceof FormatError && (code === undefined || e.code === code);
}
