// Writes an ONNX model with some initializers' data replaced, keeping every other byte of the
// original: the original .onnx is copied range by range, and only the initializers that change are
// re-encoded (their own fields verbatim, new raw_data or external-data fields appended), with the
// graph field's length prefix fixed to match. Output streams to the sinks in order. Structural
// edits (new dims, added initializers, renamed node inputs, symbolic output dims) re-encode only
// the fields they touch (graph-edits.ts).
import protobuf from 'protobufjs/light.js';
import { FormatError } from '../errors';
import type { ByteSink } from '../sink';
import type { TensorData, TensorName } from '../tensor';
import { dtypeBytes, elementCount } from '../dtype';
import {
  rewriteKeep,
  structuralEdits,
  type Added,
  type OnnxGraphEdits,
  type OnnxReplacement,
  type Splice,
} from './graph-edits';
import { baseName, MAX_ONNX_PROTO_BYTES, type InitializerLayout, type OnnxCheckpoint } from './reader';
import { EXTERNAL, FIELD } from './schema';
import { encodeVarint, lengthPrefix, varintSize } from './wire';

export type { OnnxReplacement } from './graph-edits';

export interface OnnxExternalDataTarget {
  /** Receives the external data file. */
  readonly sink: ByteSink;
  /** The name the model records in `location` (a base name: the file lies beside the model). */
  readonly location: string;
  /**
   * Which initializers go into it:
   *  - 'auto' (default): those that were external in the original; every initializer if the
   *    inline model would pass `inlineLimit`;
   *  - 'replaced': the replaced ones and those that were external in the original;
   *  - 'all': every initializer (except inline ones of types we do not read, e.g. strings).
   * Whatever the mode, a model that would pass `inlineLimit` is written as with 'all'.
   */
  readonly tensors?: 'auto' | 'replaced' | 'all';
}

export interface WriteOnnxOptions {
  /**
   * Where external data goes. Without it every initializer is written inline — those that were
   * external in the original too, so the output never points at the original's data file.
   */
  readonly externalData?: OnnxExternalDataTarget;
  /** The largest .onnx to write inline, in bytes: protobuf's 2 GB cap by default (a parameter for tests). */
  readonly inlineLimit?: number;
  /** Bytes per read when copying original bytes and TensorData replacements (default 16 MiB). */
  readonly chunkBytes?: number;
  /** Structural edits: new dims, added initializers, renamed node inputs, symbolic output dims. */
  readonly edits?: OnnxGraphEdits;
}

export interface WriteOnnxResult {
  /** Bytes written to the model sink. */
  readonly modelBytes: number;
  /** Bytes written to the external-data sink (0 if it was not used). */
  readonly externalBytes: number;
  /** Initializers written as external data, in file order. */
  readonly externalTensors: readonly TensorName[];
}

const DEFAULT_CHUNK = 16 * 1024 * 1024;

interface PlannedInitializer {
  readonly init: InitializerLayout;
  /** Its TensorProto fields other than data: the original's, or with new dims. */
  readonly keep: Uint8Array;
  /** Its data's byte length (new dims give a new one). */
  readonly byteLength: number;
  readonly replacement: OnnxReplacement | undefined;
  /** Re-encoded (false: its original bytes are copied as they are). */
  readonly rewrite: boolean;
  /** The data fields that follow `keep` in the re-encoded TensorProto (raw_data prefix, or external fields). */
  readonly dataFields: Uint8Array;
  /** Where the payload goes when rewritten: the model (raw_data) or the external sink. */
  readonly external: boolean;
  /** Size of the new `initializer` field (tag, length, TensorProto). */
  readonly fieldBytes: number;
}

interface Plan {
  readonly initializers: readonly PlannedInitializer[];
  readonly splices: readonly Splice[];
  readonly added: readonly Added[];
  readonly graphLength: number;
  readonly modelBytes: number;
  readonly externalBytes: number;
}

/**
 * Writes `original` with the data of the initializers in `replacements` replaced, to `sink` (and
 * `options.externalData.sink`). The original's files must still be readable: its bytes are copied
 * from them. Closes the sinks it wrote when done, as the safetensors writer does.
 * Errors: 'write' for a replacement of an unknown or skipped initializer, of the wrong size, a model
 * over `inlineLimit` with nowhere to put external data, or a bad `location`.
 */
