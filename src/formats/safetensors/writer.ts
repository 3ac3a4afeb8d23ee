// Streams a .safetensors file: the header first (offsets follow from the specs), then each
// tensor's bytes in spec order, in as many chunks as the caller likes, never the whole file at once.
import { dtypeBytes, elementCount, isDType, type DType } from '../dtype';
import { FormatError } from '../errors';
import type { ByteSink } from '../sink';
import { LENGTH_PREFIX_BYTES, METADATA_KEY } from './header';

export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface TensorWithBytes extends TensorSpec {
  /** Little-endian, row-major, exactly shape × dtype size bytes. */
  readonly bytes: Uint8Array;
}

/** `__metadata__`: a Map (Checkpoint.metadata) or a plain record. */
export type SafetensorsMetadata = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface SafetensorsWriter {
  /**
   * Appends the next chunk of tensor `name`. Tensors come in spec order and each gets exactly its
   * byte length; a tensor of 0 bytes may be skipped. Await each write before the next.
   */
  write(name: string, chunk: Uint8Array): Promise<void>;
  /** Checks that every tensor got all its bytes, then closes the sink. */
  close(): Promise<void>;
}

/** Padding the header to a multiple of 8 keeps the data section 8-byte aligned, as the Rust crate does. */
const HEADER_ALIGNMENT = 8;
const SPACE = 0x20;

interface PlannedTensor {
  readonly name: string;
  readonly byteLength: number;
}

/** Checks the specs, writes the length prefix and the header, and returns the writer for the data. */
export async function createSafetensorsWriter(
  sink: ByteSink,
  specs: readonly TensorSpec[],
  metadata?: SafetensorsMetadata,
): Promise<SafetensorsWriter> {
  const planned = plan(sink.name, specs);
  await sink.write(encodeHeader(specs, planned, metadata));
  return new StreamingWriter(sink, planned);
}

/**
 * The bytes a file written from these specs and metadata has on disk: the length prefix, the header
 * as the writer pads it, and every tensor's data. The same code as the writer's, so it never drifts.
 */
export function safetensorsFileBytes(specs: readonly TensorSpec[], metadata?: SafetensorsMetadata): number {
  const planned = plan('(size)', specs);
  return encodeHeader(specs, planned, metadata).byteLength + planned.reduce((a, t) => a + t.byteLength, 0);
}

/** Writes tensors that are all in memory already, then closes the sink. */
export async function writeSafetensors(
  sink: ByteSink,
  tensors: readonly TensorWithBytes[],
  metadata?: SafetensorsMetadata,
): Promise<void> {
  const writer = await createSafetensorsWriter(sink, tensors, metadata);
  for (const t of tensors) await writer.write(t.name, t.bytes);
  await writer.close();
}

function plan(file: string, specs: readonly TensorSpec[]): PlannedTensor[] {
  const names = new Set<string>();
  return specs.map(({ name, dtype, shape }) => {
    const what = `tensor ${JSON.stringify(name)}`;
    if (name === METADATA_KEY)
      throw new FormatError('write', file, `a tensor cannot be named ${METADATA_KEY}`);
    if (names.has(name)) throw new FormatError('duplicate-name', file, `${what} is given twice`);
    names.add(name);
    if (!isDType(dtype))
      throw new FormatError('unknown-dtype', file, `${what} has dtype ${JSON.stringify(dtype)}`);
    const elements = elementCount(shape);
    if (elements === undefined) {
      throw new FormatError(
        'bad-shape',
        file,
        `${what} has shape ${JSON.stringify(shape)}: dimensions must be non-negative integers`,
      );
    }
    return { name, byteLength: elements * dtypeBytes(dtype) };
  });
}

function encodeHeader(
  specs: readonly TensorSpec[],
  planned: readonly PlannedTensor[],
  metadata: SafetensorsMetadata | undefined,
): Uint8Array {
  // Built as text rather than through an object so that a tensor named "__proto__" stays a key.
  const entries: string[] = [];
  const metadataEntries =
    metadata === undefined ? [] : Symbol.iterator in metadata ? [...metadata] : Object.entries(metadata);
  if (metadataEntries.length > 0) {
    const fields = metadataEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let offset = 0;
  specs.forEach((spec, i) => {
    const end = offset + (planned[i] as PlannedTensor).byteLength;
    const info = { dtype: spec.dtype, shape: spec.shape, data_offsets: [offset, end] };
    entries.push(`${JSON.stringify(spec.name)}:${JSON.stringify(info)}`);
    offset = end;
  });
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLength = Math.ceil(json.byteLength / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + headerLength).fill(SPACE);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, LENGTH_PREFIX_BYTES);
  return out;
}

class StreamingWriter implements SafetensorsWriter {
  private readonly indexOf: ReadonlyMap<string, number>;
  /** The tensor being written and how many of its bytes have been. */
  private current = 0;
  private written = 0;
  private closed = false;

  constructor(
    private readonly sink: ByteSink,
    private readonly tensors: readonly PlannedTensor[],
  ) {
    this.indexOf = new Map(tensors.map((t, i) => [t.name, i]));
  }

  async write(name: string, chunk: Uint8Array): Promise<void> {
    this.checkOpen();
    const index = this.indexOf.get(name);
    if (index === undefined) throw this.error(`tensor ${JSON.stringify(name)} is not in the specs`);
    if (index < this.current) throw this.error(`tensor ${JSON.stringify(name)} was already written`);
    if (index > this.current) {
      this.checkCompleteBefore(index, `before tensor ${JSON.stringify(name)}`);
      this.current = index;
      this.written = 0;
    }
    const tensor = this.tensors[index] as PlannedTensor;
    if (this.written + chunk.byteLength > tensor.byteLength) {
      throw this.error(
        `tensor ${JSON.stringify(name)} is ${tensor.byteLength} bytes, but ${this.written + chunk.byteLength} were written`,
      );
    }
    this.written += chunk.byteLength;
    await this.sink.write(chunk);
  }

  async close(): Promise<void> {
    this.checkOpen();
    this.checkCompleteBefore(this.tensors.length, 'at close');
    this.closed = true;
    await this.sink.close();
  }

  /** Tensors from the current one up to (not including) `index` must all be complete. */
  private checkCompleteBefore(index: number, when: string): void {
    for (let i = this.current; i < index; i++) {
      const tensor = this.tensors[i] as PlannedTensor;
      const written = i === this.current ? this.written : 0;
      if (written !== tensor.byteLength) {
        throw this.error(
          `tensor ${JSON.stringify(tensor.name)} got ${written} of its ${tensor.byteLength} bytes ${when} (tensors come in spec order)`,
        );
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw this.error('the writer is already closed');
  }

  private error(problem: string): FormatError {
    return new FormatError('write', this.sink.name, problem);
  }
}
