// Plan: the eval-free decoder (decode.ts) gives exactly what protobufjs's generated decoder and
// toObject({ longs: Number, enums: Number, arrays: true }) give: on every fixture's ModelProto and
// GraphProto, and on random ModelProtos encoded by protobufjs (graphs with nodes, attributes,
// value infos, initializers with every kind of field); and both refuse the same truncations.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePlain } from './decode';
import { GraphProto, ModelProto, TensorProto, TO_OBJECT } from './schema';
import { walkFields } from './wire';
import type protobuf from 'protobufjs/light.js';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
const reference = (type: protobuf.Type, bytes: Uint8Array) => type.toObject(type.decode(bytes), TO_OBJECT);

describe('decodePlain equals protobufjs', () => {
  for (const name of ['mlp.onnx', 'typed.onnx', 'external.onnx']) {
    it(name, () => {
      const bytes = fixture(name);
      expect(decodePlain(ModelProto, bytes)).toEqual(reference(ModelProto, bytes));
      const graph = walkFields(bytes, 0, bytes.length, true).find((f) => f.id === 7)!;
      const graphBytes = bytes.subarray(graph.value, graph.end);
      expect(decodePlain(GraphProto, graphBytes)).toEqual(reference(GraphProto, graphBytes));
    });
  }

  it('on random models', () => {
    const arbTensor = fc.record(
      {
        dims: fc.array(fc.nat(1000), { maxLength: 3 }),
        data_type: fc.nat(20),
        name: fc.string({ maxLength: 5 }),
        raw_data: fc.uint8Array({ maxLength: 8 }),
        float_data: fc.array(fc.float({ noNaN: true }), { maxLength: 3 }),
        int32_data: fc.array(fc.integer(), { maxLength: 3 }),
        int64_data: fc.array(fc.integer(), { maxLength: 3 }),
        double_data: fc.array(fc.double({ noNaN: true }), { maxLength: 3 }),
        string_data: fc.array(fc.uint8Array({ maxLength: 3 }), { maxLength: 2 }),
        external_data: fc.array(
          fc.record({ key: fc.string({ maxLength: 4 }), value: fc.string({ maxLength: 4 }) }),
          {
            maxLength: 2,
          },
        ),
        data_location: fc.nat(1),
      },
      { requiredKeys: [] },
    );
    const arbValueInfo = fc.record({
      name: fc.string({ maxLength: 4 }),
      type: fc.record({
        tensor_type: fc.record({
          elem_type: fc.nat(16),
          shape: fc.record({
            dim: fc.array(
              fc.oneof(
                fc.record({ dim_value: fc.nat(100) }),
                fc.record({ dim_param: fc.string({ maxLength: 3 }) }),
              ),
              {
                maxLength: 3,
              },
            ),
          }),
        }),
      }),
    });
    const arbNode = fc.record({
      op_type: fc.string({ maxLength: 6 }),
      input: fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
      attribute: fc.array(
        fc.record({
          name: fc.string({ maxLength: 3 }),
          type: fc.nat(10),
          i: fc.integer(),
          f: fc.float({ noNaN: true }),
          ints: fc.array(fc.integer(), { maxLength: 3 }),
        }),
        { maxLength: 2 },
      ),
    });
    const arbModel = fc.record({
      ir_version: fc.nat(10),
      producer_name: fc.string({ maxLength: 6 }),
      opset_import: fc.array(fc.record({ domain: fc.string({ maxLength: 3 }), version: fc.nat(20) }), {
        maxLength: 2,
      }),
      metadata_props: fc.array(
        fc.record({ key: fc.string({ maxLength: 3 }), value: fc.string({ maxLength: 3 }) }),
        {
          maxLength: 2,
        },
      ),
      graph: fc.record({
        name: fc.string({ maxLength: 4 }),
        node: fc.array(arbNode, { maxLength: 3 }),
        initializer: fc.array(arbTensor, { maxLength: 3 }),
        input: fc.array(arbValueInfo, { maxLength: 2 }),
        output: fc.array(arbValueInfo, { maxLength: 2 }),
      }),
    });
    fc.assert(
      fc.property(arbModel, fc.nat(), (model, cut) => {
        const bytes = ModelProto.encode(ModelProto.fromObject(model)).finish();
        expect(decodePlain(ModelProto, bytes)).toEqual(reference(ModelProto, bytes));
        // a truncated copy: both decoders fail, or both give the same
        const short = bytes.subarray(0, cut % (bytes.length + 1));
        let ours: unknown;
        let theirs: unknown;
        try {
          ours = decodePlain(ModelProto, short);
        } catch {
          ours = 'error';
        }
        try {
          theirs = reference(ModelProto, short);
        } catch {
          theirs = 'error';
        }
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('packed and unpacked repeated scalars alike', () => {
    const values = { dims: [1, 2, 300000], float_data: [1.5, -2] };
    const packed = TensorProto.encode(TensorProto.fromObject(values)).finish();
    expect(decodePlain(TensorProto, packed)).toEqual(reference(TensorProto, packed));
    // dims unpacked: tag 1 varint, three times
    const unpacked = new Uint8Array([0x08, 1, 0x08, 2, 0x08, 0xe0, 0xa7, 0x12]);
    expect(decodePlain(TensorProto, unpacked)).toMatchObject({ dims: [1, 2, 300000] });
  });

  it('refuses nesting past 100 levels, as protobufjs does', () => {
    // GraphProto.node[0].attribute[0].g: a graph in a node in a graph …
    let g = new Uint8Array(0);
    for (let i = 0; i < 60; i++) {
      const attr = [...tagged(6, g)]; // AttributeProto.g = 6
      const node = [...tagged(5, new Uint8Array(attr))]; // NodeProto.attribute = 5
      g = new Uint8Array(tagged(1, new Uint8Array(node))); // GraphProto.node = 1
    }
    expect(() => decodePlain(GraphProto, g)).toThrow('max depth exceeded');
  });
});

function tagged(id: number, payload: Uint8Array): number[] {
  const out = [(id << 3) | 2];
  let n = payload.length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return [...out, ...payload];
}
