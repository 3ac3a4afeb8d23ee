// Plan: the worker's service driven directly in Node with Blobs, as the page drives it through
// comlink: headers summarised, a corrupt file refused with the reader's message, a checkpoint of
// another model refused with the tensors that differ, λ equal to runMerge's, a cancelled merge
// keeping the previous result, and exports (a task, the bundle, the zip) that read back.
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/formats/open';
import { openShardedSafetensors, writeSafetensors } from '../../src/formats/safetensors';
import { MemorySink } from '../../src/formats/sink';
import { bytesSource } from '../../src/formats/source';
import { readTensor } from '../../src/formats/tensor';
import { openBundle } from '../../src/merge/bundle';
import { CpuEngine } from '../../src/merge/cpu/engine';
import { runMerge, type EmrResult } from '../../src/merge/merge';
import { methodSpec } from '../../src/merge/methods';
import { buildModelSet } from '../../src/merge/model-set';
import { StudioService, type PathedFile } from './service';

/** A tiny model: two shared matrices, and a head whose classes differ per task. */
async function model(seed: number, width: number, classes: number): Promise<Uint8Array> {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31 - 0.5);
  const tensor = (name: string, shape: number[], base: boolean) => {
    const n = shape.reduce((a, d) => a * d, 1);
    const values = Float32Array.from(
      { length: n },
      (_, i) => Math.sin(i + width) * 0.1 + (base ? 0 : rand() * 0.01),
    );
    return { name, dtype: 'F32' as const, shape, bytes: new Uint8Array(values.buffer) };
  };
  const sink = new MemorySink();
  await writeSafetensors(sink, [
    tensor('blocks.0.w', [width, width], seed === 0),
    tensor('blocks.1.w', [width, 2 * width], seed === 0),
    tensor('head.w', [classes, width], seed === 0),
  ]);
  return sink.bytes();
}

const file = (path: string, bytes: Uint8Array): PathedFile => ({
  path,
  file: new Blob([bytes as Uint8Array<ArrayBuffer>]),
});
const selection = { baseId: 'base', tasks: ['a', 'b', 'c'].map((id) => ({ id, name: `task-${id}` })) };
const noProgress = () => {};

let files: Record<string, Uint8Array>;
beforeAll(async () => {
  files = {
    base: await model(0, 16, 4),
    a: await model(1, 16, 10),
    b: await model(2, 16, 2),
    c: await model(3, 16, 10),
    foreign: await model(4, 24, 10),
  };
});

async function opened(): Promise<StudioService> {
  const service = new StudioService();
  for (const id of ['base', 'a', 'b', 'c', 'foreign'])
    await service.open(id, file(`${id}.safetensors`, files[id] as Uint8Array), []);
  return service;
}

async function reference(): Promise<EmrResult> {
  const open = (id: string) => openCheckpoint(bytesSource(files[id] as Uint8Array, `${id}.safetensors`));
  const tasks = await Promise.all(
    ['a', 'b', 'c'].map(async (id) => ({ name: `task-${id}`, checkpoint: await open(id) })),
  );
  return (await runMerge(
    buildModelSet(await open('base'), tasks),
    methodSpec('emr'),
    new CpuEngine(),
  )) as EmrResult;
}

