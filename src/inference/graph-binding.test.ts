// Plan: small graphs laid out as exporters write them, bound to a base and filled from a task's
// weights: by name, by transposed value (MatMul), an Identity-deduplicated initializer split per use,
// a shared initializer split by the nodes' scopes, a head of another class count with the graph's
// output relaxed (and run in onnxruntime-web), refusals naming the initializers, and base weights of
// other sizes never read.
import { describe, expect, it } from 'vitest';
import { openOnnx, type OnnxCheckpoint } from '../formats/onnx';
import { modelBytes, tensorProto } from '../formats/onnx/testing';
import { bytesSource } from '../formats/source';
import { readTensor, tensorName, type Checkpoint } from '../formats/tensor';
import { bindGraph, hashBytes, nodeScope, transposeBytes, type NamedWeight } from './graph-binding';
import { createSession } from './ort';
import { GraphMismatchError, taskOnnx } from './task-onnx';

const bytesOf = (values: readonly number[]) => new Uint8Array(new Float32Array(values).buffer);
const weight = (name: string, shape: number[], values: readonly number[]): NamedWeight => {
  const bytes = bytesOf(values);
  return { name: tensorName(name), dtype: 'F32', shape, data: { read: async (s, e) => bytes.slice(s, e) } };
};
const checkpointOf = (weights: readonly NamedWeight[]): Checkpoint =>
  ({
    format: 'safetensors',
    files: ['base.safetensors'],
    tensors: new Map(weights.map((w) => [w.name, w])),
    metadata: new Map(),
  }) as unknown as Checkpoint;
const init = (name: string, dims: number[], values: readonly number[]) =>
  tensorProto({ name, dims, dataType: 1, raw: bytesOf(values) });
const range = (n: number, scale = 1, offset = 0) => Array.from({ length: n }, (_, i) => offset + i * scale);

async function graphOf(
  inits: Uint8Array[],
  nodes: Record<string, unknown>[],
  outDims: (number | string)[] = ['batch', 3],
): Promise<OnnxCheckpoint> {
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: {
      tensor_type: {
        elem_type: 1,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  });
  const bytes = modelBytes(inits, {
    graph: { node: nodes, input: [valueInfo('x', ['batch', 4])], output: [valueInfo('y', outDims)] },
  });
  return openOnnx(bytesSource(bytes, 'g.onnx'));
}

const floats = async (g: OnnxCheckpoint, name: string) =>
  Array.from(new Float32Array((await readTensor(g.tensors.get(tensorName(name))!)).buffer));

// x [b, 4] → MatMul W^T (onnx::MatMul_1) → + lin.bias → * ln.weight → * ln2.weight (via Identity) → y [b, 3]
const W = range(12, 0.1, -0.5);
const BASE = [
  weight('lin.weight', [3, 4], W),
  weight('lin.bias', [3], [0.1, 0.2, 0.3]),
  weight('ln.weight', [3], [1, 1, 1]),
  weight('ln2.weight', [3], [1, 1, 1]),
];
const exported = () =>
  graphOf(
    [
      init(
        'onnx::MatMul_1',
        [4, 3],
        Array.from(new Float32Array(transposeBytes(bytesOf(W), 3, 4, 4).buffer)),
      ),
      init('lin.bias', [3], [0.1, 0.2, 0.3]),
      init('ln.weight', [3], [1, 1, 1]),
    ],
    [
      { name: 'Identity_0', op_type: 'Identity', input: ['ln.weight'], output: ['ln2.weight'] },
      { name: '/lin/MatMul', op_type: 'MatMul', input: ['x', 'onnx::MatMul_1'], output: ['h'] },
      { name: '/lin/Add', op_type: 'Add', input: ['h', 'lin.bias'], output: ['h2'] },
      { name: '/ln/Mul', op_type: 'Mul', input: ['h2', 'ln.weight'], output: ['h3'] },
      { name: '/ln2/Mul', op_type: 'Mul', input: ['h3', 'ln2.weight'], output: ['y'] },
    ],
  );

