// PEFT adapters (Hugging Face `peft`: adapter_config.json + adapter_model.safetensors) as task
// checkpoints over their base, so the merge engine sees a LoRA fine-tune as the full fine-tune it
// stands for without anyone materializing it whole:
//   - LoRA: W_t = W + s · B·A (s = lora_alpha / r, or lora_alpha / √r with use_rslora; per-module
//     r and alpha from rank_pattern / alpha_pattern; (B·A)ᵀ with fan_in_fan_out). Each tensor's
//     bytes are computed on read, for the range read: the streaming scheduler's chunks stay chunks.
//     Tensors the adapter does not touch are the base's (τ = 0).
//   - (IA)³: the learned scaling vectors are the parameters; their base is a vector of ones.
// The arithmetic is f32 in a fixed order (products rounded, summed over k in order, scaled, added
// to the base, rounded to the base's dtype to nearest even: src/peft/kernel.ts), and it runs on the
// kernel the caller gives: the CPU twin by default, the WGSL one (src/gpu/lora.ts) bit for bit alike.
import { dtypeBytes, narrowFromF32, widenToF32, type MergeDType } from '../formats/dtype';
import {
  readTensor,
  tensorName,
  type Checkpoint,
  type TensorEntry,
  type TensorName,
} from '../formats/tensor';
import { cpuLoraKernel, type LoraFactors, type LoraKernel } from './kernel';
import { compilePatternKey, PatternError, type PatternKey } from './pattern';

export { loraDelta } from './kernel';

export class PeftError extends Error {
  override readonly name = 'PeftError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export interface PeftConfig {
  readonly peftType: 'LORA' | 'IA3';
  readonly r: number;
  readonly loraAlpha: number;
  readonly useRslora: boolean;
  readonly fanInFanOut: boolean;
  readonly rankPattern: Readonly<Record<string, number>>;
  readonly alphaPattern: Readonly<Record<string, number>>;
}

const FLOATS = new Set(['F32', 'F16', 'BF16']);

