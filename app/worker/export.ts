// Exports of the result on screen: the EMR bundle (or a per-task method's artefact), a task's model (by the one writer,
// src/flow/write-task.ts: its format, sharded when large), or everything in one zip — to a file the
// user picked, a folder (a sharded model's files), or a download. A failed export drops what it wrote.
import type { ByteSink } from '../../src/formats/sink';
import { writeBundle } from '../../src/merge/bundle';
import { isEmr } from '../../src/merge/merge';
import { writePerTaskArtefact } from '../../src/merge/pertask/artefact';
import { isPerTaskResult } from '../../src/merge/pertask/result';
import { taskLayout, writeTaskModel } from '../../src/flow/write-task';
import { RECIPE_FILE } from '../../src/flow/model-folder';
import { errorMessage } from './cancellable';
import { downloadSink, type DownloadSink } from './download-sink';
import type { Held } from './merging';
import type { ModelFolders } from './model-folders';
import type { ExportOutcome, ExportTarget, ExportWhat } from './protocol';
import { fileHandleSink, type AbortableSink, type BlobSink } from './sinks';
import { zipWriter } from './zip';

export async function exportHeld(
  held: Held | undefined,
  shardBytes: number,
  folders: ModelFolders,
  what: ExportWhat,
  target: ExportTarget,
): Promise<ExportOutcome> {
  if (!held) return { ok: false, message: 'Nothing to export yet: merge first.' };
  const name = what.kind === 'task' ? (held.result.set.tasks[what.task]?.name ?? 'task') : what.kind;
  const opened: AbortableSink[] = [];
  let bytes = 0;
  // Every byte goes through here, counted; file sinks are remembered so a failure can drop them.
  const counted = (sink: ByteSink): ByteSink => ({
    name: sink.name,
    write: (b) => ((bytes += b.byteLength), sink.write(b)),
    close: () => sink.close(),
  });
  try {
    const writer = new ExportWriter(held, shardBytes, folders);
    if (target.kind === 'directory') {
      if (what.kind !== 'task') throw new Error('only a sharded task model is written to a folder');
      await writer.task(what.task, async (file) => {
        const sink = await fileHandleSink(await target.handle.getFileHandle(file, { create: true }));
        opened.push(sink);
        return counted(sink);
      });
      return { ok: true, bytes };
    }
    let out: AbortableSink | BlobSink | DownloadSink;
    if (target.kind === 'handle') {
      out = await fileHandleSink(target.handle);
      opened.push(out);
    } else {
      out = await downloadSink(name); // staged in OPFS where it can be
      if ('abort' in out) opened.push(out);
    }
    const sink = counted(out);
    if (what.kind === 'zip') await writer.zip(sink);
    else if (what.kind === 'bundle') await writer.bundle(sink);
    else if (writer.isSharded(what.task)) {
      const zip = zipWriter(sink); // several files into one download: a zip of the shards
      await writer.task(what.task, async (file) => zip.file(file));
      await zip.close();
    } else await writer.task(what.task, async () => sink);
    return 'blob' in out ? { ok: true, bytes, blob: await out.blob() } : { ok: true, bytes };
  } catch (e) {
    await Promise.all(opened.map((s) => s.abort().catch(() => {})));
    return { ok: false, message: `${name}: ${errorMessage(e)}` };
  }
}

/** Writes the exports of one held result: the bundle, a task (sharded when large), the zip. */
class ExportWriter {
  constructor(
    private readonly held: Held,
    private readonly shardBytes: number,
    private readonly folders: ModelFolders,
  ) {}

  /** Several files: the shards of a large model, or a Hugging Face model folder. */
  isSharded(t: number): boolean {
    if (this.folders.isFolder(this.held.result, t)) return true;
    return taskLayout(this.held.result, t, this.shardBytes).shards > 1;
  }

  async bundle(sink: ByteSink): Promise<void> {
    const { result } = this.held;
    // A per-task method's artefact is its bundle (docs/bundle-format.md), as the CLI writes it.
    if (isPerTaskResult(result)) await writePerTaskArtefact(result, sink);
    else if (isEmr(result)) await writeBundle(result, sink);
    else throw new Error('the bundle holds an EMR or a per-task merge; this method made one model');
  }

  /** A task's model through sinks by file name: one file, or the shards and their index. */
  async task(t: number, sinkFor: (file: string) => Promise<ByteSink>): Promise<void> {
    const { result, engine } = this.held;
    const weights = async (stem?: string) => {
      await writeTaskModel(
        result,
        t,
        engine,
        { shardBytes: this.shardBytes, ...(stem ? { stem } : {}) },
        sinkFor,
      );
    };
    if (await this.folders.write(result, t, weights, sinkFor)) return; // a model folder
    await weights();
  }

  /**
   * The bundle and every task, one zip — the files of the CLI's `--out` folder: a sharded task's
   * files in a folder named after it, and a mergekit method's recipe as `mergekit_config.yml`.
   */
  async zip(sink: ByteSink): Promise<void> {
    const zip = zipWriter(sink);
    const { result } = this.held;
    if (isEmr(result)) await this.bundle(zip.file('emr-bundle.safetensors'));
    else if (isPerTaskResult(result))
      await this.bundle(zip.file(`${result.spec.method}-artefact.safetensors`));
    const recipe = this.folders.recipe(result);
    if (recipe !== undefined) {
      const file = zip.file(RECIPE_FILE);
      await file.write(new TextEncoder().encode(recipe));
      await file.close();
    }
    for (let t = 0; t < result.set.tasks.length; t++) {
      const folder = this.isSharded(t) ? `${result.set.tasks[t]?.name ?? t}/` : '';
      await this.task(t, async (file) => zip.file(folder + file));
    }
    await zip.close();
  }
}
