// Plan: `merge-studio eval --graph base.onnx` over graphs torch.onnx.export wrote with its defaults
// (src/inference/__fixtures__/torch-export, made by tools/fixtures/make_torch_onnx.py): the base's
// graph binds to every task's safetensors weights (transposed MatMul initializers, deduplicated
// LayerNorms, a task whose head has another class count), the Individual row is torch's accuracy of
// each task's own weights on its labeled set, and every merge method runs in the same graph; a task
// given as a torch.save .bin (bert's t2, whose head has 5 classes) binds the same way. A graph
// that does not fit is refused with the initializers that cannot be bound. A CNN's default export
// (BatchNorm folded into each Conv) is refused with the fix; its PRESERVE export evaluates.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AccuracyTable } from '../inference/table';
import { runCli } from './testing';

const DIR = 'src/inference/__fixtures__/torch-export';

interface Expected {
  tasks: Record<string, { accuracy: number }>;
}

/** `pytorch`: tasks given as torch.save's .bin instead of safetensors. */
const evalArgs = (dir: string, tasks: readonly string[], graph: string, pytorch: readonly string[] = []) => [
  'eval',
  '--base',
  join(dir, 'base.safetensors'),
  ...tasks.flatMap((t) => [
    '--task',
    `${t}=${join(dir, `${t}.${pytorch.includes(t) ? 'bin' : 'safetensors'}`)}`,
  ]),
  ...tasks.flatMap((t) => ['--eval', `${t}=${join(dir, `${t}.eval.safetensors`)}`]),
  '--graph',
  graph,
  '--json',
];

describe('merge-studio eval --graph over torch.onnx.export graphs', () => {
  // the CNN's graph that binds is its export with training=PRESERVE (BatchNorm kept a node)
  const GRAPH: Record<string, string> = { bert: 'base.onnx', vit: 'base.onnx', cnn: 'base.preserve.onnx' };
  for (const [model, graph] of Object.entries(GRAPH)) {
    it(`${model}: the Individual row is torch's accuracy, and every method runs in the base's graph`, async () => {
      const dir = join(DIR, model);
      const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Expected;
      const tasks = Object.keys(expected.tasks);
      // bert's task with a head of another class count comes as torch.save wrote it (t2.bin)
      // bert's t2 and the CNN's c1 (2 classes) come as torch.save's .bin
      const pytorch = model === 'bert' ? ['t2'] : model === 'cnn' ? ['c1'] : [];
      const r = await runCli(evalArgs(dir, tasks, join(dir, graph), pytorch));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const table = JSON.parse(r.out) as AccuracyTable;
      expect(table.tasks).toEqual(tasks);
      const individual = table.rows.find((row) => row.method === 'Individual');
      expect(individual?.accuracy).toEqual(tasks.map((t) => expected.tasks[t]?.accuracy));
      expect(table.rows.length).toBeGreaterThanOrEqual(5); // Individual, 4 methods (+ routed)
      for (const row of table.rows) for (const a of row.accuracy) expect(a).toBeGreaterThanOrEqual(0);
    }, 120_000);
  }

  it("refuses a graph that does not fit the tasks' weights, naming the initializers and why", async () => {
    const dir = join(DIR, 'bert');
    const r = await runCli(evalArgs(dir, ['t0', 't1'], join(DIR, 'vit', 'base.onnx')));
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(
      /vit[\\/]base\.onnx does not fit the weights of task t0: \d+ graph initializers cannot be bound/,
    );
    expect(r.err).toMatch(
      /onnx::MatMul_\d+.*: no weight of the base has its name or its values \(nor their transpose\)/,
    );
    expect(r.err).toMatch(/5 weights of the base have its values \(bert\.embeddings\.LayerNorm\.weight, /);
  }, 120_000);

  it("refuses a CNN's default export (BatchNorm folded into each Conv), naming the folded initializers and the export that binds", async () => {
    const dir = join(DIR, 'cnn');
    const r = await runCli(evalArgs(dir, ['c0', 'c1'], join(dir, 'base.onnx')));
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(
      /cnn[\\/]base\.onnx does not fit the weights of task c0: 4 graph initializers cannot be bound/,
    );
    expect(r.err).toMatch(
      /onnx::Conv_\d+, onnx::Conv_\d+, onnx::Conv_\d+, onnx::Conv_\d+: no weight of the base/,
    );
    expect(r.err).toMatch(/training=torch\.onnx\.TrainingMode\.PRESERVE/);
  }, 120_000);
});
