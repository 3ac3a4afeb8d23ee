// Plan: the generator's presets have the geometry they claim (ViT-B/32 ≈ 87.5 M merged parameters,
// without writing it), a small 'realistic' ViT set has the sparsity and sign conflicts it was asked
// for (measured by the EMR merge itself) in f32 and f16, and an LLM-like bf16 set comes out as
// Hugging Face shards that open through their index and merge. The default ('simple') model is
// pinned by value, so the benchmark's inputs do not drift.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { widenToF32 } from '../../formats/dtype';
import { fileSource, type FileSource } from '../../formats/node-files';
import { openSafetensors, openShardedSafetensors } from '../../formats/safetensors';
import type { Checkpoint } from '../../formats/tensor';
import { CpuEngine } from '../cpu/engine';
import { runMerge, type EmrResult } from '../merge';
import { methodSpec } from '../methods';
import { buildModelSet } from '../model-set';
import {
  LLM_PRESETS,
  llmLikeShapes,
  VIT_PRESETS,
  vitLikeParameters,
  writeLlmSet,
  writeSyntheticSet,
  writeVitSet,
  type SyntheticSet,
} from './synthetic';

let dir: string;
const sources: FileSource[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synthetic-test-'));
});
afterAll(async () => {
  await Promise.all(sources.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function open(path: string): Promise<Checkpoint> {
  if (!path.endsWith('.index.json')) {
    const s = await fileSource(path);
    sources.push(s);
    return openSafetensors(s);
  }
  const folder = join(path, '..');
  const shards = await Promise.all(
    (await readdir(folder)).filter((n) => n.endsWith('.safetensors')).map((n) => fileSource(join(folder, n))),
  );
  const index = await fileSource(path);
  sources.push(index, ...shards);
  return openShardedSafetensors(index, shards);
}

async function mergeSet(set: SyntheticSet): Promise<EmrResult> {
  const base = await open(set.base);
  const tasks = await Promise.all(
    set.tasks.map(async (t) => ({ name: t.name, checkpoint: await open(t.path) })),
  );
  return (await runMerge(buildModelSet(base, tasks), methodSpec('emr'), new CpuEngine())) as EmrResult;
}

/** Share of shared elements where a task's τ is exactly 0, and where tasks disagree in sign. */
function measured(result: EmrResult): { zero: number; conflict: number } {
  const numel = result.tensors.reduce((a, t) => a + t.numel, 0);
  const conflicts = result.tensors.reduce((a, t) => a + t.conflicts, 0);
  // a zero τ is off in every mask; mask density + zero share + disagreeing share = 1 per task
  const density = result.tasks.reduce((a, t) => a + t.density, 0) / result.tasks.length;
  return { zero: 1 - density, conflict: conflicts / numel };
}

describe('presets', () => {
  it('vit-b is ViT-B/32: about 87.5 M merged parameters', () => {
    const p = VIT_PRESETS['vit-b'];
    const n = vitLikeParameters(p.width, p.depth, p.patch, p.tokens);
    expect(n).toBe(87_455_232);
  });

  it('llm-7b has Llama-2-7B geometry (6.74 B parameters)', () => {
    const p = LLM_PRESETS['llm-7b'];
    const n = llmLikeShapes(p.hidden, p.layers, p.intermediate, p.vocab).reduce(
      (a, s) => a + s.shape.reduce((x, y) => x * y, 1),
      0,
    );
    expect(n).toBe(6_738_415_616);
  });
});

describe('written sets', () => {
  it('the default model is unchanged (the benchmark depends on it)', async () => {
    const set = await writeSyntheticSet({ dir: join(dir, 'simple'), numTasks: 2, width: 32, depth: 1 });
    const task = await open(set.tasks[1]?.path as string);
    const entry = task.tensors.get('blocks.0.attn.qkv.weight' as never);
    const values = widenToF32(await (entry as NonNullable<typeof entry>).data.read(0, 16), 'F32');
    expect(Array.from(values)).toMatchInlineSnapshot(`
      [
        -0.0024885733146220446,
        -0.027469471096992493,
        0.026778049767017365,
        -0.033861029893159866,
      ]
    `);
  });

  for (const dtype of ['F32', 'F16'] as const) {
    it(`realistic task vectors in ${dtype}: the asked sparsity, and many sign conflicts`, async () => {
      const set = await writeVitSet('vit-tiny', {
        dir: join(dir, `real-${dtype}`),
        numTasks: 4,
        dtype,
        taskVectors: { sparsity: 0.2, conflict: 0.7 },
      });
      const r = measured(await mergeSet(set));
      // mask-off share = zeros + elements that disagree with the elected sign
      expect(r.zero).toBeGreaterThan(0.2);
      expect(r.conflict).toBeGreaterThan(0.3);
      expect(r.conflict).toBeLessThan(0.95);
    });
  }

  it('no conflict asked, few conflicts found', async () => {
    const set = await writeVitSet('vit-tiny', {
      dir: join(dir, 'agree'),
      numTasks: 4,
      taskVectors: { sparsity: 0, conflict: 0 },
    });
    expect(measured(await mergeSet(set)).conflict).toBe(0);
  });

  it('an LLM-like set: bf16 shards with an index, that open and merge', async () => {
    const set = await writeLlmSet('llm-tiny', { dir: join(dir, 'llm'), numTasks: 2, shardBytes: 1 << 20 });
    const files = await readdir(join(dir, 'llm', 'base'));
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(1);
    const base = await open(set.base);
    expect(new Set([...base.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['BF16']));
    const result = await mergeSet(set);
    expect(result.set.report.sharedParameters).toBe(set.parameters);
    expect(result.tensors.reduce((a, t) => a + t.conflicts, 0)).toBeGreaterThan(0);
  });
});
