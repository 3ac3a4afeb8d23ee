// Plan: write each fixture back with some initializers replaced (bytes and TensorData, raw_data and
// typed-field originals, external originals), re-open the output, and check that the replaced
// tensors have the new bytes, the others the old ones, and that nothing else changed — byte for byte
// outside the spliced initializers, and field for field when both models are decoded with
// protobufjs. Then external-data output (each mode, and the automatic switch past `inlineLimit`),
// streaming in bounded pieces, and the writer's contract errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isFormatError } from '../errors';
import { MemorySink, type ByteSink } from '../sink';
import { bytesSource, type ByteSource } from '../source';
import { readTensor, tensorName, type TensorName } from '../tensor';
import { openOnnx, type OnnxCheckpoint } from './reader';
import { ModelProto, TensorProto, TO_OBJECT } from './schema';
import { concat } from './testing';
import { writeOnnx, type OnnxReplacement, type WriteOnnxOptions } from './writer';

const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
const fixtureSource = (name: string): ByteSource => bytesSource(fixture(name), name);

const FIXTURES: Record<string, string[]> = {
  'mlp.onnx': [],
  'typed.onnx': [],
  'external.onnx': ['weights.bin'],
};

function open(name: string): Promise<OnnxCheckpoint> {
  return openOnnx(fixtureSource(name), (FIXTURES[name] ?? []).map(fixtureSource));
}

/** Deterministic new bytes for a tensor: its old bytes, each + 1 + index. */
async function newBytes(ckpt: OnnxCheckpoint, name: string): Promise<Uint8Array<ArrayBuffer>> {
  const entry = ckpt.tensors.get(tensorName(name));
  if (!entry) throw new Error(`${name} missing`);
  const old = await readTensor(entry);
  return old.map((b, i) => (b + 1 + i) & 0xff);
}

async function write(
  ckpt: OnnxCheckpoint,
  replacements: ReadonlyMap<TensorName, OnnxReplacement>,
  options: WriteOnnxOptions = {},
) {
  const sink = new MemorySink('out.onnx');
  const result = await writeOnnx(ckpt, replacements, sink, options);
  return { bytes: sink.bytes(), result };
}

/** The graph's bytes with the given initializers' fields cut out, plus what lies around the graph. */
function skeleton(ckpt: OnnxCheckpoint, bytes: Uint8Array, cut: ReadonlySet<string>): Uint8Array {
  const { graph, initializers } = ckpt.layout;
  const parts: Uint8Array[] = [bytes.subarray(0, graph.tagEnd)];
  let at = graph.value;
  for (const init of initializers) {
    if (!cut.has(init.name)) continue;
    parts.push(bytes.subarray(at, init.start));
    at = init.end;
  }
  parts.push(bytes.subarray(at, graph.end), bytes.subarray(graph.end));
  return concat(parts);
}

/** The whole model decoded by protobufjs, with the named initializers' data fields dropped. */
function decoded(bytes: Uint8Array, dropData: ReadonlySet<string>): unknown {
  const model = ModelProto.toObject(ModelProto.decode(bytes), { ...TO_OBJECT, bytes: Array }) as {
    graph: { initializer: Record<string, unknown>[] };
  };
  for (const t of model.graph.initializer) {
    if (!dropData.has(t['name'] as string)) continue;
    for (const f of [
      'raw_data',
      'float_data',
      'int32_data',
      'int64_data',
      'external_data',
      'data_location',
    ]) {
      delete t[f];
    }
  }
  return model;
}

describe.each([
  ['mlp.onnx', ['conv.weight', 'fc.bias']],
  ['typed.onnx', ['w_half', 'shape_i64', 'scale']],
  ['external.onnx', ['fc.weight']],
])('rewriting %s', (file, replaced) => {
  it('replaces the chosen initializers and keeps everything else', async () => {
    const before = await open(file);
    const replacements = new Map<TensorName, OnnxReplacement>();
    for (const [i, name] of replaced.entries()) {
      const bytes = await newBytes(before, name);
      // Alternate plain bytes and lazy TensorData replacements.
      replacements.set(tensorName(name), i % 2 === 0 ? bytes : { read: async (s, e) => bytes.slice(s, e) });
    }
    const { bytes, result } = await write(before, replacements);
    expect(result.modelBytes).toBe(bytes.byteLength);
    expect(result.externalBytes).toBe(0);

    const after = await openOnnx(bytesSource(bytes, 'out.onnx'));
    expect([...after.tensors.keys()]).toEqual([...before.tensors.keys()]);
    for (const [name, entry] of before.tensors) {
      const now = after.tensors.get(name);
      expect(now?.dtype).toBe(entry.dtype);
      expect(now?.shape).toEqual(entry.shape);
      const want = replaced.includes(name) ? await newBytes(before, name) : await readTensor(entry);
      expect([...(await readTensor(now!))], name).toEqual([...want]);
    }
    expect(after.skipped).toEqual(before.skipped);
    expect(after.inputs).toEqual(before.inputs);
    expect(after.outputs).toEqual(before.outputs);

    // Byte for byte outside the re-encoded initializers (external originals are all re-encoded: inlined).
    const original = fixture(file);
    const cut = new Set(
      before.layout.initializers.filter((i) => i.external || replaced.includes(i.name)).map((i) => i.name),
    );
    expect(
      Buffer.from(skeleton(after, bytes, cut)).equals(Buffer.from(skeleton(before, original, cut))),
    ).toBe(true);
    // Field for field, decoded: only the re-encoded initializers' data fields differ.
    expect(decoded(bytes, cut)).toEqual(decoded(original, cut));
  });
});

