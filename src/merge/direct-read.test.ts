// Plan: when every input is F32 read from files, EMR's chunks are read straight into the
// WebAssembly kernels' memory (two slots in turn) — and the result is the one the copying path
// gives, bit for bit: τ_uni, masks, every sum and λ, over many chunks of uneven tensors (the last
// chunk of each short, sizes not a multiple of 32). The direct path is really taken; a merge
// cancelled mid-pass waits for the read in flight and leaves the engine fit for the next merge;
// a file rewritten mid-merge is still a typed 'changed' error; a BF16 set takes the copying path.
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource, type FileSource } from '../formats/node-files';
import { openSafetensors } from '../formats/safetensors';
import { bytesSource } from '../formats/source';
import type { Checkpoint } from '../formats/tensor';
import { CpuEngine } from './cpu/engine';
import type { MergeEngine } from './engine';
import { runMerge, type EmrResult } from './merge';
import { methodSpec } from './methods';
import { buildModelSet, type ModelSet } from './model-set';
import { writeSyntheticSet, type SyntheticSet } from './testing/synthetic';

let dir: string;
let f32: SyntheticSet;
let bf16: SyntheticSet;
const opened: FileSource[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'direct-read-'));
  f32 = await writeSyntheticSet({ dir: join(dir, 'f32'), numTasks: 3, width: 40, depth: 2 });
  bf16 = await writeSyntheticSet({ dir: join(dir, 'bf16'), numTasks: 2, width: 40, depth: 1, dtype: 'BF16' });
});
afterAll(async () => {
  await Promise.all(opened.map((f) => f.close()));
  await rm(dir, { recursive: true, force: true });
});

async function fromFiles(set: SyntheticSet): Promise<ModelSet> {
  const open = async (path: string) => {
    const f = await fileSource(path);
    opened.push(f);
    return openSafetensors(f);
  };
  const [base, ...tasks] = await Promise.all([set.base, ...set.tasks.map((t) => t.path)].map(open));
  return buildModelSet(
    base as Checkpoint,
    set.tasks.map((t, i) => ({ name: t.name, checkpoint: tasks[i] as Checkpoint })),
  );
}

/** The same files through a source that can only copy (no readInto). */
async function fromBytes(set: SyntheticSet): Promise<ModelSet> {
  const open = async (path: string) =>
    openSafetensors(bytesSource(new Uint8Array(await readFile(path)), path));
  const [base, ...tasks] = await Promise.all([set.base, ...set.tasks.map((t) => t.path)].map(open));
  return buildModelSet(
    base as Checkpoint,
    set.tasks.map((t, i) => ({ name: t.name, checkpoint: tasks[i] as Checkpoint })),
  );
}

/** Counts the slots the engine hands out. */
function counting(engine: CpuEngine): { engine: MergeEngine; calls: number[] } {
  const calls: number[] = [];
  const wrapped = Object.create(engine) as CpuEngine;
  wrapped.emrInputs = (slot, numel, maxNumel, numTasks) => {
    calls.push(slot);
    return engine.emrInputs(slot, numel, maxNumel, numTasks);
  };
  return { engine: wrapped, calls };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function expectSame(got: EmrResult, want: EmrResult): void {
  expect(got.lambdas).toEqual(want.lambdas);
  expect(got.tasks).toEqual(want.tasks);
  expect(got.tensors).toEqual(want.tensors);
  for (const [name, tau] of want.tauUni) {
    expect(bits(got.tauUni.get(name) as Float32Array)).toEqual(bits(tau));
    expect(Array.from(got.masks.get(name) as Uint32Array)).toEqual(
      Array.from(want.masks.get(name) as Uint32Array),
    );
  }
}

describe('EMR inputs read straight into the kernels’ memory', () => {
  // ~2 000-element chunks: every tensor in several, the last of each short and not a multiple of 32.
  const budgetBytes = 2000 * 40 * 2;

  it('give the copying path’s result bit for bit, and are really used', async () => {
    const cpu = new CpuEngine();
    expect(cpu.simd).toBe(true);
    const { engine, calls } = counting(cpu);
    const direct = (await runMerge(await fromFiles(f32), methodSpec('emr'), engine, {
      budgetBytes,
    })) as EmrResult;
    const copied = (await runMerge(await fromBytes(f32), methodSpec('emr'), new CpuEngine(), {
      budgetBytes,
    })) as EmrResult;
    expect(calls.length).toBeGreaterThan(20);
    expect(new Set(calls)).toEqual(new Set([0, 1]));
    expectSame(direct, copied);
  });

  it('a cancelled merge waits for its read in flight; the engine merges correctly next', async () => {
    const cpu = new CpuEngine();
    const controller = new AbortController();
    let chunks = 0;
    const cancelled = runMerge(await fromFiles(f32), methodSpec('emr'), cpu, {
      budgetBytes,
      signal: controller.signal,
      onProgress: () => {
        if (++chunks === 5) controller.abort();
      },
    });
    await expect(cancelled).rejects.toThrow();
    const again = (await runMerge(await fromFiles(f32), methodSpec('emr'), cpu, {
      budgetBytes,
    })) as EmrResult;
    const copied = (await runMerge(await fromBytes(f32), methodSpec('emr'), new CpuEngine(), {
      budgetBytes,
    })) as EmrResult;
    expectSame(again, copied);
  });

  it('a file rewritten mid-merge is a typed change, not a mix of old and new bytes', async () => {
    const set = await fromFiles(f32);
    const path = f32.tasks[1]?.path as string;
    const original = await readFile(path);
    let chunks = 0;
    try {
      const merging = runMerge(set, methodSpec('emr'), new CpuEngine(), {
        budgetBytes,
        onProgress: () => {
          if (++chunks === 3) writeFileSync(path, Buffer.concat([original, Buffer.alloc(64)])); // before the next read
        },
      });
      await expect(merging).rejects.toMatchObject({ name: 'FormatError', code: 'changed' });
    } finally {
      await writeFile(path, original);
    }
  });

  it('a BF16 set takes the copying path, with the same result as from memory', async () => {
    const { engine, calls } = counting(new CpuEngine());
    const fromDisk = (await runMerge(await fromFiles(bf16), methodSpec('emr'), engine, {
      budgetBytes,
    })) as EmrResult;
    const copied = (await runMerge(await fromBytes(bf16), methodSpec('emr'), new CpuEngine(), {
      budgetBytes,
    })) as EmrResult;
    expect(calls).toEqual([]);
    expectSame(fromDisk, copied);
  });
});
