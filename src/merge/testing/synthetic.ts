// Synthetic checkpoint sets for tests and benchmarks: a base and N fine-tunes with realistic tensor
// names and shapes, written as safetensors. Task vectors are small next to the weights, a share of
// them exactly zero, and signs that conflict between tasks — the regime EMR is built for.
//   writeSyntheticSet  ViT-like (timm names), one file per model; `preset: 'vit-b'` gives ViT-B/32
//                      (~87.5 M parameters, the paper's CLIP ViT-B/32 vision tower), f32/f16/bf16.
//   writeLlmLikeSet    Llama-like (transformers names), bf16 by default, every model in its own
//                      folder as Hugging Face shards + model.safetensors.index.json.
// tools/synthetic.ts is the command line over both (docs/reliability.md).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { narrowFromF32, type MergeDType } from '../../formats/dtype';
import { fileSink } from '../../formats/node-files';
import { createSafetensorsWriter } from '../../formats/safetensors';
import { planShards, shardName } from '../sharded';

/**
 * How task vectors τ_t = θ_t − θ₀ are drawn in 'realistic' mode: per element, τ_t is exactly 0
 * with probability `sparsity`, else s_l·(√(1−c)·g + √c·e_t), where g is a direction common to all
 * tasks, e_t the task's own, both Laplace (fine-tuning deltas are heavy-tailed), c = `conflict`,
 * and s_l a per-tensor scale that grows with depth (later blocks move more).
 */
export interface TaskVectorModel {
  /** Share of τ entries that are exactly zero (per task, independent). */
  readonly sparsity: number;
  /**
   * 0: every task moves each weight the same way (no sign conflict); 1: signs independent across
   * tasks. The share of elements where some tasks disagree grows with it (and with N).
   */
  readonly conflict: number;
  /** Typical |τ| relative to the base weights' scale (default 0.05). */
  readonly relativeScale?: number;
}

/** The paper's observation as defaults: sparse-ish, strongly conflicting task vectors. */
export const REALISTIC_TASK_VECTORS: TaskVectorModel = { sparsity: 0.05, conflict: 0.7, relativeScale: 0.05 };

export interface SyntheticSpec {
  readonly dir: string;
  readonly numTasks: number;
  /** Width of the model; parameters grow as about 12·width²·depth. */
  readonly width: number;
  readonly depth: number;
  readonly dtype?: MergeDType;
  readonly seed?: number;
  /** Share of task-vector entries that are exactly zero (the 'simple' model only). */
  readonly zeroFraction?: number;
  /** Side of the square patches of the patch embedding (16 by default; ViT-B/32 has 32). */
  readonly patch?: number;
  /** Tokens of the position embedding (50 by default: 7×7 patches of 224 px at 32 px, + CLS). */
  readonly tokens?: number;
  /**
   * Task vectors: the 'simple' model the benchmarks were recorded with (the default), or drawn
   * from a TaskVectorModel.
   */
  readonly taskVectors?: 'simple' | TaskVectorModel;
}

export interface SyntheticSet {
  /** The base model's file (or its index.json for a sharded set). */
  readonly base: string;
  readonly tasks: readonly { readonly name: string; readonly path: string }[];
  /** Parameters merged (shared by the base and every task; heads excluded). */
  readonly parameters: number;
  /** The base model's bytes (every tensor, its head included). */
  readonly bytesPerModel: number;
}

export interface TensorShape {
  readonly name: string;
  readonly shape: number[];
}

