// Opening checkpoints from paths, and writing outputs so that an interrupted run leaves nothing
// half-written under a final name.
import { readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileSink, fileSource, type FileSource } from '../formats/node-files';
import { openCheckpoint } from '../formats/open';
import type { ByteSink } from '../formats/sink';
import type { Checkpoint } from '../formats/tensor';
import { parsePeftConfig, type PeftConfig } from '../peft/lora';

/** Model files a directory may hold, in the order we look for them. */
const DIRECTORY_ENTRIES = [
  /^model\.safetensors\.index\.json$/,
  /^model\.safetensors$/,
  /\.safetensors\.index\.json$/,
  /\.safetensors$/,
  /^pytorch_model\.bin\.index\.json$/,
  /^pytorch_model\.bin$/,
  /\.bin\.index\.json$/,
  // before a loose .bin: an ONNX model's external data may be one
  /\.onnx$/,
  /\.(bin|pt|pth|ckpt)$/,
];

/** What a command opened (files, engines with worker threads), released together when it ends. */
export class OpenFiles {
  private readonly files: FileSource[] = [];
  private readonly others: (() => void)[] = [];
  private readonly finishing: (() => Promise<void>)[] = [];
  async open(path: string): Promise<FileSource> {
    const f = await fileSource(path);
    this.files.push(f);
    return f;
  }
  /** Releases `thing` (e.g. an engine's workers) with the files. */
  adopt<T extends { dispose(): void }>(thing: T): T {
    this.others.push(() => thing.dispose());
    return thing;
  }
  /** Something to finish (a scratch file to delete) when the run ends, however it ends. */
  atClose(finish: () => Promise<void>): void {
    this.finishing.push(finish);
  }
  async closeAll(): Promise<void> {
    for (const release of this.others.splice(0)) release();
    await Promise.all(this.finishing.splice(0).map((f) => f().catch(() => {})));
    await Promise.all(this.files.splice(0).map((f) => f.close()));
  }
}

/**
 * A checkpoint from a path: a .safetensors file, a PyTorch .bin/.pt/.pth/.ckpt, a sharded
 * *.index.json (its shards beside it),
 * an .onnx file (its external data beside it), or a directory holding one of these.
 */
export async function openPath(path: string, files: OpenFiles): Promise<Checkpoint> {
  let file = path;
  if ((await stat(path).catch(() => undefined))?.isDirectory()) {
    const names = (await readdir(path)).sort();
    const pick = DIRECTORY_ENTRIES.map((re) => names.find((n) => re.test(n))).find((n) => n !== undefined);
    if (!pick)
      throw new Error(
        `${path}: the directory holds no .safetensors, *.index.json, PyTorch (.bin/.pt/.pth/.ckpt) or .onnx file`,
      );
    file = join(path, pick);
  }
  const dir = dirname(file);
  const siblings = (await readdir(dir)).filter((n) => n !== basename(file));
  const companions = await Promise.all(siblings.map((n) => files.open(join(dir, n))));
  return openCheckpoint(await files.open(file), companions);
}

/**
 * A PEFT adapter at `path` (its folder, or its adapter_config.json): the config and the adapter's
 * weights; undefined for any other checkpoint.
 */
export async function openAdapter(
  path: string,
  files: OpenFiles,
): Promise<{ config: PeftConfig; checkpoint: Checkpoint } | undefined> {
  const dir = (await stat(path).catch(() => undefined))?.isDirectory() ? path : dirname(path);
  const configPath = join(dir, 'adapter_config.json');
  if (basename(path) !== 'adapter_config.json' && dir !== path) return undefined;
  const text = await readFile(configPath, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const config = parsePeftConfig(text, configPath);
  const weights = join(dir, 'adapter_model.safetensors');
  if (!(await stat(weights).catch(() => undefined)))
    throw new Error(`${dir}: adapter_config.json without adapter_model.safetensors beside it`);
  return { config, checkpoint: await openCheckpoint(await files.open(weights)) };
}

/** A file written under a temporary name and renamed into place only when it is complete. */
export interface AtomicOutput {
  readonly sink: ByteSink;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export async function atomicOutput(path: string): Promise<AtomicOutput> {
  const partial = join(dirname(path), `.${basename(path)}.partial`);
  const sink = await fileSink(partial);
  return {
    sink: { ...sink, name: path, write: (b) => sink.write(b), close: () => sink.close() },
    commit: () => rename(partial, path),
    discard: async () => {
      await sink.close().catch(() => {});
      await rm(partial, { force: true });
    },
  };
}
