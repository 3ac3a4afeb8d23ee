// Which dropped files belong together, and a first guess of each checkpoint's role — from names
// alone, before any byte is read. A sharded safetensors index takes the shards beside it; an
// .onnx takes its external-data files; a PEFT adapter's weights take their adapter_config.json;
// a Hugging Face model folder's weights (model.safetensors, pytorch_model.bin or their index) take
// the config.json beside them and the tokenizer files a merged task carries out again; every other
// file stands on its own.
import { isCarriedName, MODEL_CONFIG, MODEL_FILES } from '../../src/flow/model-folder';

/** A file as far as grouping cares: its path inside a dropped folder (or just its name). */
export interface NamedFile {
  readonly path: string;
}

export interface FileGroup<F extends NamedFile> {
  /** The file a reader opens first: a .safetensors, an *.index.json or an .onnx. */
  readonly primary: F;
  /** Shards of an index, external data of an ONNX model, a model folder's config and tokenizer. */
  readonly companions: readonly F[];
}

export type Role = 'base' | 'task' | 'ignore';

const dirOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));
export const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

const INDEX = /\.index\.json$/i;
/** Hugging Face shard names: model-00001-of-00003.safetensors → prefix "model". */
const SHARD = /^(.*)-\d{5}-of-\d{5}\.(safetensors|bin)$/i;
const ONNX = /\.onnx$/i;
// (a loose .bin stays a candidate for ONNX external data; PyTorch's own names do not)
const KNOWN = /\.(safetensors|onnx|pt|pth|ckpt)$|(^|\/)pytorch_model[^/]*\.bin$/i;
/** Files a folder drop brings along that are plainly not weights: listed as ignored, never opened. */
const NOT_WEIGHTS = /\.(md|txt|py|yml|yaml|json|png|jpe?g|gitattributes|DS_Store)$/i;

/** The model prefix an index names its shards with: "model.safetensors.index.json" → "model". */
const indexPrefix = (name: string) => baseName(name).replace(/(\.safetensors|\.bin)?\.index\.json$/i, '');

/** An ONNX model's external data named after it: "m.onnx.data", "m.onnx_data", "m.data" → "m". */
const externalDataOwner = (name: string) => {
  const m = /^(.*?)(\.onnx)?[._](data|bin|weights)$/i.exec(baseName(name));
  return m?.[1];
};

export interface Grouping<F extends NamedFile> {
  readonly groups: readonly FileGroup<F>[];
  /** Files not worth opening (READMEs, JSON that is not an index): shown as ignored. */
  readonly skipped: readonly F[];
}

export function groupFiles<F extends NamedFile>(files: readonly F[]): Grouping<F> {
  const taken = new Set<F>();
  const groups: FileGroup<F>[] = [];
  const skipped: F[] = [];
  const inDir = (dir: string) => files.filter((f) => dirOf(f.path) === dir && !taken.has(f));

  for (const index of files.filter((f) => INDEX.test(f.path))) {
    const prefix = indexPrefix(index.path);
    const shards = inDir(dirOf(index.path)).filter((f) => SHARD.exec(baseName(f.path))?.[1] === prefix);
    taken.add(index);
    shards.forEach((s) => taken.add(s));
    groups.push({ primary: index, companions: shards });
  }
  // A PEFT adapter folder: its weights with adapter_config.json beside them.
  for (const config of files.filter((f) => baseName(f.path) === 'adapter_config.json')) {
    const weights = inDir(dirOf(config.path)).find((f) => baseName(f.path) === 'adapter_model.safetensors');
    if (!weights) continue;
    taken.add(config);
    taken.add(weights);
    groups.push({ primary: weights, companions: [config] });
  }
  const onnxFiles = files.filter((f) => ONNX.test(f.path) && !taken.has(f));
  for (const model of onnxFiles) taken.add(model);
  for (const model of onnxFiles) {
    const dir = dirOf(model.path);
    const stem = baseName(model.path).replace(ONNX, '');
    const loneModel = onnxFiles.filter((m) => dirOf(m.path) === dir).length === 1;
    // External data named after the model; or, when the model is alone in its folder, any
    // other file there that is not a checkpoint itself (ONNX lets `location` be any name).
    const data = inDir(dir).filter(
      (f) =>
        !KNOWN.test(f.path) && !NOT_WEIGHTS.test(f.path) && (externalDataOwner(f.path) === stem || loneModel),
    );
    data.forEach((d) => taken.add(d));
    groups.push({ primary: model, companions: data });
  }
  // A Hugging Face model folder: its weights, with config.json and the files a folder carries.
  for (const f of files)
    if (!taken.has(f) && MODEL_FILES.test(baseName(f.path)) && !INDEX.test(f.path)) {
      taken.add(f);
      groups.push({ primary: f, companions: [] });
    }
  groups.forEach((g, i) => {
    const dir = dirOf(g.primary.path);
    if (!dir || !MODEL_FILES.test(baseName(g.primary.path))) return;
    const side = inDir(dir).filter((f) => isCarriedName(baseName(f.path)));
    if (!side.some((f) => baseName(f.path) === MODEL_CONFIG)) return;
    side.forEach((f) => taken.add(f));
    groups[i] = { primary: g.primary, companions: [...g.companions, ...side] };
  });
  for (const f of files) {
    if (taken.has(f)) continue;
    if (NOT_WEIGHTS.test(f.path) && !KNOWN.test(f.path)) skipped.push(f);
    else groups.push({ primary: f, companions: [] });
  }
  // Keep the order the user gave, by each group's primary file.
  const order = new Map(files.map((f, i) => [f, i] as const));
  groups.sort((a, b) => (order.get(a.primary) ?? 0) - (order.get(b.primary) ?? 0));
  return { groups, skipped };
}

