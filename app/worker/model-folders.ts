// Hugging Face model folders in the studio, as in the CLI (src/cli/model-folder.ts): a task that
// came in as a folder (config.json beside model.safetensors or pytorch_model.bin, or their index)
// is exported as one — its weights as model.safetensors (sharded with an index past the shard
// size), its config and tokenizer files carried through byte for byte, and the model card
// README.md of src/flow/model-folder.ts, the CLI's own. The service keeps the side files of each
// opened folder here and binds them to a merge result, so an export knows what each task was.
import type { ByteSink } from '../../src/formats/sink';
import type { AnyMergeResult } from '../../src/merge/merge';
import {
  isCarriedFile,
  isCarriedName,
  MODEL_CONFIG,
  MODEL_FILES,
  mergekitRecipe,
  modelCard,
  modelName,
  RECIPE_FILE,
  type CardRecipe,
} from '../../src/flow/model-folder';

/** A dropped file with its path inside the dropped folder (service.ts's PathedFile). */
interface FolderFile {
  readonly path: string;
  readonly file: Blob;
}

const dirOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

interface Bound {
  readonly recipe: CardRecipe;
  /** An imported recipe's text: mergekit_config.yml verbatim. */
  readonly given?: string | undefined;
  /** Per task of the result, the side files of the folder it came in as. */
  readonly folders: readonly (readonly FolderFile[] | undefined)[];
}

export class ModelFolders {
  /** Each opened checkpoint's primary path: the card names models by it. */
  private readonly paths = new Map<string, string>();
  /** The carried files of each opened checkpoint that is a model folder. */
  private readonly folders = new Map<string, readonly FolderFile[]>();
  private readonly bound = new WeakMap<AnyMergeResult, Bound>();

  /**
   * Records what checkpoint `id` came in as, and returns the companions its reader opens: a model
   * folder's config and tokenizer files are kept here instead (they are not weights).
   */
  opened<F extends FolderFile>(id: string, primary: F, companions: readonly F[]): F[] {
    this.paths.set(id, primary.path);
    this.folders.delete(id);
    const dir = dirOf(primary.path);
    const side = MODEL_FILES.test(baseName(primary.path))
      ? companions.filter((f) => dirOf(f.path) === dir && isCarriedName(baseName(f.path)))
      : [];
    if (!side.some((f) => baseName(f.path) === MODEL_CONFIG)) return [...companions];
    // the CLI's order (carriedNames sorts the names), and its size cap
    const carried = side
      .filter((f) => isCarriedFile(baseName(f.path), f.file.size))
      .sort((a, b) => (baseName(a.path) < baseName(b.path) ? -1 : 1));
    this.folders.set(id, carried);
    return companions.filter((f) => !side.includes(f));
  }

  forget(id: string): void {
    this.paths.delete(id);
    this.folders.delete(id);
  }

  clear(): void {
    this.paths.clear();
    this.folders.clear();
  }

  /** Ties a finished merge to the files it was made from (tasks matched by their unique names). */
  bind(
    result: AnyMergeResult,
    selection: { baseId: string; tasks: readonly { id: string; name: string }[]; recipe?: string },
  ): void {
    const ids = new Map(selection.tasks.map((t) => [t.name, t.id] as const));
    const taskIds = result.set.tasks.map((t) => ids.get(t.name));
    this.bound.set(result, {
      recipe: {
        base: modelName(this.paths.get(selection.baseId) ?? 'base'),
        models: result.set.tasks.map((t, i) => {
          const id = taskIds[i];
          return { name: t.name, model: modelName((id && this.paths.get(id)) ?? t.name) };
        }),
        method: result.spec,
      },
      folders: taskIds.map((id) => (id === undefined ? undefined : this.folders.get(id))),
      given: selection.recipe,
    });
  }

  /** A result made from a bound one (its λ chosen on the labeled sets): the same files, its own method. */
  carryChosen(from: AnyMergeResult, to: AnyMergeResult): void {
    const bound = this.bound.get(from);
    if (bound) this.bound.set(to, { ...bound, recipe: { ...bound.recipe, method: to.spec } });
  }

  /**
   * Binds `to` as `from` is bound: a kept result read back from disk (./merging.ts) is a new object,
   * and exports the same folders and recipe as before it was spilled. Returns a function that
   * rebinds, holding only the binding (not `from`, which is being let go).
   */
  carry(from: AnyMergeResult): (to: AnyMergeResult) => void {
    const bound = this.bound.get(from);
    return (to) => {
      if (bound) this.bound.set(to, bound);
    };
  }

  /**
   * `mergekit_config.yml` for a result of a mergekit method — an imported recipe's text verbatim,
   * else the recipe the merge amounts to, with the models named as the CLI names them
   * (src/flow/model-folder.ts) — or undefined.
   */
  recipe(result: AnyMergeResult): string | undefined {
    const bound = this.bound.get(result);
    return bound && mergekitRecipe(bound.recipe, bound.given);
  }

  /** Did task `t` of this result come in as a Hugging Face model folder? */
  isFolder(result: AnyMergeResult, t: number): boolean {
    return this.bound.get(result)?.folders[t] !== undefined;
  }

  /**
   * Writes task `t` as a model folder through `sinkFor` (file names inside the folder): its weights
   * by `weights("model")`, the carried files, the model card. False when it is not a folder task.
   */
  async write(
    result: AnyMergeResult,
    t: number,
    weights: (stem: string) => Promise<void>,
    sinkFor: (file: string) => Promise<ByteSink>,
  ): Promise<boolean> {
    const bound = this.bound.get(result);
    const carried = bound?.folders[t];
    const task = result.set.tasks[t];
    if (!bound || !carried || !task) return false;
    await weights('model');
    for (const f of carried) await writeAll(await sinkFor(baseName(f.path)), await blobBytes(f.file));
    const card = new TextEncoder().encode(modelCard(task.name, bound.recipe));
    await writeAll(await sinkFor('README.md'), card);
    // A mergekit method's folder carries its recipe too, as the CLI's (src/cli/model-folder.ts).
    const recipe = mergekitRecipe(bound.recipe, bound.given);
    if (recipe !== undefined) await writeAll(await sinkFor(RECIPE_FILE), new TextEncoder().encode(recipe));
    return true;
  }
}

async function blobBytes(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  await sink.write(bytes);
  await sink.close();
}
