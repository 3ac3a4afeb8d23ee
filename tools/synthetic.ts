// Writes a synthetic checkpoint set (base + N fine-tunes) for tests and benchmarks:
//   node --import tsx tools/synthetic.ts --preset vit-b --tasks 30 --dtype f16 --out DIR
// Presets: vit-tiny, vit-s (the benchmark's), vit-b (ViT-B/32, ~87.5 M parameters): one
// .safetensors per model; llm-tiny, llm-small, llm-7b: Llama-like, bf16, each model a folder of
// Hugging Face shards + model.safetensors.index.json. See docs/reliability.md.
import { parseArgs } from 'node:util';
import type { MergeDType } from '../src/formats/dtype';
import {
  LLM_PRESETS,
  REALISTIC_TASK_VECTORS,
  VIT_PRESETS,
  writeLlmSet,
  writeVitSet,
  type LlmPreset,
  type TaskVectorModel,
  type VitPreset,
} from '../src/merge/testing/synthetic';

const USAGE = `usage: node --import tsx tools/synthetic.ts --preset NAME --tasks N --out DIR
    [--dtype f32|f16|bf16] [--seed N] [--sparsity X] [--conflict X] [--shard-mb N]
  presets: ${[...Object.keys(VIT_PRESETS), ...Object.keys(LLM_PRESETS)].join(', ')}`;

function fail(message: string): never {
  process.stderr.write(`synthetic: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    preset: { type: 'string' },
    tasks: { type: 'string' },
    dtype: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    sparsity: { type: 'string' },
    conflict: { type: 'string' },
    'shard-mb': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const number = (name: string, text: string | undefined, min: number, max: number): number | undefined => {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!Number.isFinite(x) || x < min || x > max) fail(`--${name} wants a number in [${min}, ${max}]`);
  return x;
};
const preset = values.preset ?? fail('--preset is required');
const out = values.out ?? fail('--out DIR is required');
const numTasks = number('tasks', values.tasks ?? fail('--tasks N is required'), 1, 1000) as number;
const dtypes: Record<string, MergeDType> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };
const dtypeFlag = values.dtype?.toLowerCase();
const dtype =
  dtypeFlag === undefined ? undefined : (dtypes[dtypeFlag] ?? fail(`unknown dtype ${values.dtype}`));
const seed = number('seed', values.seed, 0, 2 ** 31);
const taskVectors: TaskVectorModel = {
  ...REALISTIC_TASK_VECTORS,
  sparsity: number('sparsity', values.sparsity, 0, 1) ?? REALISTIC_TASK_VECTORS.sparsity,
  conflict: number('conflict', values.conflict, 0, 1) ?? REALISTIC_TASK_VECTORS.conflict,
};
const common = {
  dir: out,
  numTasks,
  taskVectors,
  ...(dtype ? { dtype } : {}),
  ...(seed === undefined ? {} : { seed }),
};

const started = performance.now();
let set;
if (Object.hasOwn(VIT_PRESETS, preset)) {
  set = await writeVitSet(preset as VitPreset, common);
} else if (Object.hasOwn(LLM_PRESETS, preset)) {
  const shardMb = number('shard-mb', values['shard-mb'], 1, 1e6);
  set = await writeLlmSet(preset as LlmPreset, {
    ...common,
    ...(shardMb === undefined ? {} : { shardBytes: shardMb * 2 ** 20 }),
  });
} else {
  fail(`unknown preset ${preset}`);
}
const gib = (set.bytesPerModel * (numTasks + 1)) / 2 ** 30;
process.stdout.write(
  `${preset}: base + ${numTasks} tasks, ${set.parameters.toLocaleString('en')} merged parameters per model, ` +
    `${gib.toFixed(2)} GiB in all, in ${((performance.now() - started) / 1000).toFixed(1)} s\n` +
    `  base: ${set.base}\n` +
    `  merge: npx merge-studio merge --base ${set.base} ${set.tasks.map((t) => `--task ${t.name}=${t.path}`).join(' ')} --out OUT\n`,
);
