// Recent merges, kept in the browser's origin-private file system (OPFS) so that a reload, a
// crashed tab or a closed laptop does not lose a finished EMR merge: each is its bundle (written
// under a temporary name and renamed only when complete) and a small JSON description. Restoring
// one needs its base model again, as opening any bundle does.
import { writeBundle } from '../../src/merge/bundle';
import type { EmrResult } from '../../src/merge/merge';
import { writePerTaskArtefact } from '../../src/merge/pertask/artefact';
import { isPerTaskResult, type PerTaskResult } from '../../src/merge/pertask/result';
import { describeMethod } from '../../src/merge/methods';
import type { RecentMerge } from './protocol';
import { fileHandleSink } from './sinks';

const FOLDER = 'recent-merges';
/** Merges kept; the oldest go first. */
const KEEP = 5;

type Directory = FileSystemDirectoryHandle & {
  entries(): AsyncIterable<[string, FileSystemHandle]>;
};
type Movable = FileSystemFileHandle & { move(name: string): Promise<void> };

async function folder(): Promise<Directory | undefined> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.getDirectory) return undefined; // Node tests, old browsers: nothing is kept
  const root = await storage.getDirectory();
  return (await root.getDirectoryHandle(FOLDER, { create: true })) as Directory;
}

export class RecentMerges {
  /** Bundles being written now (their .partial files are not leftovers). */
  private readonly writing = new Set<string>();

  async list(): Promise<RecentMerge[]> {
    const dir = await folder();
    if (!dir) return [];
    const out: RecentMerge[] = [];
    const leftovers: string[] = [];
    for await (const [name, handle] of dir.entries()) {
      // A bundle whose writing was cut short (a closed tab): never renamed, never listed, removed.
      if (name.endsWith('.partial') && !this.writing.has(name.slice(0, -'.partial'.length)))
        leftovers.push(name);
      if (!name.endsWith('.json') || handle.kind !== 'file') continue;
      try {
        const meta = JSON.parse(
          await (await (handle as FileSystemFileHandle).getFile()).text(),
        ) as RecentMerge;
        await dir.getFileHandle(`${meta.id}.safetensors`); // its bundle is complete (renamed into place)
        out.push(meta);
      } catch {
        // a description whose bundle never finished, or unreadable: not listed
      }
    }
    for (const name of leftovers) await dir.removeEntry(name).catch(() => {});
    return out.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
  }

  /**
   * Writes the bundle of a finished EMR merge (or a per-task method's artefact); returns its
   * description, or undefined where OPFS is missing.
   */
  async save(
    result: EmrResult | PerTaskResult,
    base: { readonly file: string; readonly bytes: number },
    origin: 'demo' | 'user',
    zoo?: string,
  ): Promise<RecentMerge | undefined> {
    const dir = await folder();
    if (!dir) return undefined;
    const savedAt = new Date().toISOString();
    const id = `merge-${savedAt.replace(/[:.]/g, '-')}`;
    this.writing.add(id);
    const partial = (await dir.getFileHandle(`${id}.partial`, { create: true })) as Movable;
    try {
      const sink = await fileHandleSink(partial);
      try {
        if (isPerTaskResult(result)) await writePerTaskArtefact(result, sink);
        else await writeBundle(result, sink);
      } catch (e) {
        await sink.abort().catch(() => {});
        await dir.removeEntry(`${id}.partial`).catch(() => {});
        throw e;
      }
      await partial.move(`${id}.safetensors`);
    } finally {
      this.writing.delete(id);
    }
    const meta: RecentMerge = {
      id,
      savedAt,
      method: describeMethod(result.spec),
      tasks: result.set.tasks.map((t) => t.name),
      base,
      origin,
      ...(zoo ? { zoo } : {}),
      bundleBytes: (await partial.getFile()).size,
    };
    const json = await fileHandleSink(await dir.getFileHandle(`${id}.json`, { create: true }));
    await json.write(new TextEncoder().encode(JSON.stringify(meta)));
    await json.close();
    for (const old of (await this.list()).slice(KEEP)) await this.remove(old.id);
    return meta;
  }

  async file(id: string): Promise<File> {
    const dir = await folder();
    if (!dir) throw new Error('This browser keeps no recent merges.');
    return (await dir.getFileHandle(`${id}.safetensors`)).getFile();
  }

  async remove(id: string): Promise<void> {
    const dir = await folder();
    if (!dir) return;
    for (const name of [`${id}.json`, `${id}.safetensors`, `${id}.partial`])
      await dir.removeEntry(name).catch(() => {});
  }
}
