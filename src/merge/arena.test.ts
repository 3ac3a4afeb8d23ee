// Plan: with every input F32 in files and the base within the budget, the CPU engine that asks
// for it (the CLI's) holds the whole EMR merge in one WebAssembly memory (./emr-arena.ts,
// ./cpu/wasm/arena.ts): the elect kernel reads each chunk where it was read and writes τ_uni and
// the masks where they stay, and the task models are rebuilt there. Held to the copying path bit
// for bit — τ_uni, masks, every sum and λ, the NaN/±∞ counts, and every task model's bytes
// (streamed, and read by range) — over many chunks of uneven tensors, on one thread and with a
// helper thread. The arena is really used; it is not unless asked for, nor where the base passes
// the budget; a merge cancelled mid-pass leaves the engine fit for the next.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource, type FileSource } from '../formats/node-files';
import { openSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { bytesSource } from '../formats/source';
import type { Checkpoint } from '../formats/tensor';
import { CpuEngine } from './cpu/engine';
import { createNodeCpuEngine } from './cpu/node-engine';
import type { ArenaTensor } from './emr-arena';
import { writeTaskSafetensors } from './export';
import { runMerge, type EmrResult } from './merge';
import { methodSpec } from './methods';
import { buildModelSet, type ModelSet } from './model-set';
import { taskModel } from './task-model';
import { writeSyntheticSet, type SyntheticSet } from './testing/synthetic';

let dir: string;
let f32: SyntheticSet;
const opened: FileSource[] = [];
// ~5 000-element chunks (several per tensor, the last of each short); the base (289 KB) fits.
const budgetBytes = 400_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arena-'));
  f32 = await writeSyntheticSet({ dir: join(dir, 'f32'), numTasks: 3, width: 40, depth: 2 });
});
afterAll(async () => {
  await Promise.all(opened.map((f) => f.close()));
  await rm(dir, { recursive: true, force: true });
});

async function open(set: SyntheticSet, fromFiles: boolean): Promise<ModelSet> {
  const one = async (path: string) => {
    if (!fromFiles) return openSafetensors(bytesSource(new Uint8Array(await readFile(path)), path));
    const f = await fileSource(path);
    opened.push(f);
    return openSafetensors(f);
  };
  const [base, ...tasks] = await Promise.all([set.base, ...set.tasks.map((t) => t.path)].map(one));
  return buildModelSet(
    base as Checkpoint,
    set.tasks.map((t, i) => ({ name: t.name, checkpoint: tasks[i] as Checkpoint })),
  );
}

/** A CPU engine that counts the arenas it made. */
function counting(): { engine: CpuEngine; arenas: number[] } {
  const cpu = new CpuEngine({ arena: true });
  const arenas: number[] = [];
  const engine = Object.create(cpu) as CpuEngine;
  engine.emrArena = (tensors: readonly ArenaTensor[], numTasks: number, maxNumel: number) => {
    const a = cpu.emrArena(tensors, numTasks, maxNumel);
    if (a) arenas.push(maxNumel);
    return a;
  };
  return { engine, arenas };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function expectSame(got: EmrResult, want: EmrResult): void {
  expect(got.lambdas).toEqual(want.lambdas);
  expect(got.tasks).toEqual(want.tasks);
  expect(got.tensors).toEqual(want.tensors);
  expect(got.nonFinite).toEqual(want.nonFinite);
  expect([...got.tauUni.keys()]).toEqual([...want.tauUni.keys()]);
  for (const [name, tau] of want.tauUni) {
    expect(bits(got.tauUni.get(name) as Float32Array)).toEqual(bits(tau));
    expect(Array.from(got.masks.get(name) as Uint32Array)).toEqual(
      Array.from(want.masks.get(name) as Uint32Array),
    );
  }
}

async function taskFile(result: EmrResult, t: number, engine: CpuEngine): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeTaskSafetensors(result, t, engine, sink, budgetBytes);
  return sink.bytes();
}

async function merge(set: ModelSet, engine: CpuEngine, budget = budgetBytes): Promise<EmrResult> {
  return (await runMerge(set, methodSpec('emr'), engine, { budgetBytes: budget })) as EmrResult;
}