describe('without replacements', () => {
  it.each(['mlp.onnx', 'typed.onnx'])('%s is written back byte for byte', async (file) => {
    const { bytes } = await write(await open(file), new Map());
    expect(Buffer.from(bytes).equals(Buffer.from(fixture(file)))).toBe(true);
  });

  it('external.onnx with external data written the same way reproduces both files byte for byte', async () => {
    const weights = new MemorySink('weights.bin');
    const sink = new MemorySink('external.onnx');
    const result = await writeOnnx(await open('external.onnx'), new Map(), sink, {
      externalData: { sink: weights, location: 'weights.bin' },
    });
    expect(Buffer.from(sink.bytes()).equals(Buffer.from(fixture('external.onnx')))).toBe(true);
    expect(Buffer.from(weights.bytes()).equals(Buffer.from(fixture('weights.bin')))).toBe(true);
    expect(result.externalTensors).toEqual(['fc.weight', 'fc.bias', 'extra.half', 'extra.steps']);
  });

  it('external.onnx without an external-data target is written inline', async () => {
    const before = await open('external.onnx');
    const { bytes } = await write(before, new Map());
    const after = await openOnnx(bytesSource(bytes, 'inline.onnx'));
    expect(after.files).toEqual(['inline.onnx']);
    expect(after.layout.initializers.every((i) => !i.external)).toBe(true);
    for (const [name, entry] of before.tensors) {
      expect([...(await readTensor(after.tensors.get(name)!))]).toEqual([...(await readTensor(entry))]);
    }
  });
});

describe('external data output', () => {
  async function roundTrip(
    file: string,
    options: (ext: MemorySink) => WriteOnnxOptions,
    replace: string[] = [],
  ) {
    const before = await open(file);
    const replacements = new Map<TensorName, OnnxReplacement>();
    for (const name of replace) replacements.set(tensorName(name), await newBytes(before, name));
    const ext = new MemorySink('data.bin');
    const { bytes, result } = await write(before, replacements, options(ext));
    const after = await openOnnx(bytesSource(bytes, 'out.onnx'), [bytesSource(ext.bytes(), 'data.bin')]);
    for (const [name, entry] of before.tensors) {
      const want = replace.includes(name) ? await newBytes(before, name) : await readTensor(entry);
      expect([...(await readTensor(after.tensors.get(name)!))], name).toEqual([...want]);
    }
    expect(result.externalBytes).toBe(ext.bytes().byteLength);
    return { before, after, result };
  }

  it("'replaced' puts the replaced initializers in the external file and keeps the others inline", async () => {
    const { after, result } = await roundTrip(
      'mlp.onnx',
      (sink) => ({ externalData: { sink, location: 'data.bin', tensors: 'replaced' } }),
      ['fc.weight'],
    );
    expect(result.externalTensors).toEqual(['fc.weight']);
    expect(after.tensors.get(tensorName('fc.weight'))?.file).toBe('data.bin');
    expect(after.tensors.get(tensorName('conv.weight'))?.file).toBe('out.onnx');
    expect(after.files).toEqual(['out.onnx', 'data.bin']);
  });

  it("'all' moves every readable initializer; strings stay inline", async () => {
    const { before, after, result } = await roundTrip(
      'typed.onnx',
      (sink) => ({ externalData: { sink, location: 'data.bin', tensors: 'all' } }),
      ['w_bf16'],
    );
    expect(result.externalTensors).toEqual([...before.tensors.keys()]);
    expect(after.layout.initializers.find((i) => i.name === 'vocab')?.external).toBe(false);
    expect(after.skipped.map((s) => s.name)).toEqual(['vocab']);
  });

  it("'auto' stays inline under the limit and goes external past it", async () => {
    const under = await roundTrip('mlp.onnx', (sink) => ({ externalData: { sink, location: 'data.bin' } }));
    expect(under.result.externalBytes).toBe(0);
    const over = await roundTrip('mlp.onnx', (sink) => ({
      externalData: { sink, location: 'data.bin' },
      inlineLimit: 1000,
    }));
    expect(over.result.externalTensors).toEqual(['conv.weight', 'conv.bias', 'fc.weight', 'fc.bias']);
    expect(over.result.modelBytes).toBeLessThanOrEqual(1000);
  });

  it('a model past the limit with no external-data target is a write error that says what to do', async () => {
    const err = await write(await open('mlp.onnx'), new Map(), { inlineLimit: 1000 }).catch(
      (e: unknown) => e,
    );
    expect(isFormatError(err, 'write')).toBe(true);
    expect(String(err)).toMatch(/externalData/);
  });

  it('a model past the limit even with external data is a write error', async () => {
    const err = await write(await open('mlp.onnx'), new Map(), {
      externalData: { sink: new MemorySink(), location: 'd.bin' },
      inlineLimit: 100,
    }).catch((e: unknown) => e);
    expect(isFormatError(err, 'write')).toBe(true);
  });
});

