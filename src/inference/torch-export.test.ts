// Plan: graphs exported by torch.onnx.export with its defaults (tools/fixtures/make_torch_onnx.py:
// MatMul with transposed initializers under onnx::MatMul_N names, LayerNorm parameters deduplicated
// into one initializer plus Identity nodes, a task with a head of another class count) are bound to
// each task's safetensors weights through the base, built with taskOnnx and run in onnxruntime-web
// (wasm, the studio's runtime): every task's logits are torch's forward pass of that task's weights.
// A CNN's default export folds each BatchNorm into its Conv (onnx::Conv_N initializers that no
// weight has): refused with their names, the reason and the fix; its export with
// training=PRESERVE keeps BatchNorm a node, binds by name and gives torch's logits.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOnnx, type OnnxCheckpoint } from '../formats/onnx';
import { openSafetensors } from '../formats/safetensors';
import { bytesSource } from '../formats/source';
import type { Checkpoint } from '../formats/tensor';
import { readLabeledSet } from './labeled';
import type { FeedSet } from './evaluate';
import { createSession } from './ort';
import { bindGraph, type GraphBinding } from './graph-binding';
import { GraphMismatchError, taskOnnx } from './task-onnx';

const DIR = 'src/inference/__fixtures__/torch-export';

interface Expected {
  inputs: string[];
  tasks: Record<string, { classes: number; logits: number[][]; accuracy: number }>;
}

const open = async (path: string): Promise<Uint8Array> => new Uint8Array(await readFile(path));
const safetensors = async (path: string): Promise<Checkpoint> =>
  openSafetensors(bytesSource(await open(path), path));

const graphAt = async (path: string) =>
  (await openOnnx(bytesSource(await open(path), path))) as OnnxCheckpoint;
const rulesOf = (binding: GraphBinding) => {
  const rules = new Map<string, number>();
  for (const b of binding.bound) rules.set(b.rule, (rules.get(b.rule) ?? 0) + 1);
  return rules;
};

/** Each model's graph that binds, and what its binding must show. */
const MODELS: Record<string, { graph: string; bound: (binding: GraphBinding) => void }> = {
  bert: {
    graph: 'base.onnx',
    bound: (binding) => {
      expect(rulesOf(binding).get('transpose')).toBe(12); // q, k, v, out, intermediate, output × 2 layers
      expect(rulesOf(binding).get('identity')).toBe(8); // 4 LayerNorms' weight and bias behind Identity nodes
      const q = binding.bound.find((b) => b.weight.endsWith('layer.0.attention.self.query.weight'));
      expect(q).toMatchObject({ transposed: true, rule: 'transpose' });
    },
  },
  vit: {
    graph: 'base.onnx',
    bound: (binding) => {
      expect(rulesOf(binding).get('transpose')).toBe(12);
      expect(rulesOf(binding).get('identity')).toBe(8);
    },
  },
  cnn: {
    graph: 'base.preserve.onnx',
    // convs, BatchNorms (weight, bias, running mean and variance) and the head, all by their names
    bound: (binding) => expect([...rulesOf(binding)]).toEqual([['name', 14]]),
  },
};

for (const [model, { graph: graphFile, bound }] of Object.entries(MODELS)) {
  describe(`${model}: torch.onnx.export's base graph`, async () => {
    const dir = join(DIR, model);
    const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Expected;
    const graph = await graphAt(join(dir, graphFile));
    const base = await safetensors(join(dir, 'base.safetensors'));

    it('binds every float initializer: by name, transposed MatMul weights by value, deduplicated LayerNorms per use', async () => {
      const binding = await bindGraph(graph, [...base.tensors.values()]);
      expect(binding.refused).toEqual([]);
      bound(binding);
    });

    for (const [task, want] of Object.entries(expected.tasks)) {
      it(`${task}: the graph filled with its weights gives torch's logits (1e-4)`, async () => {
        const weights = await safetensors(join(dir, `${task}.safetensors`));
        const bytes = await taskOnnx(graph, [...weights.tensors.values()], task, base);
        const set = (await readLabeledSet(
          await safetensors(join(dir, `${task}.eval.safetensors`)),
        )) as FeedSet;
        const session = await createSession(bytes, { provider: 'wasm' });
        const m = set.labels.length;
        const { data, dims } = await session.runFeeds(
          set.feeds.map((f) => ({ ...f, dims: [m, ...f.sampleShape] }) as never),
        );
        await session.release();
        expect(dims).toEqual([m, want.classes]);
        const flat = want.logits.flat();
        let worst = 0;
        flat.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (data[i] as number)))));
        expect(worst).toBeLessThan(1e-4);
      }, 60_000);
    }
  });
}

describe("cnn: torch.onnx.export's defaults fold each BatchNorm into its Conv", async () => {
  const dir = join(DIR, 'cnn');
  const graph = await graphAt(join(dir, 'base.onnx'));
  const base = await safetensors(join(dir, 'base.safetensors'));

  it('refuses the folded weights and biases by name, says why and how to export instead', async () => {
    const binding = await bindGraph(graph, [...base.tensors.values()]);
    const folded = binding.refused.map((r) => r.initializer);
    expect(folded).toHaveLength(4); // two convs' weight and bias, each with its BatchNorm folded in
    for (const name of folded) expect(name).toMatch(/^onnx::Conv_\d+$/);
    expect(binding.refused.every((r) => r.unbound)).toBe(true);
    const weights = await safetensors(join(dir, 'c0.safetensors'));
    const error = await taskOnnx(graph, [...weights.tensors.values()], 'c0', base).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphMismatchError);
    expect(String(error)).toMatch(/4 graph initializers cannot be bound\. onnx::Conv_\d+, /);
    expect(String(error)).toMatch(/BatchNorm folded into a Conv/);
    expect(String(error)).toMatch(/training=torch\.onnx\.TrainingMode\.PRESERVE/);
  });
});