export async function writeOnnx(
  original: OnnxCheckpoint,
  replacements: ReadonlyMap<TensorName, OnnxReplacement>,
  sink: ByteSink,
  options: WriteOnnxOptions = {},
): Promise<WriteOnnxResult> {
  const layout = original.layout;
  const ext = options.externalData;
  const limit = options.inlineLimit ?? MAX_ONNX_PROTO_BYTES;
  const chunk = options.chunkBytes ?? DEFAULT_CHUNK;
  const fail = (problem: string): never => {
    throw new FormatError('write', sink.name, problem);
  };
  if (!(chunk >= 1 && Number.isSafeInteger(chunk))) fail(`chunkBytes ${chunk} is not a positive integer`);
  const edits = options.edits ?? {};
  checkReplacements(original, replacements, edits, fail);
  if (ext !== undefined) {
    if (ext.sink === sink) fail('the external data needs its own sink, not the model sink');
    if (ext.location === '' || baseName(ext.location) !== ext.location || ext.location === '..') {
      fail(`external data location '${ext.location}' must be a file name without a directory`);
    }
  }

  const structural = await structuralEdits(original, edits, fail);
  let plan = makePlan(original, replacements, edits, structural, ext, false);
  if (plan.modelBytes > limit && ext !== undefined && (ext.tensors ?? 'auto') !== 'all') {
    plan = makePlan(original, replacements, edits, structural, ext, true);
  }
  if (plan.modelBytes > limit) {
    fail(
      ext === undefined
        ? `the model would be ${plan.modelBytes} bytes, over the ${limit}-byte limit for an inline ONNX model (protobuf's 2 GB): pass options.externalData to write the weights to a separate file`
        : `the model would be ${plan.modelBytes} bytes even with its initializers as external data, over the ${limit}-byte limit`,
    );
  }

  // Stream: original bytes up to the graph's length prefix, the new length, then the graph with
  // rewritten initializers spliced in, then the rest of the model.
  const out = new Counted(sink);
  const extOut = ext === undefined ? undefined : new Counted(ext.sink);
  const source = layout.source;
  const copy = async (start: number, end: number): Promise<void> => {
    for (let at = start; at < end; at += chunk)
      await out.write(await source.read(at, Math.min(chunk, end - at)));
  };
  await copy(0, layout.graph.tagEnd);
  await out.write(encodeVarint(plan.graphLength));
  let cursor = layout.graph.value;
  const externalTensors: TensorName[] = [];
  // Rewritten initializers and re-encoded fields, in file order (they never overlap).
  const steps: { start: number; end: number; write: () => Promise<void> }[] = [];
  for (const p of plan.initializers) {
    if (!p.rewrite) continue;
    steps.push({
      start: p.init.start,
      end: p.init.end,
      write: async () => {
        await out.write(
          lengthPrefix(
            FIELD.graph.initializer,
            p.keep.byteLength + p.dataFields.byteLength + (p.external ? 0 : p.byteLength),
          ),
        );
        await out.write(p.keep);
        await out.write(p.dataFields);
        if (p.external) externalTensors.push(p.init.name);
        await writePayload(
          p.init.name,
          p.replacement ?? p.init.data,
          p.byteLength,
          p.external ? (extOut as Counted) : out,
          chunk,
          fail,
        );
      },
    });
  }
  for (const s of plan.splices) steps.push({ start: s.start, end: s.end, write: () => out.write(s.bytes) });
  steps.sort((a, b) => a.start - b.start);
  for (const step of steps) {
    await copy(cursor, step.start);
    cursor = step.end;
    await step.write();
  }
  await copy(cursor, layout.graph.end);
  for (const a of plan.added) {
    await out.write(a.head);
    await writePayload(a.name, a.data, a.byteLength, out, chunk, fail);
  }
  await copy(layout.graph.end, source.size);

  if (out.bytes !== plan.modelBytes || (extOut?.bytes ?? 0) !== plan.externalBytes) {
    fail(
      `wrote ${out.bytes} + ${extOut?.bytes ?? 0} bytes, planned ${plan.modelBytes} + ${plan.externalBytes}`,
    );
  }
  await sink.close();
  await ext?.sink.close();
  return { modelBytes: out.bytes, externalBytes: extOut?.bytes ?? 0, externalTensors };
}