describe('streaming', () => {
  it('writes in pieces no larger than chunkBytes when replacements are lazy', async () => {
    const before = await open('mlp.onnx');
    const bytes = await newBytes(before, 'fc.weight');
    const sizes: number[] = [];
    const sink: ByteSink & { inner: MemorySink } = {
      name: 'out.onnx',
      inner: new MemorySink(),
      async write(b) {
        sizes.push(b.byteLength);
        await this.inner.write(b);
      },
      close: async () => {},
    };
    await writeOnnx(
      before,
      new Map([[tensorName('fc.weight'), { read: async (s, e) => bytes.slice(s, e) }]]),
      sink,
      {
        chunkBytes: 64,
      },
    );
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
    const after = await openOnnx(bytesSource(sink.inner.bytes(), 'out.onnx'));
    expect([...(await readTensor(after.tensors.get(tensorName('fc.weight'))!))]).toEqual([...bytes]);
  });

  it('closes the sinks it wrote', async () => {
    let closed = 0;
    const make = (name: string): ByteSink => ({
      name,
      write: async () => {},
      close: async () => void closed++,
    });
    await writeOnnx(await open('mlp.onnx'), new Map(), make('a'), {
      externalData: { sink: make('b'), location: 'b' },
    });
    expect(closed).toBe(2);
  });
});

describe('writer errors', () => {
  const cases: [
    string,
    (c: OnnxCheckpoint) => ReadonlyMap<TensorName, OnnxReplacement>,
    WriteOnnxOptions?,
  ][] = [
    ['a replacement of the wrong size', () => new Map([[tensorName('conv.bias'), new Uint8Array(7)]])],
    ['a replacement of an unknown initializer', () => new Map([[tensorName('nope'), new Uint8Array(8)]])],
    [
      'TensorData that returns short reads',
      () => new Map([[tensorName('conv.bias'), { read: async () => new Uint8Array(1) }]]),
    ],
    [
      'a location with a directory',
      () => new Map(),
      { externalData: { sink: new MemorySink(), location: '../x.bin', tensors: 'all' } },
    ],
  ];
  it.each(cases)('%s', async (_what, replacements, options) => {
    const ckpt = await open('mlp.onnx');
    const err = await write(ckpt, replacements(ckpt), options).catch((e: unknown) => e);
    expect(isFormatError(err, 'write'), String(err)).toBe(true);
  });

  it('a replacement of a skipped (string) initializer', async () => {
    const ckpt = await open('typed.onnx');
    const err = await write(ckpt, new Map([[tensorName('vocab'), new Uint8Array(0)]])).catch(
      (e: unknown) => e,
    );
    expect(isFormatError(err, 'write')).toBe(true);
  });

  it('the rewritten TensorProto keeps name, dims, data_type and doc_string', async () => {
    const ckpt = await open('mlp.onnx');
    const { bytes } = await write(ckpt, new Map([[tensorName('fc.bias'), await newBytes(ckpt, 'fc.bias')]]));
    const after = await openOnnx(bytesSource(bytes, 'out.onnx'));
    const init = after.layout.initializers.find((i) => i.name === 'fc.bias')!;
    const proto = TensorProto.toObject(
      TensorProto.decode(bytes.subarray(init.start + 2, init.end)),
      TO_OBJECT,
    );
    expect(proto).toMatchObject({ name: 'fc.bias', dims: [3], data_type: 1 });
  });
});