export function vitLikeShapes(
  width: number,
  depth: number,
  classes: number,
  patch = 16,
  tokens = 50,
): TensorShape[] {
  const d = width;
  const out: TensorShape[] = [
    { name: 'patch_embed.proj.weight', shape: [d, 3 * patch * patch] },
    { name: 'patch_embed.proj.bias', shape: [d] },
    { name: 'cls_token', shape: [1, 1, d] },
    { name: 'pos_embed', shape: [1, tokens, d] },
  ];
  for (let b = 0; b < depth; b++) {
    const p = `blocks.${b}`;
    out.push(
      { name: `${p}.norm1.weight`, shape: [d] },
      { name: `${p}.norm1.bias`, shape: [d] },
      { name: `${p}.attn.qkv.weight`, shape: [3 * d, d] },
      { name: `${p}.attn.qkv.bias`, shape: [3 * d] },
      { name: `${p}.attn.proj.weight`, shape: [d, d] },
      { name: `${p}.attn.proj.bias`, shape: [d] },
      { name: `${p}.norm2.weight`, shape: [d] },
      { name: `${p}.norm2.bias`, shape: [d] },
      { name: `${p}.mlp.fc1.weight`, shape: [4 * d, d] },
      { name: `${p}.mlp.fc1.bias`, shape: [4 * d] },
      { name: `${p}.mlp.fc2.weight`, shape: [d, 4 * d] },
      { name: `${p}.mlp.fc2.bias`, shape: [d] },
    );
  }
  out.push(
    { name: 'norm.weight', shape: [d] },
    { name: 'norm.bias', shape: [d] },
    { name: 'head.weight', shape: [classes, d] },
    { name: 'head.bias', shape: [classes] },
  );
  return out;
}

/** Presets for writeSyntheticSet: the model's geometry, to which dir, numTasks and dtype are added. */
export const VIT_PRESETS = {
  /** The benchmark's model (bench/merge.ts): ~16.6 M parameters, ~64 MiB in f32. */
  'vit-s': { width: 384, depth: 9, patch: 16, tokens: 50 },
  /** ViT-B/32 (CLIP's vision tower, the paper's 8-task benchmark): ~87.5 M parameters. */
  'vit-b': { width: 768, depth: 12, patch: 32, tokens: 50 },
  /** A few hundred thousand parameters, for quick tests. */
  'vit-tiny': { width: 64, depth: 2, patch: 16, tokens: 50 },
} as const;

export type VitPreset = keyof typeof VIT_PRESETS;

const numelOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Merged parameters of a ViT-like model (everything but the head). */
export function vitLikeParameters(width: number, depth: number, patch = 16, tokens = 50): number {
  return vitLikeShapes(width, depth, 1, patch, tokens)
    .filter((s) => !s.name.startsWith('head.'))
    .reduce((a, s) => a + numelOf(s.shape), 0);
}

/** xorshift32: fast, deterministic, good enough for weights nobody trains. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** A Laplace(0, 1) sample from a uniform one: heavy tails, like fine-tuning deltas. */
function laplace(u: number): number {
  const v = u - 0.5;
  return v < 0 ? Math.log(1 + 2 * v + 1e-12) : -Math.log(1 - 2 * v + 1e-12);
}

/**
 * One tensor's values for file `fi` (0 = the base), deterministic in (seed, fi, si): the base's
 * values are the same in every file, so τ is exactly what the model says.
 */
function tensorValues(
  numel: number,
  fi: number,
  si: number,
  seed: number,
  ownTensor: boolean,
  model: 'simple' | TaskVectorModel,
  zero: number,
  depthShare: number,
  weightScale: number,
): Float32Array {
  const baseRand = rng(seed * 7919 + si); // the same base values in every file
  const taskRand = rng(seed * 104729 + fi * 65537 + si);
  const sharedDirection = rng(seed * 31 + si);
  const values = new Float32Array(numel);
  if (fi === 0 || ownTensor) {
    for (let i = 0; i < numel; i++) {
      const w = (baseRand() - 0.5) * weightScale;
      values[i] = fi === 0 ? w : (taskRand() - 0.5) * weightScale;
    }
    return values;
  }
  if (model === 'simple') {
    for (let i = 0; i < numel; i++) {
      const w = (baseRand() - 0.5) * weightScale;
      const r = taskRand();
      // a component common to all tasks (so means are not zero) plus a task's own, conflicting part
      const common = (sharedDirection() - 0.5) * 0.002;
      values[i] = r < zero ? w : w + common + (taskRand() - 0.5) * 0.004;
    }
    return values;
  }
  const scale = weightScale * (model.relativeScale ?? 0.05) * (0.5 + depthShare);
  const a = Math.sqrt(1 - model.conflict) * scale;
  const b = Math.sqrt(model.conflict) * scale;
  for (let i = 0; i < numel; i++) {
    const w = (baseRand() - 0.5) * weightScale;
    const common = laplace(sharedDirection());
    const own = laplace(taskRand());
    values[i] = taskRand() < model.sparsity ? w : w + a * common + b * own;
  }
  return values;
}