describe('an EMR merge held in the CPU engine’s memory (the arena)', () => {
  it('gives the copying path’s result and task models bit for bit, and is really used', async () => {
    const { engine, arenas } = counting();
    const held = await merge(await open(f32, true), engine);
    const copied = await merge(await open(f32, false), new CpuEngine());
    expect(arenas).toHaveLength(1);
    expect(held.values.arena).toBeDefined();
    expect(copied.values.arena).toBeUndefined();
    expectSame(held, copied);
    for (let t = 0; t < 3; t++) {
      const [mine, theirs] = [await taskFile(held, t, engine), await taskFile(copied, t, new CpuEngine())];
      expect(mine.length).toBe(theirs.length);
      expect(Buffer.compare(mine, theirs)).toBe(0); // toEqual on 450 KB arrays takes seconds
      // By range, as the ONNX writer and the studio read: an odd range inside a tensor.
      const [a, b] = [taskModel(held, t, engine), taskModel(copied, t, new CpuEngine())];
      const i = a.findIndex((x) => x.byteLength > 4000);
      const [x, y] = [a[i], b[i]];
      expect(await x?.data.read(1004, 3998)).toEqual(await y?.data.read(1004, 3998));
    }
  });

  it('with a helper thread (the CLI’s pool) elects every other chunk there: the same bits', async () => {
    const pool = createNodeCpuEngine(2);
    try {
      // Small chunks (many of each size) so both lanes run many, in the largest-first order.
      const held = await merge(await open(f32, true), pool as unknown as CpuEngine, 300_000);
      expect(held.values.arena?.lanes).toBe(2);
      expectSame(held, await merge(await open(f32, false), new CpuEngine(), 300_000));
      const copied = await merge(await open(f32, false), new CpuEngine());
      const again = await merge(await open(f32, true), pool as unknown as CpuEngine);
      expect(again.values.arena?.helped).toBeGreaterThan(0); // the worker was up from the start
      expectSame(again, copied);
      const [mine, theirs] = [
        await taskFile(again, 2, new CpuEngine()),
        await taskFile(copied, 2, new CpuEngine()),
      ];
      expect(Buffer.compare(mine, theirs)).toBe(0);
      // Cancelled mid-pass with a chunk on the helper: the next merge is still right.
      const controller = new AbortController();
      let chunks = 0;
      const cancelled = runMerge(await open(f32, true), methodSpec('emr'), pool, {
        budgetBytes,
        signal: controller.signal,
        onProgress: () => {
          if (++chunks === 3) controller.abort();
        },
      });
      await expect(cancelled).rejects.toThrow();
      expectSame(await merge(await open(f32, true), pool as unknown as CpuEngine), copied);
    } finally {
      pool.dispose();
    }
  });

  it('counts NaN and ±∞ in the inputs as the copying path does', async () => {
    const nan = join(dir, 'nan');
    const set = await writeSyntheticSet({ dir: nan, numTasks: 3, width: 40, depth: 2 });
    // In a task: NaN as norm.bias's last element (in a word's padding-side half), −∞ as its first.
    const path = set.tasks[1]?.path as string;
    const bytes = await readFile(path);
    const headerBytes = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerBytes).toString()) as Record<
      string,
      { data_offsets: [number, number] }
    >;
    const [from, to] = (header['norm.bias'] as { data_offsets: [number, number] }).data_offsets;
    bytes.writeFloatLE(NaN, 8 + headerBytes + to - 4);
    bytes.writeFloatLE(-Infinity, 8 + headerBytes + from);
    await writeFile(path, bytes);
    const held = await merge(await open(set, true), new CpuEngine({ arena: true }));
    const copied = await merge(await open(set, false), new CpuEngine());
    expect(held.values.arena).toBeDefined();
    expect(held.nonFinite?.tasks).toEqual([0, 2, 0]);
    expectSame(held, copied);
  });

  it('is not used unless the engine is asked for it (the studio), nor where the base would pass the budget', async () => {
    const plain = await merge(await open(f32, true), new CpuEngine());
    expect(plain.values.arena).toBeUndefined();
  });

  it('is not used where the base would pass the budget: the copying path, same result', async () => {
    const { engine, arenas } = counting();
    const small = 160_000; // under the base's 289 KB
    const result = await merge(await open(f32, true), engine, small);
    expect(arenas).toEqual([]);
    expect(result.values.arena).toBeUndefined();
    expectSame(result, await merge(await open(f32, false), new CpuEngine(), small));
  });

  it('a merge cancelled mid-pass leaves the engine merging correctly next', async () => {
    const cpu = new CpuEngine({ arena: true });
    const controller = new AbortController();
    let chunks = 0;
    const cancelled = runMerge(await open(f32, true), methodSpec('emr'), cpu, {
      budgetBytes,
      signal: controller.signal,
      onProgress: () => {
        if (++chunks === 4) controller.abort();
      },
    });
    await expect(cancelled).rejects.toThrow();
    expectSame(await merge(await open(f32, true), cpu), await merge(await open(f32, false), new CpuEngine()));
  });
});