describe('bindGraph', () => {
  it('binds by name, by transposed value, and an Identity use of a deduplicated initializer to its own weight', async () => {
    const binding = await bindGraph(await exported(), BASE);
    expect(binding.refused).toEqual([]);
    expect(binding.bound.map((b) => [b.initializer, b.weight, b.transposed, b.rule, b.splitFrom])).toEqual([
      ['onnx::MatMul_1', 'lin.weight', true, 'transpose', undefined],
      ['lin.bias', 'lin.bias', false, 'name', undefined],
      ['ln.weight', 'ln.weight', false, 'name', undefined],
      ['ln2.weight:bound', 'ln2.weight', false, 'identity', 'ln.weight'],
    ]);
    expect(binding.unused).toEqual([]);
  });

  it('fills each use from the task: the transpose, and the split initializer with its own values', async () => {
    const task = [
      weight('lin.weight', [3, 4], range(12, 0.2)),
      weight('lin.bias', [3], [1, 2, 3]),
      weight('ln.weight', [3], [2, 2, 2]),
      weight('ln2.weight', [3], [3, 3, 3]),
    ];
    const bytes = await taskOnnx(await exported(), task, 't', checkpointOf(BASE));
    const filled = await openOnnx(bytesSource(bytes, 't.onnx'));
    expect(await floats(filled, 'onnx::MatMul_1')).toEqual(
      Array.from(new Float32Array(transposeBytes(bytesOf(range(12, 0.2)), 3, 4, 4).buffer)),
    );
    // The Identity node that made ln2.weight reads its own initializer now; /ln/Mul keeps ln.weight.
    expect(await floats(filled, 'ln.weight')).toEqual([2, 2, 2]);
    expect(await floats(filled, 'ln2.weight:bound')).toEqual([3, 3, 3]);
    expect(filled.nodes.map((n) => n.inputs)).toEqual([
      ['ln2.weight:bound'],
      ['x', 'onnx::MatMul_1'],
      ['h', 'lin.bias'],
      ['h2', 'ln.weight'],
      ['h3', 'ln2.weight'],
    ]);
  });

  // One initializer 'shared' (all ones) read by two Mul nodes; the base has two LayerNorm weights of ones.
  const shared = (names: [string, string]) =>
    graphOf(
      [init('shared', [4], [1, 1, 1, 1])],
      [
        { name: names[0], op_type: 'Mul', input: ['x', 'shared'], output: ['h'] },
        { name: names[1], op_type: 'Mul', input: ['h', 'shared'], output: ['y'] },
      ],
      ['batch', 4],
    );
  const norms = [
    weight('bert.encoder.layer.0.output.LayerNorm.weight', [4], [1, 1, 1, 1]),
    weight('bert.encoder.layer.1.output.LayerNorm.weight', [4], [1, 1, 1, 1]),
  ];

  it("splits a shared initializer by its nodes' scopes when several base weights have its values", async () => {
    const graph = await shared([
      '/bert/encoder/layer.0/output/LayerNorm/Mul',
      '/bert/encoder/layer.1/output/LayerNorm/Mul',
    ]);
    const binding = await bindGraph(graph, norms);
    expect(binding.refused).toEqual([]);
    expect(binding.bound.map((b) => [b.initializer, b.weight, b.rule, b.uses])).toEqual([
      ['shared', 'bert.encoder.layer.0.output.LayerNorm.weight', 'scope', [[0, 1]]],
      [
        'bert.encoder.layer.1.output.LayerNorm.weight:bound',
        'bert.encoder.layer.1.output.LayerNorm.weight',
        'scope',
        [[1, 1]],
      ],
    ]);
    const task = [
      weight('bert.encoder.layer.0.output.LayerNorm.weight', [4], [2, 2, 2, 2]),
      weight('bert.encoder.layer.1.output.LayerNorm.weight', [4], [5, 5, 5, 5]),
    ];
    const session = await createSession(await taskOnnx(graph, task, 't', checkpointOf(norms)), {
      provider: 'wasm',
    });
    const { data } = await session.runFeeds([
      { name: 'x', data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] },
    ]);
    await session.release();
    expect(Array.from(data)).toEqual([10, 20, 30, 40]);
  }, 60_000);

  it('refuses a use no rule can tell apart, naming the initializer, the weights and the node', async () => {
    const graph = await shared(['Mul_0', 'Mul_1']);
    const binding = await bindGraph(graph, norms);
    expect(binding.bound).toEqual([]);
    expect(binding.refused).toEqual([
      {
        initializer: 'shared',
        reason:
          "2 weights of the base have its values (bert.encoder.layer.0.output.LayerNorm.weight, bert.encoder.layer.1.output.LayerNorm.weight) and node 'Mul_0' does not say which",
      },
    ]);
    await expect(taskOnnx(graph, norms, 't0', checkpointOf(norms))).rejects.toThrow(
      /g\.onnx does not fit the weights of task t0: 1 graph initializer cannot be bound\. shared: 2 weights of the base/,
    );
  });

  it('refuses a value the exporter computed (a folded BatchNorm), naming it, and reads no base weight of another size', async () => {
    const graph = await graphOf(
      [init('onnx::Conv_7', [4, 3], range(12, 0.3))],
      [{ name: '/conv/MatMul', op_type: 'MatMul', input: ['x', 'onnx::Conv_7'], output: ['y'] }],
    );
    const untouchable: NamedWeight = {
      name: tensorName('big.weight'),
      dtype: 'F32',
      shape: [1000],
      data: { read: () => Promise.reject(new Error('read a weight of another size')) },
    };
    const base = [weight('conv.weight', [3, 4], range(12, 0.1)), untouchable];
    const binding = await bindGraph(graph, base);
    expect(binding.refused).toEqual([
      {
        initializer: 'onnx::Conv_7',
        unbound: true,
        reason: 'no weight of the base has its name or its values (nor their transpose)',
      },
    ]);
    const error = await taskOnnx(graph, base, 't', checkpointOf(base)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphMismatchError);
    expect((error as GraphMismatchError).refused.map((r) => r.initializer)).toEqual(['onnx::Conv_7']);
    expect(String(error)).toMatch(/BatchNorm folded into a Conv/);
  });

  it('reads a base weight of the same size only by its first 4 KiB when its values differ there', async () => {
    const values = range(64 * 32, 0.001);
    const graph = await graphOf(
      [init('onnx::MatMul_9', [32, 64], values)],
      [{ name: '/big/MatMul', op_type: 'MatMul', input: ['x', 'onnx::MatMul_9'], output: ['y'] }],
    );
    const reads: [string, number, number][] = [];
    const tracked = (w: NamedWeight): NamedWeight => ({
      ...w,
      data: { read: (a, b) => (reads.push([w.name, a, b]), w.data.read(a, b)) },
    });
    const mine = Array.from(new Float32Array(transposeBytes(bytesOf(values), 32, 64, 4).buffer));
    const base = [
      tracked(weight('other.weight', [64, 32], range(64 * 32, 0.002))),
      tracked(weight('big.weight', [64, 32], mine)),
    ];
    const binding = await bindGraph(graph, base);
    expect(binding.bound.map((b) => [b.weight, b.rule])).toEqual([['big.weight', 'transpose']]);
    expect(reads).toEqual([
      ['other.weight', 0, 4096],
      ['big.weight', 0, 4096],
      ['big.weight', 0, 8192],
    ]);
  });

  it("replaces a head of another class count and relaxes the graph's output, so the graph runs", async () => {
    const head = range(12, 0.1);
    const graph = await graphOf(
      [init('classifier.weight', [3, 4], head), init('classifier.bias', [3], [0, 0, 0])],
      [
        {
          name: '/classifier/Gemm',
          op_type: 'Gemm',
          input: ['x', 'classifier.weight', 'classifier.bias'],
          output: ['y'],
          attribute: [{ name: 'transB', type: 2, i: 1 }],
        },
      ],
    );
    const base = [weight('classifier.weight', [3, 4], head), weight('classifier.bias', [3], [0, 0, 0])];
    const task = [
      weight('classifier.weight', [5, 4], range(20, 1)),
      weight('classifier.bias', [5], [1, 1, 1, 1, 1]),
    ];
    const bytes = await taskOnnx(graph, task, 't', checkpointOf(base));
    const filled = await openOnnx(bytesSource(bytes, 't.onnx'));
    expect(filled.tensors.get(tensorName('classifier.weight'))?.shape).toEqual([5, 4]);
    expect(filled.outputs[0]?.shape).toEqual(['batch', 'y_dim1']);
    const session = await createSession(bytes, { provider: 'wasm' });
    const { data, dims } = await session.runFeeds([
      { name: 'x', data: new Float32Array([1, 0, 0, 1]), dims: [1, 4] },
    ]);
    await session.release();
    expect(dims).toEqual([1, 5]);
    expect(Array.from(data)).toEqual([0 + 3 + 1, 4 + 7 + 1, 8 + 11 + 1, 12 + 15 + 1, 16 + 19 + 1]);
  }, 60_000);

  it('refuses a weight whose shape differs other than in its first dim', async () => {
    const graph = await exported();
    const task = [...BASE.slice(1), weight('lin.weight', [3, 5], range(15))];
    await expect(taskOnnx(graph, task, 't', checkpointOf(BASE))).rejects.toThrow(
      "onnx::MatMul_1: graph F32 [4, 3], weight 'lin.weight' transposed F32 [5, 3]",
    );
  });
});

describe('helpers', () => {
  it("nodeScope reads torch's node names as module paths", () => {
    expect(nodeScope('/bert/encoder/layer.0/attention/output/LayerNorm/Mul')).toBe(
      'bert.encoder.layer.0.attention.output.LayerNorm',
    );
    expect(nodeScope('Identity_3')).toBe('');
  });
  it('hashBytes tells contents apart and transposeBytes is an involution', () => {
    const a = bytesOf(range(6));
    expect(hashBytes(a)).toBe(hashBytes(bytesOf(range(6))));
    expect(hashBytes(a)).not.toBe(hashBytes(bytesOf([...range(5), 6])));
    const t = transposeBytes(a, 2, 3, 4);
    expect(Array.from(new Float32Array(t.buffer))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(transposeBytes(t, 3, 2, 4)).toEqual(a);
  });
});