/** Depth of a tensor in [0, 1] from a `blocks.7.` / `layers.7.` in its name (0 for embeddings). */
function depthShareOf(name: string, depth: number): number {
  const m = /(?:blocks|layers)\.(\d+)\./.exec(name);
  if (m === null) return name.startsWith('norm') || name.startsWith('model.norm') ? 1 : 0;
  return depth > 1 ? Number(m[1]) / (depth - 1) : 0;
}

export async function writeSyntheticSet(spec: SyntheticSpec): Promise<SyntheticSet> {
  const dtype = spec.dtype ?? 'F32';
  const seed = spec.seed ?? 1;
  const zero = spec.zeroFraction ?? 0.1;
  const model = spec.taskVectors ?? 'simple';
  const files = [
    { name: 'base', classes: 1000 },
    ...Array.from({ length: spec.numTasks }, (_, t) => ({
      name: `task${String(t).padStart(2, '0')}`,
      classes: 2 + (t % 9),
    })),
  ];
  let parameters = 0;
  let bytesPerModel = 0;
  await mkdir(spec.dir, { recursive: true });
  for (const [fi, f] of files.entries()) {
    const shapes = vitLikeShapes(spec.width, spec.depth, f.classes, spec.patch, spec.tokens);
    const sink = await fileSink(join(spec.dir, `${f.name}.safetensors`));
    const writer = await createSafetensorsWriter(
      sink,
      shapes.map((s) => ({ ...s, dtype })),
    );
    let bytes = 0;
    for (const [si, s] of shapes.entries()) {
      const numel = numelOf(s.shape);
      const isHead = s.name.startsWith('head.');
      const values = tensorValues(
        numel,
        fi,
        si,
        seed,
        isHead,
        model,
        zero,
        depthShareOf(s.name, spec.depth),
        0.08,
      );
      const out = narrowFromF32(values, dtype);
      await writer.write(s.name, out);
      bytes += out.byteLength;
      if (fi === 0 && !isHead) parameters += numel;
    }
    await writer.close();
    if (fi === 0) bytesPerModel = bytes;
  }
  return {
    base: join(spec.dir, 'base.safetensors'),
    tasks: files.slice(1).map((f) => ({ name: f.name, path: join(spec.dir, `${f.name}.safetensors`) })),
    parameters,
    bytesPerModel,
  };
}

/** A ViT set from a preset: `writeVitSet('vit-b', { dir, numTasks, dtype: 'F16' })`. */
export function writeVitSet(
  preset: VitPreset,
  spec: Omit<SyntheticSpec, 'width' | 'depth' | 'patch' | 'tokens'>,
): Promise<SyntheticSet> {
  return writeSyntheticSet({ taskVectors: REALISTIC_TASK_VECTORS, ...spec, ...VIT_PRESETS[preset] });
}

// --- LLM-like sets -------------------------------------------------------------------------------

export interface LlmSpec {
  readonly dir: string;
  readonly numTasks: number;
  readonly hidden: number;
  readonly layers: number;
  /** MLP width (Llama: about 2.7 × hidden). */
  readonly intermediate: number;
  readonly vocab: number;
  /** BF16 by default, as LLM checkpoints ship. */
  readonly dtype?: MergeDType;
  /** Largest shard in bytes (transformers' "5GB" by default; small here to get several shards). */
  readonly shardBytes?: number;
  readonly seed?: number;
  readonly taskVectors?: TaskVectorModel;
}

export const LLM_PRESETS = {
  /** A few MB per model: several shards at a 1 MB shard size, for CI. */
  'llm-tiny': { hidden: 128, layers: 4, intermediate: 352, vocab: 1024 },
  /** ~0.5 B parameters (~1 GB in bf16 per model). */
  'llm-small': { hidden: 1024, layers: 24, intermediate: 2816, vocab: 32000 },
  /** Llama-2-7B's geometry: ~6.7 B parameters, ~13.5 GB per model in bf16 — for the benchmark. */
  'llm-7b': { hidden: 4096, layers: 32, intermediate: 11008, vocab: 32000 },
} as const;

