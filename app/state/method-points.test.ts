// Plan: each evaluation row becomes a chart point with its normalized accuracy and the bytes per task
// docs/results.md counts (a per-task artefact over N; a one-model method's model over N; Individual
// each task's own), a routed row sized by its method's kept result, the router's line left out; and
// an evaluation runs every offered column not unticked, the paper's in the CLI's order first.
import { describe, expect, it } from 'vitest';
import type { MergeSummary } from '../../src/flow/summary';
import { ROUTER_ROW } from '../../src/inference/table';
import { anyMethodSpec } from '../../src/merge/methods';
import { evalColumns } from './infer-actions';
import { methodPoints, paretoProps } from './method-points';

const summary = (spec: MergeSummary['spec'], bundleBytes: number): MergeSummary => ({
  id: 1,
  spec,
  engine: 'cpu',
  seconds: 0,
  bytesRead: 0,
  source: 'merge',
  tasks: [0, 1].map((t) => ({
    name: `t${t}`,
    format: 'safetensors' as const,
    lambda: Number.NaN,
    numerator: Number.NaN,
    denominator: Number.NaN,
    lambdaDefaulted: false,
    density: Number.NaN,
    files: 1,
    bytes: 400,
  })),
  tensors: [],
  storage: { taskModelsBytes: 800, baseBytes: 400, bundleBytes },
});

describe('evaluation points', () => {
  it('gives each row its normalized accuracy and bytes per task', () => {
    const tall = summary(anyMethodSpec('tall_mask', {}), 300);
    const iso = summary(anyMethodSpec('iso_c', {}), 0);
    const report = {
      tasks: ['t0', 't1'],
      rows: [
        { method: 'Individual', accuracy: [1, 0.5] },
        { method: 'Task Arithmetic (λ = 0.3)', accuracy: [0.5, 0.25] },
        { method: 'TALL masks over Task Arithmetic (λ_t = 1)', accuracy: [1, 0.5] },
        { method: 'TALL masks, routed (no task id)', accuracy: [0.5, 0.5] },
        { method: 'Iso-C (isotropic, common subspace) (scaling factor 1)', accuracy: [0.9, 0.45] },
        { method: ROUTER_ROW, accuracy: [1, 1] },
      ],
      providers: ['wasm' as const],
    };
    expect(methodPoints(report, tall, [iso, tall])).toEqual([
      { label: 'Individual', normalizedPercent: 100, bytesPerTask: 400, perTask: true },
      { label: 'Task Arithmetic (λ = 0.3)', normalizedPercent: 50, bytesPerTask: 200, perTask: false },
      {
        label: 'TALL masks over Task Arithmetic (λ_t = 1)',
        normalizedPercent: 100,
        bytesPerTask: 150,
        perTask: true,
      },
      { label: 'TALL masks, routed (no task id)', normalizedPercent: 75, bytesPerTask: 150, perTask: true },
      {
        label: 'Iso-C (isotropic, common subspace) (scaling factor 1)',
        normalizedPercent: 90,
        bytesPerTask: 200,
        perTask: false,
      },
    ]);
  });

  it('hands the chart each point’s kind, a one-model method as one model for all tasks', () => {
    const tall = summary(anyMethodSpec('tall_mask', {}), 300);
    const points = [
      { label: 'Individual', normalizedPercent: 100, bytesPerTask: 400, perTask: true },
      { label: 'Task Arithmetic (λ = 0.3)', normalizedPercent: 50, bytesPerTask: 200, perTask: false },
      { label: 'TALL masks over Task Arithmetic', normalizedPercent: 100, bytesPerTask: 150, perTask: true },
      { label: 'TALL masks, routed (no task id)', normalizedPercent: 75, bytesPerTask: 150, perTask: true },
    ];
    expect(paretoProps(points, tall)).toEqual({
      tasks: 2,
      modelBytes: 400,
      points: [
        { label: 'Individual', accuracy: 100, bytesPerTask: 400, kind: 'individual' },
        { label: 'Task Arithmetic (λ = 0.3)', accuracy: 50, bytesPerTask: null, kind: 'single-model' },
        { label: 'TALL masks over Task Arithmetic', accuracy: 100, bytesPerTask: 150, kind: 'per-task' },
        { label: 'TALL masks, routed (no task id)', accuracy: 75, bytesPerTask: 150, kind: 'routed' },
      ],
    });
  });

  it('runs every offered column not unticked, the paper’s first in the CLI’s order', () => {
    expect(evalColumns(['individual', 'merged', 'emr', 'avg', 'ta', 'ties', 'kept:3'], ['ta'])).toEqual([
      'individual',
      'avg',
      'ties',
      'emr',
      'merged',
      'kept:3',
    ]);
  });
});
