// Plan: what the writer writes is what the reader reads back, byte for byte: every dtype (BOOL,
// I64 and F64 included), empty and scalar tensors, metadata as a Map or a record, tensors fed in
// many chunks; the header is laid out as the Rust crate lays it out (compact JSON, __metadata__
// first, offsets in spec order, space padding to 8 bytes). Each misuse of the streaming writer is a
// 'write' error. A property test round-trips random tensor sets cut into random chunks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPE_BYTES, elementCount, type DType } from '../dtype';
import { MemorySink } from '../sink';
import { bytesSource } from '../source';
import { readTensor, tensorName, type Checkpoint } from '../tensor';
import { openSafetensors } from './reader';
import { expectFormatError, safetensorsBytes } from './testing';
import { createSafetensorsWriter, writeSafetensors, type TensorSpec, type TensorWithBytes } from './writer';

const OUT = 'out.safetensors';
const DTYPES = Object.keys(DTYPE_BYTES) as DType[];

function tensor(name: string, dtype: DType, shape: number[], seed = 1): TensorWithBytes {
  const length = elementCount(shape)! * DTYPE_BYTES[dtype];
  return { name, dtype, shape, bytes: Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17) & 0xff) };
}

async function writeToMemory(tensors: readonly TensorWithBytes[], metadata?: Record<string, string>) {
  const sink = new MemorySink(OUT);
  await writeSafetensors(sink, tensors, metadata);
  return sink.bytes();
}

async function expectSameTensors(checkpoint: Checkpoint, tensors: readonly TensorWithBytes[]) {
  expect([...checkpoint.tensors.keys()]).toEqual(tensors.map((t) => t.name));
  for (const t of tensors) {
    const entry = checkpoint.tensors.get(tensorName(t.name))!;
    expect(entry).toMatchObject({ dtype: t.dtype, shape: t.shape, byteLength: t.bytes.byteLength });
    expect(await readTensor(entry)).toEqual(t.bytes);
  }
}

describe('writeSafetensors → openSafetensors', () => {
  it.each(DTYPES)('round-trips %s, as a matrix, a scalar and an empty tensor', async (dtype) => {
    const tensors = [tensor('m', dtype, [3, 5]), tensor('s', dtype, [], 2), tensor('e', dtype, [4, 0])];
    const checkpoint = await openSafetensors(bytesSource(await writeToMemory(tensors), OUT));
    await expectSameTensors(checkpoint, tensors);
  });

  it('round-trips many dtypes in one file, in the order given, with metadata', async () => {
    const tensors = DTYPES.map((dtype, i) => tensor(`layer.${i}.${dtype}`, dtype, [i + 1, 2], i));
    const metadata = { format: 'pt', '': 'empty key', __proto__: 'not a prototype', note: 'ünï ✓' };
    const checkpoint = await openSafetensors(bytesSource(await writeToMemory(tensors, metadata), OUT));
    await expectSameTensors(checkpoint, tensors);
    expect(Object.fromEntries(checkpoint.metadata)).toEqual(metadata);
  });

  it('takes metadata as a Map (so a checkpoint can be written back with its own)', async () => {
    const metadata = new Map([['format', 'pt']]);
    const sink = new MemorySink(OUT);
    await writeSafetensors(sink, [tensor('a', 'U8', [2])], metadata);
    expect((await openSafetensors(bytesSource(sink.bytes(), OUT))).metadata).toEqual(metadata);
  });

  it('writes a file with no tensors', async () => {
    const bytes = await writeToMemory([]);
    expect(new TextDecoder().decode(bytes.subarray(8))).toBe('{}      ');
    expect((await openSafetensors(bytesSource(bytes, OUT))).tensors.size).toBe(0);
  });

  it('keeps names like __proto__ and constructor as tensor names', async () => {
    const tensors = [
      tensor('__proto__', 'F32', [1]),
      tensor('constructor', 'F16', [2]),
      tensor('名前/ü"\\', 'I8', [1]),
    ];
    await expectSameTensors(await openSafetensors(bytesSource(await writeToMemory(tensors), OUT)), tensors);
  });
});

