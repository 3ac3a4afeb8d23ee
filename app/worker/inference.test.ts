// Plan: per-task inference and the evaluation table driven through the worker's service in Node,
// with onnxruntime-web (wasm) as in the page, on the digits-8 zoo loaded as safetensors — so every
// task runs in the graph given for it. The individual column reproduces the task's own .onnx
// output exactly; one graph runs every task, each with its own head (graph-binding.ts); routing picks
// a task and says how sure it is; the table's cells match the zoo's independent reference.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../src/inference/ort';
import { ROUTED_LABEL } from '../../src/inference/eval-table';
import { methodSpec } from '../../src/merge/methods';
import { StudioService, type PathedFile } from './service';

const ZOO = 'public/zoo/digits-8';

interface Manifest {
  base: { safetensors: string };
  tasks: { id: string; onnx: string; safetensors: string; eval: string; individualAccuracy: number }[];
  reference: { methods: Record<string, { accuracy: Record<string, number> }> };
}
const manifest = JSON.parse(await readFile(join(ZOO, 'manifest.json'), 'utf8')) as Manifest;
const zooFile = async (path: string): Promise<PathedFile> => ({
  path,
  file: new Blob([await readFile(join(ZOO, path))]),
});

let service: StudioService;
beforeAll(async () => {
  service = new StudioService();
  await service.open('base', await zooFile(manifest.base.safetensors), []);
  for (const t of manifest.tasks) await service.open(t.id, await zooFile(t.safetensors), []);
  const outcome = await service.merge(
    { baseId: 'base', tasks: manifest.tasks.map((t) => ({ id: t.id, name: t.id })) },
    methodSpec('emr'),
    'cpu',
    () => {},
  );
  expect(outcome.ok).toBe(true);
}, 60_000);

