// Synthetic checkpoint sets for tests and benchmarks: a base and N fine-tunes with ViT-like tensor
// names and shapes, written as safetensors. Task vectors are small next to the weights, a share of
// them exactly zero, and signs that conflict between tasks — the regime EMR is built for.
import { join } from 'node:path';
import { narrowFromF32, type MergeDType } from '../../formats/dtype';
import { fileSink } from '../../formats/node-files';
import { createSafetensorsWriter } from '../../formats/safetensors';

export interface SyntheticSpec {
  readonly dir: string;
  readonly numTasks: number;
  /** Width of the model; parameters grow as about 12·width²·depth. */
  readonly width: number;
  readonly depth: number;
  readonly dtype?: MergeDType;
  readonly seed?: number;
  /** Share of task-vector entries that are exactly zero. */
  readonly zeroFraction?: number;
}

export interface SyntheticSet {
  readonly base: string;
  readonly tasks: readonly { readonly name: string; readonly path: string }[];
  readonly parameters: number;
  readonly bytesPerModel: number;
}

export function vitLikeShapes(
  width: number,
  depth: number,
  classes: number,
): { name: string; shape: number[] }[] {
  const d = width;
  const out: { name: string; shape: number[] }[] = [
    { name: 'patch_embed.proj.weight', shape: [d, 3 * 16 * 16] },
    { name: 'patch_embed.proj.bias', shape: [d] },
    { name: 'cls_token', shape: [1, 1, d] },
    { name: 'pos_embed', shape: [1, 50, d] },
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

export async function writeSyntheticSet(spec: SyntheticSpec): Promise<SyntheticSet> {
  const dtype = spec.dtype ?? 'F32';
  const seed = spec.seed ?? 1;
  const zero = spec.zeroFraction ?? 0.1;
  const files = [
    { name: 'base', classes: 1000 },
    ...Array.from({ length: spec.numTasks }, (_, t) => ({
      name: `task${String(t).padStart(2, '0')}`,
      classes: 2 + (t % 9),
    })),
  ];
  let parameters = 0;
  let bytesPerModel = 0;
  for (const [fi, f] of files.entries()) {
    const shapes = vitLikeShapes(spec.width, spec.depth, f.classes);
    const sink = await fileSink(join(spec.dir, `${f.name}.safetensors`));
    const writer = await createSafetensorsWriter(
      sink,
      shapes.map((s) => ({ ...s, dtype })),
    );
    let bytes = 0;
    for (const [si, s] of shapes.entries()) {
      const numel = s.shape.reduce((a, b) => a * b, 1);
      const baseRand = rng(seed * 7919 + si); // the same base values in every file
      const taskRand = rng(seed * 104729 + fi * 65537 + si);
      const isHead = s.name.startsWith('head.');
      const values = new Float32Array(numel);
      const sharedDirection = rng(seed * 31 + si);
      for (let i = 0; i < numel; i++) {
        const w = (baseRand() - 0.5) * 0.08;
        if (fi === 0 || isHead) {
          values[i] = fi === 0 ? w : (taskRand() - 0.5) * 0.08;
          continue;
        }
        const r = taskRand();
        // a component common to all tasks (so means are not zero) plus a task's own, conflicting part
        const common = (sharedDirection() - 0.5) * 0.002;
        values[i] = r < zero ? w : w + common + (taskRand() - 0.5) * 0.004;
      }
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