describe('the header, laid out as the Rust crate does', () => {
  it('is compact JSON with __metadata__ first and offsets in spec order, padded with spaces to 8 bytes', async () => {
    const bytes = await writeToMemory([tensor('b', 'F32', [2]), tensor('a', 'I64', [])], { format: 'pt' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"a":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}';
    expect(headerLength % 8).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))).toBe(
      json.padEnd(headerLength, ' '),
    );
    expect(headerLength - json.length).toBeLessThan(8);
    expect(bytes.byteLength).toBe(8 + headerLength + 16);
  });

  it.each([
    ['"attn.0", no padding needed', 'attn.0', [1, 2, 3], 0],
    ['"attn0", 7 spaces of padding', 'attn0', [1, 1, 2, 3], 7],
  ])("gives the bytes of the Rust crate's own serialization tests: %s", async (_, name, shape, spaces) => {
    const values = new Float32Array([0, 1, 2, 3, 4, 5]);
    const bytes = await writeToMemory([{ name, dtype: 'F32', shape, bytes: new Uint8Array(values.buffer) }]);
    const json = `{"${name}":{"dtype":"F32","shape":${JSON.stringify(shape)},"data_offsets":[0,24]}}${' '.repeat(spaces)}`;
    expect(bytes).toEqual(safetensorsBytes(json, new Uint8Array(values.buffer)));
  });

  it("gives the bytes of the Rust crate's test of an empty file with metadata", async () => {
    const bytes = await writeToMemory([], { framework: 'pt' });
    expect(bytes).toEqual(safetensorsBytes('{"__metadata__":{"framework":"pt"}}     '));
  });

  it('omits __metadata__ when there is none', async () => {
    const bytes = await writeToMemory([tensor('a', 'U8', [1])], {});
    expect(new TextDecoder().decode(bytes.subarray(8)).startsWith('{"a":')).toBe(true);
  });

  it('is written before any tensor byte', async () => {
    const sink = new MemorySink(OUT);
    await createSafetensorsWriter(sink, [tensor('a', 'F32', [4])]);
    const headerLength = Number(new DataView(sink.bytes().buffer).getBigUint64(0, true));
    expect(sink.bytes().byteLength).toBe(8 + headerLength);
  });
});

describe('createSafetensorsWriter streams', () => {
  it('takes each tensor in several chunks, of any size, empty ones included', async () => {
    const tensors = [tensor('a', 'F32', [5, 3]), tensor('b', 'BF16', [7]), tensor('c', 'BOOL', [3])];
    const sink = new MemorySink(OUT);
    const writer = await createSafetensorsWriter(sink, tensors);
    for (const t of tensors) {
      for (let at = 0; at < t.bytes.byteLength; at += 7) {
        await writer.write(t.name, t.bytes.subarray(at, at + 7));
        await writer.write(t.name, new Uint8Array(0));
      }
    }
    await writer.close();
    await expectSameTensors(await openSafetensors(bytesSource(sink.bytes(), OUT)), tensors);
  });

  it('lets 0-byte tensors be skipped or written with an empty chunk', async () => {
    const tensors = [
      tensor('e1', 'F32', [0]),
      tensor('a', 'U8', [2]),
      tensor('e2', 'I64', [3, 0]),
      tensor('e3', 'F16', [0]),
    ];
    const sink = new MemorySink(OUT);
    const writer = await createSafetensorsWriter(sink, tensors);
    await writer.write('a', tensors[1]!.bytes);
    await writer.write('e2', new Uint8Array(0));
    await writer.close();
    await expectSameTensors(await openSafetensors(bytesSource(sink.bytes(), OUT)), tensors);
  });

  it('closes the sink on close', async () => {
    let closed = false;
    const sink = new MemorySink(OUT);
    sink.close = async () => {
      closed = true;
    };
    const writer = await createSafetensorsWriter(sink, []);
    await writer.close();
    expect(closed).toBe(true);
  });
});