describe('StudioService', () => {
  it('summarises headers and refuses a corrupt file with the reader’s message', async () => {
    const service = new StudioService();
    const ok = await service.open('base', file('m/base.safetensors', files['base'] as Uint8Array), []);
    expect(ok).toEqual({
      ok: true,
      summary: {
        format: 'safetensors',
        files: ['base.safetensors'],
        tensorCount: 3,
        parameters: 16 * 16 + 16 * 32 + 4 * 16,
        dtypes: { F32: 3 },
        bytes: (files['base'] as Uint8Array).byteLength,
        isBundle: false,
      },
    });
    const bad = await service.open('x', file('broken.safetensors', new Uint8Array(64).fill(0x41)), []);
    expect(bad).toMatchObject({ ok: false, message: expect.stringMatching(/^broken\.safetensors: /) });
  });

  it('Clear all forgets every file and the result (ui1)', async () => {
    const service = await opened();
    const merged = await service.merge(selection, methodSpec('emr'), 'cpu', noProgress);
    expect(merged.ok).toBe(true);
    expect(service.inferenceSetup()?.tasks.map((t) => t.name)).toEqual(['task-a', 'task-b', 'task-c']);
    await service.clearAll();
    expect(service.inferenceSetup()).toBeUndefined();
    expect(service.align(selection)).toMatchObject({ ok: false });
    // The worker stays usable: the same files opened again merge as before.
    for (const id of ['base', 'a', 'b', 'c'])
      await service.open(id, file(`${id}.safetensors`, files[id] as Uint8Array), []);
    expect((await service.merge(selection, methodSpec('emr'), 'cpu', noProgress)).ok).toBe(true);
  });

  it('refuses a task whose name cannot be a file name (it names downloads and zip entries)', async () => {
    const service = await opened();
    const outcome = service.align({
      ...selection,
      tasks: [...selection.tasks.slice(0, 2), { id: 'c', name: '../../escaped' }],
    });
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.refused).toEqual([
      {
        id: 'c',
        message: 'Cannot name a file: the task name "../../escaped" contains a path separator (/ or \\).',
        differing: [],
      },
    ]);
  });

  it('reports the alignment and refuses a file of another model, naming the tensors that differ', async () => {
    const service = await opened();
    const outcome = service.align({
      ...selection,
      tasks: [...selection.tasks, { id: 'foreign', name: 'foreign' }],
    });
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.report.shared.map((s) => s.name)).toEqual(['blocks.0.w', 'blocks.1.w']);
    expect(outcome.report.leftOut.map((l) => [l.name, l.reason])).toEqual([['head.w', 'shape-mismatch']]);
    expect(outcome.refused).toEqual([
      {
        id: 'foreign',
        message: 'Not a fine-tune of this base: 3 tensors differ in shape, only 0 match.',
        differing: [
          'blocks.0.w: [24, 24] here, [16, 16] in the base',
          'blocks.1.w: [24, 48] here, [16, 32] in the base',
          'head.w: [10, 24] here, [4, 16] in the base',
        ],
      },
    ]);
  });

  it('merges to the λ of runMerge, and a cancelled merge keeps the previous result', async () => {
    const service = await opened();
    const first = await service.merge(selection, methodSpec('emr'), 'cpu', noProgress);
    if (!first.ok) throw new Error(first.message);
    expect(first.summary.tasks.map((t) => t.lambda)).toEqual((await reference()).lambdas);
    const hist = await service.histograms();
    const sum = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);
    expect(hist?.tasks).toHaveLength(3);
    expect(sum(hist?.tauUni ?? []) + (hist?.zeros.tauUni ?? 0)).toBe(16 * 16 + 16 * 32);
    expect(sum(hist?.tasks[0] ?? []) + (hist?.zeros.tasks[0] ?? 0)).toBe(16 * 16 + 16 * 32);

    service.setBudget(1); // 32-element chunks: the merge yields between chunks
    const second = service.merge(selection, methodSpec('ta', { lambda: 0.3 }), 'cpu', () => service.cancel());
    expect(await second).toEqual({
      ok: false,
      cancelled: true,
      message: 'Merge cancelled; the previous result is kept.',
    });
    const image = await service.maskImage({ tensor: 'blocks.0.w', task: 0, mode: 'mask', maxCells: 1 << 20 });
    expect(image?.values.length).toBe(16 * 16); // still the EMR result
  });

  it('exports a task, the bundle and a zip of everything, each readable', async () => {
    const service = await opened();
    const merged = await service.merge(selection, methodSpec('emr'), 'cpu', noProgress);
    if (!merged.ok) throw new Error(merged.message);
    const blobOf = async (what: Parameters<StudioService['export']>[0]) => {
      const out = await service.export(what, { kind: 'blob' });
      if (!out.ok || !out.blob) throw new Error(out.ok ? 'no blob' : out.message);
      expect(out.bytes).toBe(out.blob.size);
      return new Uint8Array(await out.blob.arrayBuffer());
    };
    const task = await openCheckpoint(
      bytesSource(await blobOf({ kind: 'task', task: 1 }), 'task-b.safetensors'),
    );
    expect([...task.tensors.keys()]).toEqual(['blocks.0.w', 'blocks.1.w', 'head.w']);
    const ref = await reference();
    const bundleBytes = await blobOf({ kind: 'bundle' });
    const restored = await openBundle(
      await openCheckpoint(bytesSource(bundleBytes, 'emr-bundle.safetensors')),
      ref.set.base,
    );
    expect(restored.lambdas).toEqual(ref.lambdas);
    // The Storage card's figure is the bundle file's size on disk (header and manifest included).
    expect(merged.summary.storage.bundleBytes).toBe(bundleBytes.byteLength);
    const zip = unzipSync(await blobOf({ kind: 'zip' }));
    expect(Object.keys(zip)).toEqual([
      'emr-bundle.safetensors',
      'task-a.safetensors',
      'task-b.safetensors',
      'task-c.safetensors',
    ]);
    expect(zip['emr-bundle.safetensors']).toEqual(bundleBytes);
  });

  it('writes a large task model as Hugging Face shards that read back as the single file', async () => {
    const service = await opened();
    service.setShardBytes(1500); // blocks.0.w is 1 KiB, blocks.1.w 2 KiB, the head 256 bytes
    const merged = await service.merge(selection, methodSpec('emr'), 'cpu', noProgress);
    if (!merged.ok) throw new Error(merged.message);
    expect(merged.summary.tasks.map((t) => t.files)).toEqual([3, 3, 3]);
    const out = await service.export({ kind: 'task', task: 0 }, { kind: 'blob' });
    if (!out.ok || !out.blob) throw new Error(out.ok ? 'no blob' : out.message);
    const files = unzipSync(new Uint8Array(await out.blob.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual([
      'task-a-00001-of-00003.safetensors',
      'task-a-00002-of-00003.safetensors',
      'task-a-00003-of-00003.safetensors',
      'task-a.safetensors.index.json',
    ]);
    const source = (name: string) => bytesSource(files[name] as Uint8Array, name);
    const shards = Object.keys(files)
      .filter((n) => n.endsWith('.safetensors'))
      .map(source);
    const sharded = await openShardedSafetensors(source('task-a.safetensors.index.json'), shards);
    service.setShardBytes(undefined);
    await service.merge(selection, methodSpec('emr'), 'cpu', noProgress);
    const single = await service.export({ kind: 'task', task: 0 }, { kind: 'blob' });
    if (!single.ok || !single.blob) throw new Error('single export failed');
    const whole = await openCheckpoint(
      bytesSource(new Uint8Array(await single.blob.arrayBuffer()), 'task-a.safetensors'),
    );
    expect([...sharded.tensors.keys()]).toEqual([...whole.tensors.keys()]);
    for (const [name, e] of whole.tensors)
      expect(await readTensor(sharded.tensors.get(name) as typeof e)).toEqual(await readTensor(e));
  });

  it('restores the inspect summary from a bundle and the base', async () => {
    const service = await opened();
    const merged = await service.merge(selection, methodSpec('emr'), 'cpu', noProgress);
    const out = await service.export({ kind: 'bundle' }, { kind: 'blob' });
    if (!merged.ok || !out.ok || !out.blob) throw new Error('setup failed');
    const fresh = new StudioService();
    await fresh.open('base', file('base.safetensors', files['base'] as Uint8Array), []);
    const bundle = await fresh.open('bundle', { path: 'emr-bundle.safetensors', file: out.blob }, []);
    expect(bundle).toMatchObject({ ok: true, summary: { isBundle: true } });
    const restored = await fresh.openBundle('bundle', 'base');
    if (!restored.ok) throw new Error(restored.message);
    expect(restored.summary.source).toBe('bundle');
    expect(restored.summary.tasks.map((t) => t.lambda)).toEqual(merged.summary.tasks.map((t) => t.lambda));
    expect(restored.summary.tensors.map((t) => t.density)).toEqual(
      merged.summary.tensors.map((t) => t.density),
    );
  });
});
