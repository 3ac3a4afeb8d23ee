// Plan: the studio's steps 4 and 5 through the worker's service in Node (onnxruntime-web, wasm, as
// in the page) on graphs torch.onnx.export wrote with its defaults
// (src/inference/__fixtures__/torch-export): tasks loaded as safetensors, the BASE's graph given for
// every task. The graph binds through the base (transposed MatMul initializers, deduplicated
// LayerNorms, a head of another class count), each task's individual model gives torch's logits and
// accuracy, and the merged columns run in the same graph.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { methodSpec } from '../../src/merge/methods';
import { StudioService, type PathedFile } from './service';

const DIR = 'src/inference/__fixtures__/torch-export/bert';

interface Expected {
  tasks: Record<string, { classes: number; logits: number[][]; accuracy: number }>;
}
const expected = JSON.parse(await readFile(join(DIR, 'expected.json'), 'utf8')) as Expected;
const tasks = Object.keys(expected.tasks);
const file = async (name: string): Promise<PathedFile> => ({
  path: name,
  file: new Blob([await readFile(join(DIR, name))]),
});

let service: StudioService;
beforeAll(async () => {
  service = new StudioService();
  await service.open('base', await file('base.safetensors'), []);
  for (const t of tasks) await service.open(t, await file(`${t}.safetensors`), []);
  const outcome = await service.merge(
    { baseId: 'base', tasks: tasks.map((t) => ({ id: t, name: t })) },
    methodSpec('emr'),
    'cpu',
    () => {},
  );
  expect(outcome.ok).toBe(true);
  await service.open('graph', await file('base.onnx'), []);
  expect(service.attachGraph('graph', '*')).toEqual({ ok: true });
  for (const t of tasks) {
    await service.open(`eval-${t}`, await file(`${t}.eval.safetensors`), []);
    expect(await service.attachLabeled(`eval-${t}`, t)).toEqual({ ok: true });
  }
}, 60_000);

describe("the studio runs each task in the base's torch-exported graph", () => {
  it('finds no problem with the graph for any task, the head of another class count included', () => {
    const setup = service.inferenceSetup();
    expect(setup?.tasks.map((t) => [t.name, t.graphProblem])).toEqual(tasks.map((t) => [t, null]));
  });

  it("the table's individual row is torch's accuracy, and every column runs", async () => {
    const outcome = await service.evaluate(
      { columns: ['individual', 'emr', 'ties'], routed: false, provider: 'wasm' },
      () => {},
    );
    if (!outcome.ok) throw new Error(outcome.message);
    const [individual, ...merged] = outcome.report.rows;
    expect(individual?.accuracy).toEqual(tasks.map((t) => expected.tasks[t]?.accuracy));
    expect(merged).toHaveLength(2);
  }, 120_000);

  it("says which initializers of another model's graph do not fit, and refuses to run it", async () => {
    await service.open(
      'vit',
      {
        path: 'vit.onnx',
        file: new Blob([await readFile('src/inference/__fixtures__/torch-export/vit/base.onnx')]),
      },
      [],
    );
    expect(service.attachGraph('vit', 't0')).toEqual({ ok: true });
    const t0 = service.inferenceSetup()?.tasks.find((t) => t.name === 't0');
    expect(t0?.graphProblem).toMatch(
      /^vit\.onnx does not fit this task: vit\.embeddings\.cls_token has no weight/,
    );
    const run = await service.infer({
      task: 0,
      input: new Float32Array(192),
      dims: [1, 3, 8, 8],
      columns: ['individual'],
      provider: 'wasm',
    });
    expect(run).toMatchObject({
      ok: false,
      message: expect.stringMatching(
        /vit\.onnx does not fit the weights of task t0: \d+ graph initializers cannot be bound/,
      ),
    });
  }, 60_000);
});
