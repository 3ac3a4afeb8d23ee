// The demos: zoos served with the app, fetched as Blobs and added as if dropped — the base named by
// the manifest, the tasks named by their manifest ids. digits-8 ships full fine-tunes (images);
// words-4 ships LoRA adapters of a small text classifier, with its tokenizer and text sets.
import type { PathedFile } from '../worker/service';

export type ZooName = 'digits-8' | 'words-4';

export const DEMOS: readonly { readonly zoo: ZooName; readonly label: string }[] = [
  { zoo: 'digits-8', label: 'Load demo' },
  { zoo: 'words-4', label: 'Text demo (words-4, LoRA adapters)' },
];

export const zooUrl = (zoo: ZooName) => `${import.meta.env.BASE_URL}zoo/${zoo}/`;
/** The digits-8 zoo's address (kept for callers that know only that one). */
export const ZOO_URL = zooUrl('digits-8');

/** The text inputs of a text zoo's graphs (words-4). */
export interface ZooTextInput {
  readonly kind: 'text';
  /** [batch, sequence], when the manifest states it. */
  readonly shape?: readonly (number | string | null)[];
  readonly tokenizer: string;
  readonly tokenizerConfig?: string;
  readonly maxLength?: number;
  readonly names?: { readonly ids: string; readonly mask?: string | null; readonly typeIds?: string | null };
}

export interface ZooManifest {
  /** The graphs' input: its shape, and in words how an image becomes it; or a text input. */
  readonly input?:
    { readonly name?: string; readonly shape?: readonly (number | string | null)[] } | ZooTextInput;
  /** A multi-modal zoo's inputs (an image and a text). */
  readonly inputs?: readonly (
    | ZooTextInput
    | { readonly kind: 'image'; readonly name?: string; readonly shape?: readonly (number | string | null)[] }
  )[];
  readonly base: { readonly id: string; readonly onnx: string; readonly safetensors: string };
  readonly tasks: readonly {
    readonly id: string;
    readonly title?: string;
    readonly onnx: string;
    readonly safetensors?: string;
    /** The task's PEFT adapter folder (adapter_config.json + adapter_model.safetensors). */
    readonly adapter?: string;
    /** Class names in output order. */
    readonly classes?: readonly string[];
    /** The task's labeled evaluation set (safetensors `inputs` + `labels`, or JSONL / CSV texts). */
    readonly eval?: string;
    /** A task on pairs of texts. */
    readonly pair?: boolean;
  }[];
}

/** The text input a manifest describes (its `input`, or the text one of its `inputs`). */
export function textInputOf(manifest: ZooManifest): ZooTextInput | undefined {
  const input = manifest.input;
  if (input && 'kind' in input && input.kind === 'text') return input;
  return manifest.inputs?.find((i): i is ZooTextInput => i.kind === 'text');
}

export interface DemoFiles {
  readonly files: PathedFile[];
  readonly baseLabel: string;
  readonly taskNames: Map<string, string>;
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`Could not load the demo: ${url} answered ${r.status} ${r.statusText}.`);
  return r;
}

export async function fetchManifest(zoo: ZooName = 'digits-8'): Promise<ZooManifest> {
  return (await (await fetchOk(`${zooUrl(zoo)}manifest.json`)).json()) as ZooManifest;
}

/** The zoo's file at `path` (relative to the zoo), as a dropped file would be. */
export async function fetchZooFile(path: string, zoo: ZooName = 'digits-8'): Promise<PathedFile> {
  return { path, file: await (await fetchOk(`${zooUrl(zoo)}${path}`)).blob() };
}

let loaded: ZooName = 'digits-8';
/** The zoo the last demo came from: its graphs, tokenizer and labeled sets go with it. */
export const loadedZoo = (): ZooName => loaded;

/** The zoo's files for a merge: the base, and each task's weights (or PEFT adapter folder). */
export async function fetchDemo(
  format: 'safetensors' | 'onnx' = 'safetensors',
  zoo: ZooName = 'digits-8',
): Promise<DemoFiles> {
  const manifest = await fetchManifest(zoo);
  const taskNames = new Map<string, string>();
  const paths: string[] = [manifest.base[format]];
  for (const t of manifest.tasks) {
    if (t.adapter && (format === 'safetensors' || !t.onnx)) {
      // An adapter folder: its weights carry the task's name; the config travels beside them.
      const dir = t.adapter.replace(/\/?(adapter_model\.safetensors|adapter_config\.json)?$/, '');
      paths.push(`${dir}/adapter_config.json`, `${dir}/adapter_model.safetensors`);
      taskNames.set(`${dir}/adapter_model.safetensors`, t.id);
    } else {
      const file = format === 'onnx' ? t.onnx : t.safetensors;
      if (!file) throw new Error(`Could not load the demo: task ${t.id} has no ${format} file.`);
      paths.push(file);
      taskNames.set(file, t.id);
    }
  }
  const files = await Promise.all(paths.map((p) => fetchZooFile(p, zoo)));
  loaded = zoo;
  return { files, baseLabel: manifest.base[format], taskNames };
}
