// Opening checkpoints from paths, and writing outputs so that an interrupted run leaves nothing
// half-written under a final name.
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FormatError } from '../formats/errors';
import { fileSink, fileSource, readRegularText, type FileSource } from '../formats/node-files';
import { openCheckpoint } from '../formats/open';
import type { ByteSink } from '../formats/sink';
import type { Checkpoint } from '../formats/tensor';
import { isRemote, openRemote, RemoteBytes } from './remote';
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
  /** The text inputs read whole (YAML job, adapter configs, tokenizers): no output may replace one. */
  readonly texts: string[] = [];
  /** Bytes fetched for remote inputs (hf://, https://). */
  readonly remote = new RemoteBytes();
  async open(path: string): Promise<FileSource> {
    const f = await fileSource(path);
    this.files.push(f);
    return f;
  }
  /** A small text input, read only when it is a regular file (a pipe would block forever). */
  async readText(path: string): Promise<string> {
    const text = await readRegularText(path);
    this.texts.push(path);
    return text;
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
  if (isRemote(path)) return (await openRemote(path, files.remote)).checkpoint;
  let file = path;
  const found = await stat(path).catch((e: unknown) => {
    throw new FormatError('missing-file', path, 'file not found or not readable (no such file or folder)', {
      cause: e,
    });
  });
  if (found.isDirectory()) {
    const names = (await readdir(path)).sort();
    const pick = DIRECTORY_ENTRIES.map((re) => names.find((n) => re.test(n))).find((n) => n !== undefined);
    if (!pick)
      throw new Error(
        `${path}: the directory holds no .safetensors, *.index.json, PyTorch (.bin/.pt/.pth/.ckpt) or .onnx file`,
      );
    file = join(path, pick);
  }
  const source = await files.open(file);
  return openCheckpoint(source, await companionsOf(file, files));
}

/**
 * The regular files beside `file`, which may be its shards or external data. Anything else there (a
 * dangling link, as Hugging Face caches leave, a pipe, a folder) is left out rather than refusing
 * the checkpoint for its neighbour: if the checkpoint needs it, its reader names it as missing.
 */
async function companionsOf(file: string, files: OpenFiles): Promise<FileSource[]> {
  const dir = dirname(file);
  const siblings = (await readdir(dir)).filter((n) => n !== basename(file));
  const regular = await Promise.all(
    siblings.map(async (n) => ((await stat(join(dir, n)).catch(() => undefined))?.isFile() ? n : undefined)),
  );
  const opened = await Promise.allSettled(
    regular.filter((n) => n !== undefined).map((n) => files.open(join(dir, n))),
  );
  return opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
}

/**
 * A PEFT adapter at `path` (its folder, or its adapter_config.json): the config and the adapter's
 * weights; undefined for any other checkpoint.
 */
export async function openAdapter(
  path: string,
  files: OpenFiles,
): Promise<{ config: PeftConfig; checkpoint: Checkpoint } | undefined> {
  if (isRemote(path)) {
    const remote = await openRemote(path, files.remote);
    return remote.peft ? { config: remote.peft, checkpoint: remote.checkpoint } : undefined;
  }
  const dir = (await stat(path).catch(() => undefined))?.isDirectory() ? path : dirname(path);
  const configPath = join(dir, 'adapter_config.json');
  if (basename(path) !== 'adapter_config.json' && dir !== path) return undefined;
  if (!(await stat(configPath).catch(() => undefined))) return undefined;
  const text = await files.readText(configPath);
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

/**
 * The temporary file is created beside `path` (so the rename stays on one disk and in one folder)
 * under a name no one can guess, exclusively and without following links: a file or a link planted
 * there makes the open fail instead of writing through it. The rename replaces the entry at `path`
 * itself, never what a link there points to.
 */
export async function atomicOutput(path: string, signal?: AbortSignal): Promise<AtomicOutput> {
  const partial = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
  const sink = await fileSink(partial, { exclusive: true });
  return {
    // Ctrl-C stops a long write at its next chunk; the caller's discard then removes the file.
    sink: {
      ...sink,
      name: path,
      write: async (b) => {
        signal?.throwIfAborted();
        await sink.write(b);
      },
      close: () => sink.close(),
    },
    commit: () => rename(partial, path),
    discard: async () => {
      await sink.close().catch(() => {});
      await rm(partial, { force: true });
    },
  };
}