describe('the writer refuses', () => {
  const specs: TensorSpec[] = [
    { name: 'a', dtype: 'F32', shape: [2] },
    { name: 'b', dtype: 'U8', shape: [3] },
  ];
  const start = () => createSafetensorsWriter(new MemorySink(OUT), specs);

  it('a tensor that is not in the specs (write)', async () => {
    const writer = await start();
    const error = await expectFormatError(writer.write('c', new Uint8Array(1)), 'write', OUT);
    expect(error.problem).toBe('tensor "c" is not in the specs');
  });

  it('tensors out of spec order (write)', async () => {
    const writer = await start();
    const error = await expectFormatError(writer.write('b', new Uint8Array(3)), 'write', OUT);
    expect(error.problem).toBe(
      'tensor "a" got 0 of its 8 bytes before tensor "b" (tensors come in spec order)',
    );
  });

  it('a tensor written again after the next one began (write)', async () => {
    const writer = await start();
    await writer.write('a', new Uint8Array(8));
    await writer.write('b', new Uint8Array(1));
    await expectFormatError(writer.write('a', new Uint8Array(0)), 'write', OUT);
  });

  it('more bytes than a tensor holds, in one chunk or over several (write)', async () => {
    const writer = await start();
    await expectFormatError(writer.write('a', new Uint8Array(9)), 'write', OUT);
    await writer.write('a', new Uint8Array(6));
    const error = await expectFormatError(writer.write('a', new Uint8Array(3)), 'write', OUT);
    expect(error.problem).toBe('tensor "a" is 8 bytes, but 9 were written');
  });

  it('a tensor left short when the next begins (write)', async () => {
    const writer = await start();
    await writer.write('a', new Uint8Array(5));
    await expectFormatError(writer.write('b', new Uint8Array(3)), 'write', OUT);
  });

  it('closing before every tensor is complete (write)', async () => {
    const writer = await start();
    await writer.write('a', new Uint8Array(8));
    await writer.write('b', new Uint8Array(2));
    const error = await expectFormatError(writer.close(), 'write', OUT);
    expect(error.problem).toBe('tensor "b" got 2 of its 3 bytes at close (tensors come in spec order)');
  });

  it('closing with tensors never started (write)', async () => {
    const writer = await start();
    await expectFormatError(writer.close(), 'write', OUT);
  });

  it('writing or closing after close (write)', async () => {
    const writer = await createSafetensorsWriter(new MemorySink(OUT), []);
    await writer.close();
    await expectFormatError(writer.write('a', new Uint8Array(0)), 'write', OUT);
    await expectFormatError(writer.close(), 'write', OUT);
  });

  it('in writeSafetensors, bytes that do not match the shape (write)', async () => {
    const wrong = { ...tensor('a', 'F32', [2]), bytes: new Uint8Array(7) };
    await expectFormatError(
      writeSafetensors(new MemorySink(OUT), [wrong, tensor('b', 'U8', [1])]),
      'write',
      OUT,
    );
    await expectFormatError(writeSafetensors(new MemorySink(OUT), [wrong]), 'write', OUT);
  });

  describe('specs, before writing anything', () => {
    const refuses = async (bad: TensorSpec[], code: Parameters<typeof expectFormatError>[1]) => {
      const sink = new MemorySink(OUT);
      await expectFormatError(createSafetensorsWriter(sink, bad), code, OUT);
      expect(sink.bytes().byteLength).toBe(0);
    };

    it('a name given twice (duplicate-name)', async () => {
      await refuses([...specs, { name: 'a', dtype: 'U8', shape: [] }], 'duplicate-name');
    });

    it('a tensor named __metadata__ (write)', async () => {
      await refuses([{ name: '__metadata__', dtype: 'U8', shape: [] }], 'write');
    });

    it('an unknown dtype (unknown-dtype)', async () => {
      await refuses([{ name: 'a', dtype: 'F4' as DType, shape: [] }], 'unknown-dtype');
    });

    it.each([[[-1]], [[1.5]], [[Number.NaN]], [[2 ** 27, 2 ** 27]]])(
      'shape %j (bad-shape)',
      async (shape) => {
        await refuses([{ name: 'a', dtype: 'U8', shape }], 'bad-shape');
      },
    );
  });
});

describe('property: random tensor sets round-trip', () => {
  const arbTensor = fc
    .record({
      name: fc.string({ unit: 'binary', maxLength: 12 }).filter((n) => n !== '__metadata__'),
      dtype: fc.constantFrom(...DTYPES),
      shape: fc.array(fc.nat(5), { maxLength: 3 }),
      seed: fc.nat(255),
    })
    .map(({ name, dtype, shape, seed }) => tensor(name, dtype, shape, seed));
  const arbTensors = fc.uniqueArray(arbTensor, { selector: (t) => t.name, maxLength: 8 });
  const arbMetadata = fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), {
    selector: ([key]) => key,
    maxLength: 4,
  });

  it('write in random chunks → read gives the same names, order, dtypes, shapes, bytes and metadata', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbTensors,
        arbMetadata,
        fc.integer({ min: 1, max: 40 }),
        async (tensors, entries, chunk) => {
          const sink = new MemorySink(OUT);
          const metadata = new Map(entries);
          const writer = await createSafetensorsWriter(sink, tensors, metadata);
          for (const t of tensors) {
            for (let at = 0; at < t.bytes.byteLength; at += chunk)
              await writer.write(t.name, t.bytes.subarray(at, at + chunk));
          }
          await writer.close();
          const checkpoint = await openSafetensors(bytesSource(sink.bytes(), OUT));
          await expectSameTensors(checkpoint, tensors);
          expect(checkpoint.metadata).toEqual(metadata);
        },
      ),
      { numRuns: 200 },
    );
  });
});
