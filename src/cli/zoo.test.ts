// Plan: the embedded digits-8 zoo through the command line, end to end. `merge` writes every task
// back as ONNX and the files load back through src/formats with the zoo's graph; `eval` merges with
// every method, runs each task's merged model in onnxruntime-web (the studio's runtime, wasm in
// Node) on its labeled set, and reaches the accuracies the zoo's training script computed
// independently with plain torch from the formulas of docs/architecture.md#emr-semantics
// (manifest.reference) — to 0.5 %. This ties the engine's numbers to an outside implementation,
// on real models.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTED_LABEL } from '../inference/eval-table';
import type { AccuracyRow, AccuracyTable } from '../inference/table';
import { OpenFiles, openPath } from './files';
import { runCli } from './testing';

const ZOO = 'public/zoo/digits-8';

interface Manifest {
  base: { id: string; onnx: string };
  tasks: { id: string; onnx: string; eval: string; individualAccuracy: number }[];
  reference: {
    methods: Record<string, { accuracy: Record<string, number>; lambdas?: Record<string, number> }>;
  };
}

const manifest = JSON.parse(await readFile(join(ZOO, 'manifest.json'), 'utf8')) as Manifest;
const modelFlags = [
  '--base',
  join(ZOO, manifest.base.onnx),
  ...manifest.tasks.flatMap((t) => ['--task', `${t.id}=${join(ZOO, t.onnx)}`]),
];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-zoo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('digits-8 zoo through the CLI', () => {
  it('merge writes every task as ONNX, with the graph kept and the bundle beside them', async () => {
    const out = join(dir, 'emr');
    const r = await runCli(['merge', '--engine', 'cpu', ...modelFlags, '--out', out, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { tasks: { name: string; lambda: number }[] };
    const lambdas = manifest.reference.methods['emr']?.lambdas;
    if (lambdas) for (const t of summary.tasks) expect(t.lambda).toBeCloseTo(lambdas[t.name] as number, 4);
    expect((await readdir(out)).sort()).toEqual(
      ['emr-bundle.safetensors', ...manifest.tasks.map((t) => `${t.id}.onnx`)].sort(),
    );
    const files = new OpenFiles();
    for (const task of manifest.tasks) {
      const merged = await openPath(join(out, `${task.id}.onnx`), files);
      const original = await openPath(join(ZOO, task.onnx), files);
      expect(merged.format).toBe('onnx');
      expect([...merged.tensors.values()].map((e) => [e.name, e.dtype, e.shape])).toEqual(
        [...original.tensors.values()].map((e) => [e.name, e.dtype, e.shape]),
      );
    }
    await files.closeAll();
  });

  it('eval reproduces the reference accuracies of every method, and routes without a task id', async () => {
    const evalFlags = manifest.tasks.flatMap((t) => ['--eval', `${t.id}=${join(ZOO, t.eval)}`]);
    const r = await runCli(['eval', ...modelFlags, ...evalFlags, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const table = JSON.parse(r.out) as AccuracyTable;
    expect(table.tasks).toEqual(manifest.tasks.map((t) => t.id));
    const row = (prefix: string) => table.rows.find((x) => x.method.startsWith(prefix)) as AccuracyRow;
    manifest.tasks.forEach((task, t) =>
      expect(
        Math.abs((row('Individual').accuracy[t] as number) - task.individualAccuracy),
      ).toBeLessThanOrEqual(0.005),
    );
    const titles: Record<string, string> = {
      emr: 'EMR-Merging (',
      avg: 'Weight averaging',
      ta: 'Task Arithmetic',
      ties: 'TIES-Merging',
    };
    for (const [method, title] of Object.entries(titles)) {
      const reference = manifest.reference.methods[method];
      manifest.tasks.forEach((task, t) => {
        const want = reference?.accuracy[task.id] as number;
        expect(
          Math.abs((row(title).accuracy[t] as number) - want),
          `${method} on ${task.id}`,
        ).toBeLessThanOrEqual(0.005);
      });
    }
    // Routing: a row right after EMR's, never above the oracle-routed EMR row task by task, and the
    // router's share of right picks reported per task.
    const emrAt = table.rows.findIndex((x) => x.method.startsWith('EMR-Merging ('));
    const routed = table.rows[emrAt + 1] as AccuracyRow;
    expect(routed.method).toBe(ROUTED_LABEL);
    routed.accuracy.forEach((a, t) =>
      expect(a).toBeLessThanOrEqual(row('EMR-Merging (').accuracy[t] as number),
    );
    expect(table.routing?.picked).toHaveLength(manifest.tasks.length);
    expect(table.routing?.pickedAll).toBeGreaterThan(1 / manifest.tasks.length); // better than chance
  }, 300_000);

  it('eval runs safetensors tasks in the graphs given with --graph, to the same table', async () => {
    const flags = [
      '--base',
      join(ZOO, 'base.safetensors'),
      ...manifest.tasks.flatMap((t) => ['--task', `${t.id}=${join(ZOO, `${t.id}.safetensors`)}`]),
      ...manifest.tasks.flatMap((t) => ['--eval', `${t.id}=${join(ZOO, t.eval)}`]),
      '--methods',
      'emr',
      '--no-route',
      '--json',
    ];
    const missing = await runCli(['eval', ...flags]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`give ${manifest.tasks[0]?.id} as .onnx, or its graph with --graph`);
    const graphs = manifest.tasks.flatMap((t) => ['--graph', `${t.id}=${join(ZOO, t.onnx)}`]);
    const viaGraphs = await runCli(['eval', ...flags, ...graphs]);
    expect(viaGraphs.err).toBe('');
    const onnx = await runCli([
      'eval',
      ...modelFlags,
      ...manifest.tasks.flatMap((t) => ['--eval', `${t.id}=${join(ZOO, t.eval)}`]),
      '--methods',
      'emr',
      '--no-route',
      '--json',
    ]);
    const strip = (out: string) => (JSON.parse(out) as AccuracyTable).rows;
    expect(strip(viaGraphs.out)).toEqual(strip(onnx.out));
    // One graph for every task: the heads differ in class count, so each task's head replaces the
    // graph's and its output is relaxed (src/inference/graph-binding.ts) — to the same table.
    const one = await runCli(['eval', ...flags, '--graph', join(ZOO, manifest.tasks[0]?.onnx ?? '')]);
    expect(one.err).toBe('');
    expect(strip(one.out)).toEqual(strip(onnx.out));
  }, 300_000);
});
