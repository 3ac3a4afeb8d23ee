// Plan: writing a task's model through the CPU engine's reused buffers (task-model's
// transientChunks, export's writeTensors) gives the very bytes of the plain path (a fresh array
// per piece), with a sink that reads each piece only later, as a file write does — many pieces per
// tensor (a tiny budget), odd sizes, F32 and BF16 tasks, every task, the base read once and reused.
import { describe, expect, it } from 'vitest';
import type { MergeDType } from '../../formats/dtype';
import type { ByteSink } from '../../formats/sink';
import type { MergeEngine } from '../engine';
import { writeTaskSafetensors } from '../export';
import { runMerge } from '../merge';
import { methodSpec } from '../methods';
import { buildModelSet } from '../model-set';
import { memoryCheckpoint, type MemoryTensor } from '../testing/memory-checkpoint';
import { CpuEngine } from './engine';

/** Keeps each piece until its write "completes" a few ticks later, then copies it. */
class LateSink implements ByteSink {
  readonly name = 'late';
  private readonly parts: Uint8Array[] = [];
  async write(bytes: Uint8Array): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    this.parts.push(bytes.slice());
  }
  async close(): Promise<void> {}
  bytes(): number[] {
    return this.parts.flatMap((p) => Array.from(p));
  }
}

/** The engine without its write-into capability: the plain path. */
const plain = (e: MergeEngine): MergeEngine => ({
  kind: e.kind,
  description: e.description,
  emr: (c) => e.emr(c),
  emrReconstruct: (...a) => e.emrReconstruct(...a),
  average: (c) => e.average(c),
  taskArithmetic: (c, l) => e.taskArithmetic(c, l),
  absHistogram: (...a) => e.absHistogram(...a),
  ties: (...a) => e.ties(...a),
  dispose: () => e.dispose(),
});

function set(dtype: MergeDType) {
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const shapes: [string, number[]][] = [
    ['a', [37, 5]],
    ['b', [1000]],
    ['c', [3]],
    ['d', [64, 9]],
  ];
  const base = shapes.map(([name, shape]) => ({
    name,
    shape,
    values: Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, rnd),
  }));
  const ck = (file: string, f: (v: number) => number, dt: MergeDType) =>
    memoryCheckpoint(
      file,
      base.map((b): MemoryTensor => ({ name: b.name, dtype: dt, shape: b.shape, values: b.values.map(f) })),
    );
  return buildModelSet(
    ck('base', (v) => v, 'F32'),
    [0, 1, 2].map((t) => ({
      name: `t${t}`,
      checkpoint: ck(`t${t}`, (v) => v + rnd() * 0.01 * +(rnd() > -0.5), t === 1 ? dtype : 'F32'),
    })),
  );
}

describe('task models through reused buffers', () => {
  for (const dtype of ['F32', 'BF16'] as const) {
    for (const wasm of [true, false]) {
      it(`equal the plain path (${dtype} task, ${wasm ? 'WebAssembly' : 'JavaScript'} kernels)`, async () => {
        const engine = new CpuEngine({ wasm });
        const budget = 4096; // pieces of 96 elements
        const result = await runMerge(set(dtype), methodSpec('emr'), engine, { budgetBytes: budget });
        for (let t = 0; t < 3; t++) {
          const fast = new LateSink();
          const slow = new LateSink();
          await writeTaskSafetensors(result, t, engine, fast, budget);
          await writeTaskSafetensors(result, t, plain(engine), slow, budget);
          expect(fast.bytes()).toEqual(slow.bytes());
        }
      });
    }
  }
});