function checkReplacements(
  original: OnnxCheckpoint,
  replacements: ReadonlyMap<TensorName, OnnxReplacement>,
  edits: OnnxGraphEdits,
  fail: (problem: string) => never,
): void {
  const byName = new Map(original.layout.initializers.map((i) => [i.name, i]));
  const sized = (
    name: TensorName,
    data: OnnxReplacement,
    dims: readonly number[] | undefined,
    label = `the replacement for '${name}'`,
  ) => {
    const entry = original.tensors.get(name);
    if (entry === undefined) return;
    const shape = dims ?? entry.shape;
    const count = elementCount(shape);
    if (count === undefined || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      fail(`new dims [${shape.join(', ')}] for '${name}' are not a shape`);
    const byteLength = (count as number) * dtypeBytes(entry.dtype);
    if (data instanceof Uint8Array && data.byteLength !== byteLength) {
      fail(
        `${label} is ${data.byteLength} bytes, but ${entry.dtype} [${shape.join(', ')}] takes ${byteLength}`,
      );
    }
  };
  for (const [name, data] of replacements) {
    const init = byName.get(name);
    if (init === undefined) fail(`cannot replace '${name}': the model has no initializer of that name`);
    else if (!init.exposed) fail(`cannot replace '${name}': its data type is not one we read`);
    sized(name, data, edits.dims?.get(name));
  }
  for (const name of edits.dims?.keys() ?? [])
    if (!replacements.has(name)) fail(`new dims for '${name}' need its new data in the replacements`);
  const names = new Set<string>([...byName.keys(), ...original.nodes.flatMap((n) => n.outputs)]);
  for (const a of edits.added ?? []) {
    if (!byName.get(a.like)?.exposed)
      fail(`added initializer '${a.name}' is like '${a.like}', which is not an initializer we read`);
    if (names.has(a.name))
      fail(`cannot add initializer '${a.name}': the graph already has a value of that name`);
    names.add(a.name);
    sized(a.like, a.data, a.dims, `the data of added initializer '${a.name}'`);
  }
  for (const [node, inputs] of edits.nodeInputs ?? []) {
    const n = original.nodes[node];
    for (const i of inputs.keys())
      if (n === undefined || i >= n.inputs.length) fail(`node ${node} has no input ${i} to point elsewhere`);
  }
  for (const name of edits.outputDims?.keys() ?? [])
    if (!original.outputs.some((o) => o.name === name)) fail(`the graph has no output '${name}'`);
}

function makePlan(
  original: OnnxCheckpoint,
  replacements: ReadonlyMap<TensorName, OnnxReplacement>,
  edits: OnnxGraphEdits,
  { splices, added }: { splices: Splice[]; added: Added[] },
  ext: OnnxExternalDataTarget | undefined,
  allExternal: boolean,
): Plan {
  const layout = original.layout;
  const mode = allExternal ? 'all' : (ext?.tensors ?? 'auto');
  let graphLength = layout.graph.end - layout.graph.value;
  let externalBytes = 0;
  const planned: PlannedInitializer[] = [];
  for (const init of layout.initializers) {
    const replacement = replacements.get(init.name);
    const dims = edits.dims?.get(init.name);
    const movable = init.data !== null; // inline initializers of types we do not read stay as they are
    const external =
      ext !== undefined &&
      movable &&
      (mode === 'all' || init.external || (mode === 'replaced' && replacement !== undefined));
    const rewrite = movable && (replacement !== undefined || init.external || external);
    const entry = original.tensors.get(init.name);
    const keep = dims === undefined ? init.keep : rewriteKeep(init.keep, dims);
    const byteLength =
      dims === undefined || entry === undefined
        ? (init.data?.byteLength ?? 0)
        : (elementCount(dims) ?? 0) * dtypeBytes(entry.dtype);
    let dataFields: Uint8Array = new Uint8Array(0);
    let fieldBytes = init.end - init.start;
    if (rewrite && ext !== undefined && external) {
      dataFields = externalFields(ext.location, externalBytes, byteLength);
      externalBytes += byteLength;
      fieldBytes = lengthDelimited(keep.byteLength + dataFields.byteLength);
    } else if (rewrite) {
      dataFields = lengthPrefix(FIELD.tensor.rawData, byteLength);
      fieldBytes = lengthDelimited(keep.byteLength + dataFields.byteLength + byteLength);
    }
    graphLength += fieldBytes - (init.end - init.start);
    planned.push({
      init,
      keep,
      byteLength,
      replacement,
      rewrite,
      dataFields,
      external: rewrite && external,
      fieldBytes,
    });
  }
  for (const s of splices) graphLength += s.bytes.byteLength - (s.end - s.start);
  for (const a of added) graphLength += a.head.byteLength + a.byteLength;
  const g = layout.graph;
  const modelBytes = g.tagEnd + varintSize(graphLength) + graphLength + (layout.source.size - g.end);
  return { initializers: planned, splices, added, graphLength, modelBytes, externalBytes };
}

/** Size of a length-delimited field (1-byte tag) whose value is n bytes. */
function lengthDelimited(n: number): number {
  return 1 + varintSize(n) + n;
}

/**
 * external_data (location, offset, length) and data_location = EXTERNAL, in field-number order as
 * protobuf serializers write them. Written with protobufjs's Writer by hand: its schema encoders
 * are generated with eval, which the studio's CSP refuses.
 */
function externalFields(location: string, offset: number, length: number): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [key, value] of [
    ['location', location],
    ['offset', String(offset)],
    ['length', String(length)],
  ] as const) {
    w.uint32((FIELD.tensor.externalData << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string(key)
      .uint32((2 << 3) | 2)
      .string(value)
      .ldelim();
  }
  return w
    .uint32(FIELD.tensor.dataLocation << 3)
    .int32(EXTERNAL)
    .finish();
}

async function writePayload(
  name: TensorName,
  data: OnnxReplacement | { readonly read: TensorData['read'] } | null | undefined,
  byteLength: number,
  out: Counted,
  chunk: number,
  fail: (problem: string) => never,
): Promise<void> {
  if (data === undefined || data === null) return;
  if (data instanceof Uint8Array) {
    await out.write(data);
    return;
  }
  for (let at = 0; at < byteLength; at += chunk) {
    const end = Math.min(byteLength, at + chunk);
    const bytes = await data.read(at, end);
    if (bytes.byteLength !== end - at) {
      fail(`the data for '${name}' gave ${bytes.byteLength} bytes for its range [${at}, ${end})`);
    }
    await out.write(bytes);
  }
}

/** A sink that counts what went through it. */
class Counted {
  bytes = 0;
  constructor(private readonly sink: ByteSink) {}
  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength === 0) return;
    this.bytes += bytes.byteLength;
    await this.sink.write(bytes);
  }
}
