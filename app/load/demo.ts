// "Load demo": the digits-8 zoo served with the app, fetched as Blobs and added as if dropped —
// the base named by the manifest, the tasks named by their manifest ids.
import type { PathedFile } from '../worker/service';

export const ZOO_URL = `${import.meta.env.BASE_URL}zoo/digits-8/`;

export interface ZooManifest {
  /** The graphs' input: its shape, and in words how an image becomes it. */
  readonly input?: { readonly name?: string; readonly shape?: readonly (number | string | null)[] };
  readonly base: { readonly id: string; readonly onnx: string; readonly safetensors: string };
  readonly tasks: readonly {
    readonly id: string;
    readonly title?: string;
    readonly onnx: string;
    readonly safetensors: string;
    /** Class names in output order. */
    readonly classes?: readonly string[];
    /** The task's labeled evaluation set (safetensors `inputs` + `labels`). */
    readonly eval?: string;
  }[];
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

export async function fetchManifest(): Promise<ZooManifest> {
  return (await (await fetchOk(`${ZOO_URL}manifest.json`)).json()) as ZooManifest;
}

/** The zoo's file at `path` (relative to the zoo), as a dropped file would be. */
export async function fetchZooFile(path: string): Promise<PathedFile> {
  return { path, file: await (await fetchOk(`${ZOO_URL}${path}`)).blob() };
}

export async function fetchDemo(format: 'safetensors' | 'onnx' = 'safetensors'): Promise<DemoFiles> {
  const manifest = await fetchManifest();
  const entries = [
    { id: manifest.base.id, file: manifest.base[format] },
    ...manifest.tasks.map((t) => ({ id: t.id, file: t[format] })),
  ];
  const files = await Promise.all(
    entries.map(async (e) => ({ path: e.file, file: await (await fetchOk(`${ZOO_URL}${e.file}`)).blob() })),
  );
  return {
    files,
    baseLabel: manifest.base[format],
    taskNames: new Map(manifest.tasks.map((t) => [t[format], t.id] as const)),
  };
}