const BASE_WORDS =
  /(^|[^a-z])(base|pretrained|pre-trained|pre_trained|zeroshot|zero-shot|zero_shot)([^a-z]|$)/i;

/** By the file's name — or its folder's, for a Hugging Face folder's generic model.safetensors. */
export function looksLikeBase(path: string): boolean {
  return BASE_WORDS.test(stemOf(path));
}

/** A name without its checkpoint extensions: "vit-mnist.safetensors" → "vit-mnist". */
export function stemOf(path: string): string {
  const name = baseName(path).replace(
    /(\.safetensors|\.bin)?\.index\.json$|\.safetensors$|\.onnx$|\.(bin|pt|pth|ckpt)$/i,
    '',
  );
  // A Hugging Face folder holds "model.safetensors": the folder says what it is.
  if (/^(model|pytorch_model|adapter_model)$/i.test(name)) {
    const dir = dirOf(path);
    if (dir) return baseName(dir);
  }
  return name;
}

/**
 * Task names from file names: each file's stem, with the prefix and suffix every task shares
 * dropped at a separator ("vit-mnist-ft", "vit-svhn-ft" → "mnist", "svhn"), made unique.
 */
export function taskNames(paths: readonly string[]): string[] {
  let stems = paths.map(stemOf);
  if (stems.length >= 2) {
    const cut = (words: string[][]) => {
      let n = 0;
      const shortest = Math.min(...words.map((w) => w.length));
      while (n < shortest - 1 && words.every((w) => w[n] === words[0]?.[n])) n++;
      return n;
    };
    const split = stems.map((s) => s.split(/(?<=[-_.\s])/)); // keep separators on their word
    const head = cut(split);
    const tail = cut(split.map((w) => [...w].reverse()));
    stems = split.map((w) =>
      w
        .slice(head, w.length - tail)
        .join('')
        .replace(/[-_.\s]+$/, ''),
    );
  }
  const used = new Map<string, number>();
  return stems.map((s) => {
    const name = s || 'task';
    const n = (used.get(name) ?? 0) + 1;
    used.set(name, n);
    return n === 1 ? name : `${name}-${n}`;
  });
}

/** Roles for a fresh set of checkpoints: the first base-looking one is the base, the rest tasks. */
export function guessRoles(paths: readonly string[]): Role[] {
  const base = paths.findIndex(looksLikeBase);
  return paths.map((_, i) => (i === base ? 'base' : 'task'));
}

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * The order a user's files are shown (and merged) in: the base-looking one first; then, for files
 * of a folder (picked or dropped, every path with its folder), by path in natural order (a2
 * before a10) rather than in whatever order the file system handed them over. Files picked one by
 * one keep the order they were given in.
 */
export function naturalOrder<F extends NamedFile>(groups: readonly FileGroup<F>[]): FileGroup<F>[] {
  const base = groups.find((g) => looksLikeBase(g.primary.path));
  const fromFolder = groups.every((g) => g.primary.path.includes('/'));
  return [...groups].sort(
    (a, b) =>
      Number(b === base) - Number(a === base) ||
      (fromFolder ? natural.compare(a.primary.path, b.primary.path) : 0),
  );
}