export function parsePeftConfig(text: string, file = 'adapter_config.json'): PeftConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PeftError(file, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof raw !== 'object' || raw === null) throw new PeftError(file, 'not a JSON object');
  const c = raw as Record<string, unknown>;
  const type = c['peft_type'];
  if (type !== 'LORA' && type !== 'IA3')
    throw new PeftError(file, `peft_type ${JSON.stringify(type)} is not one we merge (LORA, IA3)`);
  if (c['use_dora'] === true) throw new PeftError(file, 'DoRA adapters (use_dora) are not supported');
  const num = (key: string, fallback: number) => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new PeftError(file, `${key} must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const pattern = (key: string): Record<string, number> => {
    const v = c[key] ?? {};
    if (typeof v !== 'object' || v === null) throw new PeftError(file, `${key} must be an object`);
    const out: Record<string, number> = Object.create(null) as Record<string, number>;
    let states = 0;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'number' || !(x > 0))
        throw new PeftError(file, `${key}.${k} must be a positive number`);
      try {
        states += patternKey(k).states;
      } catch (e) {
        if (!(e instanceof PatternError)) throw e;
        throw new PeftError(file, `${key} key ${JSON.stringify(k.slice(0, 80))}: ${e.message}`);
      }
      if (states > MAX_PATTERN_STATES_PER_CONFIG)
        throw new PeftError(
          file,
          `${key}: its regular-expression keys compile to over ${MAX_PATTERN_STATES_PER_CONFIG} states together`,
        );
      out[k] = x;
    }
    return out;
  };
  return {
    peftType: type,
    r: type === 'LORA' ? num('r', 8) : 1,
    loraAlpha: type === 'LORA' ? num('lora_alpha', 8) : 1,
    useRslora: c['use_rslora'] === true,
    fanInFanOut: c['fan_in_fan_out'] === true,
    rankPattern: pattern('rank_pattern'),
    alphaPattern: pattern('alpha_pattern'),
  };
}

/**
 * What matching one module against all of a config's regular-expression keys may cost, in NFA
 * states (steps per character of the module's name); real configs use a few hundred.
 */
export const MAX_PATTERN_STATES_PER_CONFIG = 10_000;

/** Compiled keys, shared by every config that uses the same key (cleared when it grows large). */
const compiled = new Map<string, PatternKey>();
function patternKey(key: string): PatternKey {
  let p = compiled.get(key);
  if (!p) {
    if (compiled.size > 10_000) compiled.clear();
    p = compilePatternKey(key);
    compiled.set(key, p);
  }
  return p;
}

/**
 * peft's rule (get_pattern_key): the first key, in the config's order, for which
 * `re.match(rf"(.*\.)?({key})$", module)` succeeds — matched here without backtracking (./pattern.ts).
 */
function patternValue(patterns: Readonly<Record<string, number>>, module: string): number | undefined {
  for (const [key, value] of Object.entries(patterns)) if (patternKey(key).matches(module)) return value;
  return undefined;
}

/** LoRA's scale for a module: alpha / r, or alpha / √r with rsLoRA. */
export function loraScale(config: PeftConfig, module: string): number {
  const r = patternValue(config.rankPattern, module) ?? config.r;
  const alpha = patternValue(config.alphaPattern, module) ?? config.loraAlpha;
  return config.useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

const PREFIX = 'base_model.model.';

/** The base tensor a module path names: `X.weight`, or the one base name ending in it (or it ending in one). */
function baseTensorFor(base: Checkpoint, path: string, file: string): TensorEntry {
  const exact = base.tensors.get(tensorName(path));
  if (exact) return exact;
  const names = [...base.tensors.keys()];
  const hits = names.filter((n) => n.endsWith(`.${path}`) || path.endsWith(`.${n}`));
  if (hits.length === 1) return base.tensors.get(hits[0] as TensorName) as TensorEntry;
  throw new PeftError(
    file,
    hits.length
      ? `${path} matches several base tensors (${hits.slice(0, 4).join(', ')})`
      : `the adapter changes ${path}, which the base does not have`,
  );
}

async function floats(entry: TensorEntry, file: string): Promise<Float32Array> {
  if (!FLOATS.has(entry.dtype))
    throw new PeftError(file, `${entry.name} is ${entry.dtype}, not a float tensor`);
  return widenToF32(await readTensor(entry), entry.dtype as MergeDType);
}

/**
 * A LoRA adapter over its base as a full task checkpoint: every base tensor, the adapted ones
 * computed on read. Full tensors the adapter saves (modules_to_save, e.g. a new classifier head)
 * replace the base's, or are task-specific when their shape differs.
 */
export function loraCheckpoint(
  base: Checkpoint,
  adapter: Checkpoint,
  config: PeftConfig,
  /** Where W + s·B·A is computed on read (the CPU twin unless the caller has a GPU one). */
  kernel: LoraKernel = cpuLoraKernel,
): Checkpoint {
  const file = adapter.files[0] ?? 'adapter_model.safetensors';
  if (config.peftType !== 'LORA') throw new PeftError(file, 'not a LoRA adapter');
  const pairs = new Map<string, { a?: TensorEntry; b?: TensorEntry }>();
  const full: TensorEntry[] = [];
  for (const entry of adapter.tensors.values()) {
    const name = entry.name.startsWith(PREFIX) ? entry.name.slice(PREFIX.length) : entry.name;
    const m = /^(.*)\.lora_(A|B)(?:\.[^.]+)?\.weight$/.exec(name);
    if (m) {
      const pair = pairs.get(m[1] as string) ?? {};
      if (m[2] === 'A') pair.a = entry;
      else pair.b = entry;
      pairs.set(m[1] as string, pair);
    } else if (/\.lora_(embedding_)?[AB]\b|\.lora_magnitude_vector\b/.test(name))
      throw new PeftError(file, `${entry.name}: this kind of LoRA tensor is not supported`);
    else full.push({ ...entry, name: tensorName(name) });
  }
  const tensors = new Map<TensorName, TensorEntry>(base.tensors);
  for (const [module, { a, b }] of pairs) {
    if (!a || !b)
      throw new PeftError(file, `${module} has lora_${a ? 'A' : 'B'} without lora_${a ? 'B' : 'A'}`);
    const target = baseTensorFor(base, `${module}.weight`, file);
    if (!FLOATS.has(target.dtype))
      throw new PeftError(file, `${target.name} is ${target.dtype}, not a float tensor`);
    const r = a.shape[0] as number;
    const outDim = target.shape[0] as number;
    const cols = target.shape.slice(1).reduce((x, y) => x * y, 1);
    const [rows, inDim] = config.fanInFanOut ? [cols, outDim] : [outDim, cols];
    const aIn = a.shape.slice(1).reduce((x, y) => x * y, 1);
    if (b.shape[0] !== rows || b.shape.slice(1).reduce((x, y) => x * y, 1) !== r || aIn !== inDim)
      throw new PeftError(
        file,
        `${module}: lora_A [${a.shape.join(', ')}] and lora_B [${b.shape.join(', ')}] do not make a ${target.name} [${target.shape.join(', ')}]`,
      );
    const scale = loraScale(config, module);
    const dtype = target.dtype as MergeDType;
    const size = dtypeBytes(dtype);
    let factors: Promise<LoraFactors> | undefined;
    tensors.set(target.name, {
      ...target,
      file,
      data: {
        async read(start, end) {
          const first = Math.floor(start / size);
          const last = Math.ceil(end / size);
          // Widened once per tensor and shared by every range read (a GPU kernel caches its upload by it).
          factors ??= Promise.all([floats(a, file), floats(b, file)]).then(([fa, fb]) => ({
            name: target.name,
            a: fa,
            b: fb,
            r,
            cols,
            scale,
            fanInFanOut: config.fanInFanOut,
          }));
          const w = widenToF32(await target.data.read(first * size, last * size), dtype);
          const bytes = narrowFromF32(await kernel.adapt(await factors, w, first), dtype);
          return bytes.slice(start - first * size, end - first * size);
        },
      },
    });
  }
  for (const entry of full) {
    const target =
      base.tensors.get(entry.name) ??
      (() => {
        try {
          return baseTensorFor(base, entry.name, file);
        } catch {
          return undefined;
        }
      })();
    tensors.set(target?.name ?? entry.name, { ...entry, name: target?.name ?? entry.name });
  }
  return { format: 'safetensors', files: [...adapter.files], tensors, metadata: adapter.metadata };
}

/**
 * (IA)³ adapters merge as their scaling vectors: the task checkpoint is the adapter's vectors
 * (prefix removed), and the base is the same names filled with ones.
 */
export function ia3Checkpoints(adapter: Checkpoint): { base: Checkpoint; task: Checkpoint } {
  const file = adapter.files[0] ?? 'adapter_model.safetensors';
  const tensors = new Map<TensorName, TensorEntry>();
  const ones = new Map<TensorName, TensorEntry>();
  for (const entry of adapter.tensors.values()) {
    const name = tensorName(entry.name.startsWith(PREFIX) ? entry.name.slice(PREFIX.length) : entry.name);
    tensors.set(name, { ...entry, name });
    if (!/\.ia3_l(\.[^.]+)?$/.test(name) || !FLOATS.has(entry.dtype)) continue;
    const numel = entry.shape.reduce((x, y) => x * y, 1);
    const bytes = narrowFromF32(new Float32Array(numel).fill(1), entry.dtype as MergeDType);
    ones.set(name, {
      ...entry,
      name,
      file: 'ones',
      data: { read: async (start, end) => bytes.slice(start, end) },
    });
  }
  if (!ones.size) throw new PeftError(file, 'no ia3_l scaling vectors in the adapter');
  return {
    base: { format: 'safetensors', files: ['(IA)³ base: ones'], tensors: ones, metadata: new Map() },
    task: { format: 'safetensors', files: [...adapter.files], tensors, metadata: adapter.metadata },
  };
}
