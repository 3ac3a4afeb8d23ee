// "Load demo": the digits-8 zoo served with the app, fetched as Blobs and added as if dropped —
// the base named by the manifest, the tasks named by their manifest ids.
import type { PathedFile } from '../worker/service';

export const ZOO_URL = `${import.meta.env.BASE_URL}zoo/digits-8/`;

export interface ZooManifest {
  readonly base: { readonly id: string; readonly onnx: string; readonly safetensors: string };
  readonly tasks: readonly {
    readonly id: string;
    readonly title?: string;
    readonly onnx: string;
    readonly safetensors: string;
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

export async function fetchDemo(format: 'safetensors' | 'onnx' = 'safetensors'): Promise<DemoFiles> {
  const manifest = (await (await fetchOk(`${ZOO_URL}manifest.json`)).json()) as ZooManifest;
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
