// A merge summary as the worker sends it, for the views' component tests: two tasks over three
// tensors, the last of which the second task (a LoRA adapter) leaves untouched.
import { methodSpec, type MethodName } from '../../../src/merge/methods';
import type { MergeSummary } from '../../worker/protocol';

export function summaryFixture(method: MethodName = 'emr'): MergeSummary {
  const emr = method === 'emr';
  const task = (name: string, lambda: number) => ({
    name,
    format: 'safetensors' as const,
    lambda: emr ? lambda : Number.NaN,
    numerator: emr ? 1.5 : Number.NaN,
    denominator: emr ? 2 : Number.NaN,
    lambdaDefaulted: false,
    density: emr ? 0.6 : Number.NaN,
    files: 1,
    bytes: 2_400_000,
  });
  return {
    id: 7,
    spec: methodSpec(method),
    engine: 'CPU',
    seconds: 0.5,
    bytesRead: 1000,
    source: 'merge',
    tasks: [task('lang', 0.75), task('topic', 0.8)],
    tensors: [
      { name: 'layers.0.q.weight', shape: [8, 8], numel: 64, conflictRate: 0.25, density: [0.6, 0.7] },
      { name: 'layers.0.k.weight', shape: [8, 8], numel: 64, conflictRate: 0.5, density: [0.55, 0.65] },
      {
        name: 'layers.0.norm.weight',
        shape: [8],
        numel: 8,
        conflictRate: 0,
        density: [0.5, 0],
        untouched: [false, true],
      },
    ],
    storage: { taskModelsBytes: 4_800_000, baseBytes: 2_400_000, bundleBytes: 1_000_000 },
  };
}
