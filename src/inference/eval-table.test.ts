// Plan: evaluateTable hands over the table after each method (what a cancelled evaluation keeps)
// and stops at the next batch once aborted — the method under way never reaches the table. The
// sessions are fakes that answer the label (model 1) or always class 0 (model 0): only the table's
// bookkeeping is under test here; real graphs run in app/worker/inference.test.ts.
import { describe, expect, it } from 'vitest';
import { evaluateTable, type EvalMethod, type EvalReport } from './eval-table';
import type { TensorSet } from './evaluate';
import type { ModelSession } from './ort';

const set: TensorSet = { inputs: Float32Array.from([0, 1, 1, 0]), sampleShape: [1], labels: [0, 1, 1, 0] };

/** A two-class model: `right` answers the input (= the label), else always class 0. */
function session(right: boolean, onRun: () => void = () => {}): ModelSession {
  return {
    provider: 'wasm',
    inputNames: ['x'],
    outputNames: ['y'],
    run: async (input, shape) => {
      onRun();
      const data = new Float32Array(input.length * 2);
      input.forEach((x, i) => (data[i * 2 + (right ? x : 0)] = 1));
      return { data, dims: [shape[0] ?? 0, 2] };
    },
    runFeeds: () => Promise.reject(new Error('no feeds')),
    release: async () => {},
  };
}

const method = (label: string, id: number): EvalMethod => ({
  label,
  emr: false,
  model: async () => Uint8Array.of(id),
});

describe('evaluateTable', () => {
  it('reports the rows after each method, and an abort mid-method keeps only the finished ones', async () => {
    const partials: EvalReport[] = [];
    const controller = new AbortController();
    let runs = 0;
    const run = evaluateTable({
      tasks: ['a', 'b'],
      methods: [method('Individual', 1), method('Weight averaging', 0), method('Task Arithmetic', 0)],
      labeled: [set, set],
      batchSize: 2,
      signal: controller.signal,
      createSession: async (model) =>
        session(model[0] === 1, () => {
          // The second method's first batch: cancel there, mid-method.
          if (++runs === 5) controller.abort();
        }),
      onRows: (p) => partials.push(p),
    });
    await expect(run).rejects.toThrow();
    expect(partials.map((p) => p.rows.map((r) => [r.method, r.accuracy]))).toEqual([
      [['Individual', [1, 1]]],
    ]);
    expect(runs).toBe(5); // stopped at the next batch, not at the end of the method
  });
});

describe('routed rows', () => {
  it('routes a per-task method with a routed label, as EMR, and keeps EMR’s routing summary', async () => {
    let progress: [number, number] = [0, 0];
    const report = await evaluateTable({
      tasks: ['a', 'b'],
      methods: [
        method('Individual', 1),
        { ...method('EMR-Merging', 1), emr: true },
        { ...method('TALL masks', 0), routedLabel: 'TALL masks, routed (no task id)' },
        method('Consensus TA', 0),
      ],
      labeled: [set, set],
      routed: true,
      createSession: async (model) => session(model[0] === 1),
      onProgress: (done, total) => (progress = [done, total]),
    });
    expect(report.rows.map((r) => r.method)).toEqual([
      'Individual',
      'EMR-Merging',
      'EMR-Merging, routed (no task id)',
      'TALL masks',
      'TALL masks, routed (no task id)',
      'Consensus TA',
    ]);
    // TALL's models answer class 0 with the same confidence everywhere: the router's tie goes to
    // task a, right on half of a's labels, and b's inputs, sent to a's model, count as wrong
    expect(report.rows[4]?.accuracy).toEqual([0.5, 0]);
    expect(report.routing?.picked).toHaveLength(2);
    expect(progress[0]).toBe(progress[1]); // the runs counted up front are the runs made
    expect(progress[1]).toBe(4 * 8 + 2 * 8);
  });
});
