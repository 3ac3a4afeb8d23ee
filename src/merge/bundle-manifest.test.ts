// Plan: a real bundle whose manifest is replaced by hostile ones (null, wrong types, missing keys, a
// λ that is a string or not finite, unknown dtypes, shapes that are not shapes, counts that do not
// add up) is refused by openBundle with a FormatError naming the bundle — never a TypeError, and
// never a result that would write NaN weights. The untouched manifest still opens.
import { describe, expect, it } from 'vitest';
import { isFormatError } from '../formats/errors';
import { openSafetensors, writeSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { bytesSource } from '../formats/source';
import { readTensor, type Checkpoint } from '../formats/tensor';
import { openBundle, writeBundle } from './bundle';
import { CpuEngine } from './cpu/engine';
import { runMerge, type EmrResult } from './merge';
import { methodSpec } from './methods';
import { buildModelSet } from './model-set';
import { memoryCheckpoint } from './testing/memory-checkpoint';

const FILE = 'hostile-bundle.safetensors';

async function fixture() {
  const base = memoryCheckpoint('base.safetensors', [
    { name: 'w', dtype: 'F32', shape: [9], values: Float32Array.from({ length: 9 }, (_, i) => i) },
    { name: 'head', dtype: 'F32', shape: [2], values: new Float32Array(2) },
  ]);
  const tasks = [1, 2].map((k) => ({
    name: `t${k}`,
    checkpoint: memoryCheckpoint(`t${k}.safetensors`, [
      {
        name: 'w',
        dtype: 'F32',
        shape: [9],
        values: Float32Array.from({ length: 9 }, (_, i) => i + k * (i % 3) - 1),
      },
      { name: 'head', dtype: 'F32', shape: [k + 1], values: new Float32Array(k + 1).fill(k) },
    ]),
  }));
  const set = buildModelSet(base, tasks);
  const result = (await runMerge(set, methodSpec('emr'), new CpuEngine())) as EmrResult;
  const sink = new MemorySink(FILE);
  await writeBundle(result, sink);
  const bundle = await openSafetensors(bytesSource(sink.bytes(), FILE));
  return { base, bundle, manifest: JSON.parse(bundle.metadata.get('manifest') as string) as Manifest };
}

type Manifest = Record<string, unknown> & {
  tasks: (Record<string, unknown> & { tensors: Record<string, unknown>[] })[];
  shared: Record<string, unknown>[];
};

/** The same tensors under another manifest text. */
async function withManifest(bundle: Checkpoint, manifest: string): Promise<Checkpoint> {
  const tensors = await Promise.all(
    [...bundle.tensors.values()].map(async (e) => ({
      name: e.name,
      dtype: e.dtype,
      shape: e.shape,
      bytes: await readTensor(e),
    })),
  );
  const sink = new MemorySink(FILE);
  await writeSafetensors(sink, tensors, { format: 'merge-studio/emr-bundle', manifest });
  return openSafetensors(bytesSource(sink.bytes(), FILE));
}

const edit =
  (change: (m: Manifest) => void) =>
  (m: Manifest): string => {
    const copy = structuredClone(m);
    change(copy);
    return JSON.stringify(copy);
  };

const CASES: [string, (m: Manifest) => string, RegExp][] = [
  ['null', () => 'null', /the manifest is null, not an object/],
  ['a list', () => '[]', /the manifest is \[\], not an object/],
  ['not JSON', () => '{"version": "1",', /manifest is not valid JSON/],
  ['version 2', edit((m) => (m['version'] = '2')), /bundle version "2" is not supported/],
  [
    'shared not a list',
    edit((m) => ((m as Record<string, unknown>)['shared'] = 5)),
    /shared is 5, not a list/,
  ],
  [
    'tasks missing',
    edit((m) => delete (m as Record<string, unknown>)['tasks']),
    /tasks is undefined, not a list/,
  ],
  ['a task null', edit((m) => (m.tasks[1] = null as never)), /tasks\[1\] is null, not an object/],
  [
    'lambda "abc"',
    edit((m) => (m.tasks[0]!['lambda'] = 'abc')),
    /task "t1": lambda "abc" is not a finite number/,
  ],
  [
    'lambda 1e400',
    (m) => JSON.stringify(m).replace(/"lambda":[^,]+/, '"lambda":1e400'),
    /lambda Infinity is not a finite number/,
  ],
  ['lambda < 0', edit((m) => (m.tasks[0]!['lambda'] = -1)), /lambda -1 is not a finite number ≥ 0/],
  [
    'lambdaDefaulted "no"',
    edit((m) => (m.tasks[0]!['lambdaDefaulted'] = 'no')),
    /lambdaDefaulted is "no", not true or false/,
  ],
  [
    'unknown dtype',
    edit((m) => (m.tasks[1]!.tensors[0]!['dtype'] = 'Q7')),
    /dtype "Q7" is not a known dtype/,
  ],
  [
    'int shared',
    edit((m) => (m.tasks[0]!.tensors.find((t) => t['shared'])!['dtype'] = 'I64')),
    /merged, but dtype "I64" is not a float/,
  ],
  ['negative dim', edit((m) => (m.shared[0]!['shape'] = [-9])), /shape \[-9\] is not a shape/],
  ['shape not a list', edit((m) => (m.tasks[0]!.tensors[0]!['shape'] = '9')), /shape is "9", not a list/],
  [
    'shared shape differs',
    edit((m) => (m.tasks[0]!.tensors.find((t) => t['shared'])!['shape'] = [3, 3])),
    /shape \[3, 3\], but shared as \[9\]/,
  ],
  ['base dtype', edit((m) => (m.shared[0]!['baseDtype'] = 'U8')), /baseDtype "U8" is not F32, F16 or BF16/],
  ['method', edit((m) => (m['method'] = { method: 'ties' })), /method .* is not \{"method": "emr"/],
  [
    'includesTaskSpecific',
    edit((m) => delete m['includesTaskSpecific']),
    /includesTaskSpecific is undefined/,
  ],
  ['one task', edit((m) => m.tasks.pop()), /1 task; a bundle holds two or more/],
  ['same task twice', edit((m) => (m.tasks[1]!['name'] = 't1')), /two tasks are named "t1"/],
  ['empty name', edit((m) => (m.tasks[1]!['name'] = '')), /name is "", not a non-empty string/],
  [
    'head dtype differs from stored',
    edit((m) => (m.tasks[1]!.tensors.find((t) => !t['shared'])!['dtype'] = 'F16')),
    /task\/t2\/head is F32 \[3\], the manifest says F16 \[3\]/,
  ],
];

describe('a hostile bundle manifest', () => {
  it('the untouched manifest opens', async () => {
    const { base, bundle, manifest } = await fixture();
    const result = await openBundle(await withManifest(bundle, JSON.stringify(manifest)), base);
    expect(result.lambdas.every(Number.isFinite)).toBe(true);
  });

  it.each(CASES)('%s: a FormatError naming the bundle', async (_, change, message) => {
    const { base, bundle, manifest } = await fixture();
    const error = await openBundle(await withManifest(bundle, change(manifest)), base).catch(
      (e: unknown) => e,
    );
    expect(isFormatError(error), String(error)).toBe(true);
    expect(String(error)).toContain(`${FILE}: `);
    expect(String(error)).toMatch(message);
  });
});