describe('inference in the studio worker', () => {
  it('needs a graph for tasks that came as safetensors, and runs every task in one graph with its own head', async () => {
    const before = service.inferenceSetup();
    expect(before?.columns.map((c) => c.column)).toEqual(['individual', 'emr', 'avg', 'ta', 'ties']);
    expect(before?.tasks.every((t) => t.graph === null && t.labeled === null)).toBe(true);
    const sample = await service.infer({
      task: 0,
      input: new Float32Array(64),
      dims: [1, 1, 8, 8],
      columns: ['emr'],
      provider: 'wasm',
    });
    expect(sample).toMatchObject({ ok: false, message: expect.stringContaining('No ONNX graph for plain') });

    // plain's graph has a 10-class head; parity's weights have 2 classes: the head is replaced and
    // the graph's output relaxed (src/inference/graph-binding.ts), so parity runs in it.
    await service.open('g-plain', await zooFile('plain.onnx'), []);
    expect(service.attachGraph('g-plain', '*')).toEqual({ ok: true });
    const parity = service.inferenceSetup()?.tasks.find((t) => t.name === 'parity');
    expect(parity?.graphProblem).toBeNull();
    const twoClasses = await service.infer({
      task: manifest.tasks.findIndex((t) => t.id === 'parity'),
      input: new Float32Array(64),
      dims: [1, 1, 8, 8],
      columns: ['individual'],
      provider: 'wasm',
    });
    if (!twoClasses.ok) throw new Error(twoClasses.message);
    expect(twoClasses.outputs[0]?.dims).toEqual([1, 2]);
    const plain = service.inferenceSetup()?.tasks.find((t) => t.name === 'plain');
    expect(plain?.graphProblem).toBeNull();
    expect(plain?.input).toEqual({ name: 'pixels', shape: [expect.anything(), 1, 8, 8], elemType: 'F32' });

    for (const t of manifest.tasks) {
      await service.open(`g-${t.id}`, await zooFile(t.onnx), []);
      expect(service.attachGraph(`g-${t.id}`, t.id)).toEqual({ ok: true });
      await service.open(`e-${t.id}`, await zooFile(t.eval), []);
      expect(await service.attachLabeled(`e-${t.id}`, t.id)).toEqual({ ok: true });
    }
    const after = service.inferenceSetup();
    expect(after?.tasks.every((t) => t.graph && !t.graphProblem && t.labeled?.count)).toBe(true);
  }, 60_000);

  it('runs a sample under every column; the individual column is the task’s own .onnx exactly', async () => {
    const sample = service.sample('plain', 7);
    if (!sample.ok) throw new Error(sample.message);
    if (!sample.input || !sample.dims) throw new Error('a tensor sample is expected');
    expect(sample.dims).toEqual([1, 1, 8, 8]);
    const out = await service.infer({
      task: 0,
      input: sample.input,
      dims: sample.dims,
      columns: ['individual', 'emr', 'avg'],
      provider: 'wasm',
    });
    if (!out.ok) throw new Error(out.message);
    expect(out.outputs.map((o) => [o.column, o.provider, o.values.length])).toEqual([
      ['individual', 'wasm', 10],
      ['emr', 'wasm', 10],
      ['avg', 'wasm', 10],
    ]);
    const own = await createSession(await readFile(join(ZOO, 'plain.onnx')), { provider: 'wasm' });
    const direct = await own.run(sample.input, sample.dims);
    await own.release();
    expect([...(out.outputs[0]?.values ?? [])]).toEqual([...direct.data]);
    // The merged model is another model: its logits differ from the individual's.
    expect([...(out.outputs[1]?.values ?? [])]).not.toEqual([...direct.data]);
  }, 60_000);

  it('routes an input without a task id and says how sure it is', async () => {
    const sample = service.sample('parity', 3);
    if (!sample.ok) throw new Error(sample.message);
    if (!sample.input || !sample.dims) throw new Error('a tensor sample is expected');
    const out = await service.infer({
      task: 'auto',
      input: sample.input,
      dims: sample.dims,
      columns: ['emr'],
      provider: 'wasm',
    });
    if (!out.ok) throw new Error(out.message);
    const routing = out.routing;
    expect(routing?.column).toBe('emr');
    expect(routing?.scores).toHaveLength(manifest.tasks.length);
    expect(out.task).toBe(routing?.task);
    expect(routing?.confidence).toBeGreaterThanOrEqual(routing?.runnerUp?.confidence ?? 0);
  }, 60_000);

  // The routed row runs every task's model on every sample (8× a column): the CLI's zoo test and
  // the e2e evaluation flow hold it; here the columns are checked against the reference.
  it('builds the paper’s table on the labeled sets', async () => {
    let calls = 0;
    const outcome = await service.evaluate(
      { columns: ['individual', 'emr', 'ties'], routed: false, provider: 'wasm' },
      () => {
        calls++;
      },
    );
    if (!outcome.ok) throw new Error(outcome.message);
    const { report } = outcome;
    expect(report.providers).toEqual(['wasm']);
    expect(report.rows.map((r) => r.method)).toEqual([
      'Individual',
      'EMR-Merging (rescale: tensor-mean)',
      'TIES-Merging (k = 20 %, λ = 1)',
    ]);
    expect(report.rows.some((r) => r.method === ROUTED_LABEL)).toBe(false);
    const [individual, emr, ties] = report.rows;
    manifest.tasks.forEach((task, t) => {
      expect(Math.abs((individual?.accuracy[t] as number) - task.individualAccuracy)).toBeLessThanOrEqual(
        0.005,
      );
      const want = (m: string) => manifest.reference.methods[m]?.accuracy[task.id] as number;
      expect(Math.abs((emr?.accuracy[t] as number) - want('emr'))).toBeLessThanOrEqual(0.005);
      expect(Math.abs((ties?.accuracy[t] as number) - want('ties'))).toBeLessThanOrEqual(0.005);
    });
    expect(calls).toBeGreaterThan(0);
  }, 120_000);

  it('a cancelled evaluation says so and keeps the worker usable', async () => {
    const running = service.evaluate(
      { columns: ['individual', 'emr'], routed: true, provider: 'wasm' },
      () => {},
    );
    service.cancelEvaluate();
    expect(await running).toMatchObject({ ok: false, cancelled: true });
    const again = service.sample('plain', 0);
    expect(again.ok).toBe(true);
  });
});
