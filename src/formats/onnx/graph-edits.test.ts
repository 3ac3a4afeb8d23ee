// Plan: writeOnnx's structural edits on a small model: an initializer with new dims, an added
// initializer, a node input pointed at it, a symbolic output dim — read back by openOnnx with every
// other field as it was; and each misuse refused as a 'write' error naming what is wrong.
import { describe, expect, it } from 'vitest';
import { MemorySink } from '../sink';
import { bytesSource } from '../source';
import { readTensor, tensorName } from '../tensor';
import { openOnnx, writeOnnx, type OnnxGraphEdits } from './index';
import { modelBytes, tensorProto } from './testing';

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const model = () =>
  openOnnx(
    bytesSource(
      modelBytes(
        [
          tensorProto({ name: 'w', dims: [2, 2], dataType: 1, raw: f32([1, 2, 3, 4]), docString: 'kept' }),
          tensorProto({ name: 'shape', dims: [1], dataType: 7, int64Data: [4] }),
        ],
        {
          graph: {
            node: [{ name: 'add', op_type: 'Add', input: ['x', 'w'], output: ['y'], doc_string: 'node doc' }],
          },
        },
      ),
      'm.onnx',
    ),
  );
const values = async (m: Awaited<ReturnType<typeof model>>, name: string) =>
  Array.from(new Float32Array((await readTensor(m.tensors.get(tensorName(name))!)).buffer));

async function write(edits: OnnxGraphEdits, replacements = new Map<string, Uint8Array>()) {
  const original = await model();
  const sink = new MemorySink('out.onnx');
  await writeOnnx(original, replacements as never, sink, { edits });
  return openOnnx(bytesSource(sink.bytes(), 'out.onnx'));
}

describe('writeOnnx edits', () => {
  it('new dims, an added initializer, a renamed node input and a symbolic output dim', async () => {
    const out = await write(
      {
        dims: new Map([[tensorName('w'), [1, 4]]]),
        added: [{ name: tensorName('w:bound'), like: tensorName('w'), dims: [4], data: f32([5, 6, 7, 8]) }],
        nodeInputs: new Map([[0, new Map([[1, 'w:bound']])]]),
        outputDims: new Map([['y', new Map([[1, 'n']])]]),
      },
      new Map([['w', f32([9, 8, 7, 6])]]),
    );
    expect(out.tensors.get(tensorName('w'))?.shape).toEqual([1, 4]);
    expect(await values(out, 'w')).toEqual([9, 8, 7, 6]);
    expect(out.tensors.get(tensorName('w:bound'))).toMatchObject({ dtype: 'F32', shape: [4] });
    expect(await values(out, 'w:bound')).toEqual([5, 6, 7, 8]);
    expect(out.tensors.get(tensorName('shape'))?.dtype).toBe('I64');
    expect(out.nodes).toEqual([
      { name: 'add', opType: 'Add', domain: '', inputs: ['x', 'w:bound'], outputs: ['y'] },
    ]);
    expect(out.outputs[0]).toMatchObject({ name: 'y', elemType: 'F32', shape: ['batch', 'n'] });
    expect(out.inputs.map((i) => i.name)).toEqual(['x']);
  });

  it.each([
    [{ dims: new Map([[tensorName('w'), [4]]]) }, "new dims for 'w' need its new data"],
    [
      { added: [{ name: tensorName('y'), like: tensorName('w'), dims: [4], data: f32([1, 2, 3, 4]) }] },
      "cannot add initializer 'y': the graph already has a value of that name",
    ],
    [
      { added: [{ name: tensorName('v'), like: tensorName('w'), dims: [3], data: f32([1, 2, 3, 4]) }] },
      "the data of added initializer 'v' is 16 bytes, but F32 [3] takes 12",
    ],
    [{ nodeInputs: new Map([[0, new Map([[2, 'w']])]]) }, 'node 0 has no input 2'],
    [{ outputDims: new Map([['z', new Map([[0, 'n']])]]) }, "the graph has no output 'z'"],
  ] as [OnnxGraphEdits, string][])('refuses %#: %s', async (edits, message) => {
    await expect(write(edits)).rejects.toThrow(message);
  });
});
