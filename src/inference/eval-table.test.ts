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