export type LlmPreset = keyof typeof LLM_PRESETS;

export function llmLikeShapes(
  hidden: number,
  layers: number,
  intermediate: number,
  vocab: number,
): TensorShape[] {
  const h = hidden;
  const out: TensorShape[] = [{ name: 'model.embed_tokens.weight', shape: [vocab, h] }];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [h] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [h, h] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [h, h] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [h, h] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [h, h] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [h] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [intermediate, h] },
      { name: `${p}.mlp.up_proj.weight`, shape: [intermediate, h] },
      { name: `${p}.mlp.down_proj.weight`, shape: [h, intermediate] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [h] }, { name: 'lm_head.weight', shape: [vocab, h] });
  return out;
}

/**
 * Writes `base/` and `taskNN/`, each holding model-0000k-of-0000n.safetensors shards and the
 * model.safetensors.index.json that maps every tensor to its shard. Every tensor is merged (an LLM
 * fine-tune keeps its vocabulary), so `parameters` is the whole model.
 */
export async function writeLlmLikeSet(spec: LlmSpec): Promise<SyntheticSet> {
  const dtype = spec.dtype ?? 'BF16';
  const seed = spec.seed ?? 1;
  const model = spec.taskVectors ?? REALISTIC_TASK_VECTORS;
  const shapes = llmLikeShapes(spec.hidden, spec.layers, spec.intermediate, spec.vocab);
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const sizes = shapes.map((s) => numelOf(s.shape) * bytesPer);
  const shards = planShards(sizes, spec.shardBytes ?? 5e9);
  const names = [
    'base',
    ...Array.from({ length: spec.numTasks }, (_, t) => `task${String(t).padStart(2, '0')}`),
  ];
  const parameters = shapes.reduce((a, s) => a + numelOf(s.shape), 0);
  for (const [fi, name] of names.entries()) {
    const dir = join(spec.dir, name);
    await mkdir(dir, { recursive: true });
    const weightMap: Record<string, string> = {};
    for (const [k, indices] of shards.entries()) {
      const file = shardName('model', k, shards.length);
      const shard = indices.map((i) => shapes[i] as TensorShape);
      const writer = await createSafetensorsWriter(
        await fileSink(join(dir, file)),
        shard.map((s) => ({ ...s, dtype })),
        { format: 'pt' },
      );
      for (const i of indices) {
        const s = shapes[i] as TensorShape;
        weightMap[s.name] = file;
        // norms sit around 1, matrices around 0 with a 1/√fan-in scale
        const isNorm = s.name.endsWith('norm.weight');
        const values = tensorValues(
          numelOf(s.shape),
          fi,
          i,
          seed,
          false,
          model,
          0,
          depthShareOf(s.name, spec.layers),
          isNorm ? 0.2 : 2 / Math.sqrt(s.shape.at(-1) as number),
        );
        if (isNorm) for (let j = 0; j < values.length; j++) values[j] = (values[j] as number) + 1;
        await writer.write(s.name, narrowFromF32(values, dtype));
      }
      await writer.close();
    }
    const index = { metadata: { total_size: sizes.reduce((a, b) => a + b, 0) }, weight_map: weightMap };
    await writeFile(join(dir, 'model.safetensors.index.json'), `${JSON.stringify(index, null, 2)}\n`);
  }
  return {
    base: join(spec.dir, 'base', 'model.safetensors.index.json'),
    tasks: names
      .slice(1)
      .map((name) => ({ name, path: join(spec.dir, name, 'model.safetensors.index.json') })),
    parameters,
    bytesPerModel: sizes.reduce((a, b) => a + b, 0),
  };
}

/** An LLM-like set from a preset. */
export function writeLlmSet(
  preset: LlmPreset,
  spec: Omit<LlmSpec, 'hidden' | 'layers' | 'intermediate' | 'vocab'>,
): Promise<SyntheticSet> {
  return writeLlmLikeSet({ ...spec, ...LLM_PRESETS[preset] });
}
