// The sets bench/scale.ts merges, written once and reused with --keep (a set.json marker says a
// folder holds a finished set and how it was made):
//   vit-b-30  base + 30 ViT-B/32-like tasks in f32 (writeVitSet: ~87.5 M parameters, ~350 MB each)
//   llm       base + 3 Llama-like fine-tunes in bf16 shards, of a geometry picked by name (LLM_GEOMETRIES)
// LLM models are renamed after writing: each folder's shards become `<model>-0000k-of-0000n
// .safetensors` under `<model>.safetensors.index.json` (weight_map rewritten), so the four models'
// files have distinct names. A studio user drops folders, which keep their paths; a file input
// (what Playwright can drive with files from disk) hands over bare names, and four folders of
// identical `model-00001-of-0000n.safetensors` would collide there.
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  LLM_PRESETS,
  llmLikeShapes,
  writeLlmLikeSet,
  writeVitSet,
  type SyntheticSet,
} from '../src/merge/testing/synthetic';

export type SetName = 'vit-b-30' | 'llm';

/** Llama-like geometries for `--set llm --geometry NAME`. */
export const LLM_GEOMETRIES = {
  ...LLM_PRESETS,
  /** ~0.95 B parameters (~1.9 GB per model in bf16): Llama's shapes at width 2048 and 16 layers. */
  'llm-1b': { hidden: 2048, layers: 16, intermediate: 5632, vocab: 32000 },
} as const;
export type LlmGeometry = keyof typeof LLM_GEOMETRIES;

export interface ScaleSet extends SyntheticSet {
  readonly name: string;
  /** How it was made (compared on reuse). */
  readonly recipe: string;
  /** Every file the studio is handed (shards and indexes of sharded models). */
  readonly files: readonly string[];
  readonly dtype: 'F32' | 'BF16';
}

const MARKER = 'set.json';

/** The set with every path mapped (the marker keeps them relative, so a set folder can move). */
function withPaths(set: ScaleSet, map: (path: string) => string): ScaleSet {
  return {
    ...set,
    base: map(set.base),
    tasks: set.tasks.map((t) => ({ name: t.name, path: map(t.path) })),
    files: set.files.map(map),
  };
}

async function reuse(dir: string, recipe: string): Promise<ScaleSet | undefined> {
  try {
    const set = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as ScaleSet;
    return set.recipe === recipe ? withPaths(set, (p) => resolve(dir, p)) : undefined;
  } catch {
    return undefined;
  }
}

/** Parameters of an LLM geometry: every tensor is merged. */
export function llmParameters(g: LlmGeometry): number {
  const { hidden, layers, intermediate, vocab } = LLM_GEOMETRIES[g];
  return llmLikeShapes(hidden, layers, intermediate, vocab).reduce(
    (a, s) => a + s.shape.reduce((x, y) => x * y, 1),
    0,
  );
}

/** Marks `dir` as holding the finished `set`. */
export async function writeMarker(dir: string, set: ScaleSet): Promise<void> {
  const marked = withPaths(set, (p) => relative(dir, p));
  await writeFile(join(dir, MARKER), `${JSON.stringify(marked, null, 2)}\n`);
}

/** Renames a folder's HF shards and index after the model (see the header). */
async function renameShards(dir: string, model: string): Promise<string[]> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as {
    metadata: unknown;
    weight_map: Record<string, string>;
  };
  const renamed = (file: string) => file.replace(/^model-/, `${model}-`);
  for (const file of await readdir(dir))
    if (/^model-\d{5}-of-\d{5}\.safetensors$/.test(file))
      await rename(join(dir, file), join(dir, renamed(file)));
  for (const [k, v] of Object.entries(index.weight_map)) index.weight_map[k] = renamed(v);
  const out = join(dir, `${model}.safetensors.index.json`);
  await writeFile(out, `${JSON.stringify(index, null, 2)}\n`);
  await rm(indexPath);
  return [out, ...[...new Set(Object.values(index.weight_map))].map((f) => join(dir, f))];
}

/** Writes the set into `dir` (or reuses it when `keep` and a finished one of the same recipe is there). */
export async function scaleSet(
  name: SetName,
  dir: string,
  keep: boolean,
  geometry: LlmGeometry = 'llm-1b',
  log: (line: string) => void = () => {},
): Promise<ScaleSet> {
  const recipe =
    name === 'vit-b-30' ? 'vit-b 30 tasks f32 seed 1' : `${geometry} 3 tasks bf16 seed 1 shard 1 GiB`;
  if (keep) {
    const found = await reuse(dir, recipe);
    if (found) {
      log(`reusing ${found.name} in ${dir}`);
      return found;
    }
  }
  await rm(dir, { recursive: true, force: true });
  const started = performance.now();
  let set: ScaleSet;
  if (name === 'vit-b-30') {
    log(`writing base + 30 ViT-B-like tasks (f32) to ${dir}…`);
    const s = await writeVitSet('vit-b', { dir, numTasks: 30, dtype: 'F32' });
    set = { ...s, name, recipe, dtype: 'F32', files: [s.base, ...s.tasks.map((t) => t.path)] };
  } else {
    log(`writing base + 3 ${geometry} fine-tunes (bf16 shards) to ${dir}…`);
    const s = await writeLlmLikeSet({ dir, numTasks: 3, ...LLM_GEOMETRIES[geometry], shardBytes: 2 ** 30 });
    const models = ['base', ...s.tasks.map((t) => t.name)];
    const files: string[] = [];
    const paths: string[] = [];
    for (const m of models) {
      const written = await renameShards(join(dir, m), m);
      paths.push(written[0] as string);
      files.push(...written);
    }
    set = {
      ...s,
      base: paths[0] as string,
      tasks: s.tasks.map((t, i) => ({ name: t.name, path: paths[i + 1] as string })),
      name: `${name} (${geometry})`,
      recipe,
      dtype: 'BF16',
      files,
    };
  }
  await writeMarker(dir, set);
  log(`  written in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return set;
}
