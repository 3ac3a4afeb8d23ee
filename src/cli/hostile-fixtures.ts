// The hostile-input CLI tests' fixtures: tiny F32 models written as real files in a temp folder,
// and a snapshot of a folder's bytes to show that nothing an input holds changed.
import { lstat, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';

async function writeModel(path: string, tensors: { name: string; shape: number[]; values: Float32Array }[]) {
  await writeSafetensors(
    await fileSink(path),
    tensors.map((t) => ({
      name: t.name,
      dtype: 'F32' as const,
      shape: t.shape,
      bytes: new Uint8Array(t.values.buffer),
    })),
  );
}

export async function model(path: string, seed: number) {
  await writeModel(path, [
    {
      name: 'w',
      shape: [4, 4],
      values: Float32Array.from({ length: 16 }, (_, i) => i + seed * ((i % 3) - 1)),
    },
    { name: 'head', shape: [2], values: new Float32Array(2).fill(seed) },
  ]);
}

/** Every file under `root` with its bytes, to show that nothing an input holds changed. */
/** Every file under `root` with its bytes, to show that nothing an input holds changed. */
export async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(root, { recursive: true })) {
    const path = join(root, name);
    const s = await lstat(path);
    if (s.isFile()) out.set(name, (await readFile(path)).toString('base64'));
    else if (s.isSymbolicLink()) out.set(name, 'link');
  }
  return out;
}

/** A fresh temp folder `dir` with base, task a and task b models in `dir/in`. */
export async function hostileInputs(): Promise<{ dir: string; inputs: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'merge-studio-hostile-'));
  const inputs = join(dir, 'in');
  await mkdir(inputs);
  await model(join(inputs, 'base.safetensors'), 0);
  await model(join(inputs, 'a.safetensors'), 1);
  await model(join(inputs, 'b.safetensors'), 2);
  return { dir, inputs };
}
