// What the views call: each action updates the stores and asks the worker for the heavy part.
import { proxy } from 'comlink';
import { fetchDemo, type ZooName } from '../load/demo';
import { formatBytes } from '../lib/format';
import { fingerprint } from '../load/fingerprint';
import { groupFiles, naturalOrder } from '../load/grouping';
import type { PathedFile } from '../worker/service';
import { studioWorker } from '../worker/client';
import type { ExportTarget, ExportWhat, Selection } from '../worker/protocol';
import type { AnyMethodSpec } from '../../src/merge/methods';
import { gpuStore } from '../gpu/store';
import { exportsStore, initialExports } from './exports';
import {
  filesStore,
  initialFiles,
  newCheckpointId,
  selectionOf,
  taskNameProblems,
  withAdded,
  withOpened,
  withRemoved,
  withRole,
  withTaskName,
  type FileRole,
  type FilesState,
} from './files';
import { initialInfer, inferStore } from './infer';
import { attachTokenizer, cancelEvaluation, forgetDemoAssets } from './infer-actions';
import { initialInspect, inspectStore } from './inspect';
import {
  defaultEngine,
  initialMerge,
  mergeStore,
  specOf,
  type ImportedRecipe,
  type MergeState,
} from './merge';
import { keepResult } from './kept';
import { mergeInputs } from './stale';
import { importRecipeFile, isRecipeFile, recipePlan } from './recipe';
import { capabilities, exportRoute } from '../platform/capabilities';

export interface AddHints {
  /** The file (by path) that is the base, e.g. from the demo's manifest. */
  readonly baseLabel?: string;
  /** Task names by file path. */
  readonly taskNames?: ReadonlyMap<string, string>;
  readonly origin?: 'demo' | 'user';
  /** Which demo zoo the files are (kept with recent merges, so Restore loads the same one). */
  readonly zoo?: ZooName;
}

/** Groups the files (shards with their index, ONNX with its data), opens each group's headers. */
export async function addFiles(files: readonly PathedFile[], hints: AddHints = {}): Promise<void> {
  const grouped = groupFiles(files);
  // A mergekit recipe dropped with the models (as a file of its own) is imported into step 2.
  const recipe = grouped.skipped.find((f) => isRecipeFile(f.path));
  if (recipe) void importRecipeFile(recipe.file, recipe.path);
  const skipped = grouped.skipped.filter((f) => f !== recipe);
  if (recipe && grouped.groups.length === 0 && skipped.length === 0) return; // the recipe alone
  // A demo keeps its manifest's order; a user's files are shown base first, then in natural order.
  const groups = hints.baseLabel === undefined ? naturalOrder(grouped.groups) : grouped.groups;
  const withIds = await Promise.all(
    groups.map(async (group) => ({
      id: newCheckpointId(),
      group,
      // A file that cannot be read is not told apart here: opening it says why, on its card.
      fingerprint: await fingerprint(
        group.primary.file,
        group.companions.map((c) => c.file),
      ).catch(() => undefined),
    })),
  );
  filesStore.setState((s) => ({
    ...withAdded(
      s,
      withIds.map(({ id, group, fingerprint }) => ({
        id,
        paths: [group.primary.path, ...group.companions.map((c) => c.path)],
        ...(fingerprint === undefined ? {} : { fingerprint }),
      })),
      skipped.map((f) => f.path),
      hints,
    ),
    origin: hints.origin ?? 'user',
  }));
  const worker = studioWorker();
  await worker.setOrigin(filesStore.getState().origin === 'demo' ? 'demo' : 'user', hints.zoo);
  // A copy of a file already there is refused on its card (withAdded) and never opened.
  const copies = new Set(
    filesStore
      .getState()
      .checkpoints.filter((c) => c.duplicateOf)
      .map((c) => c.id),
  );
  await Promise.all(
    withIds
      .filter(({ id }) => !copies.has(id))
      .map(async ({ id, group }) => {
        const outcome = await worker.open(id, group.primary, group.companions);
        filesStore.setState((s) => withOpened(s, id, outcome));
      }),
  );
  // A model folder's tokenizer.json (+ tokenizer_config.json) serves its graphs that take text
  // (skipped, or a side file of the folder's weights, which keep it for their export).
  const tokenizer = [...skipped, ...groups.flatMap((g) => g.companions)].filter((f) =>
    /(^|\/)tokenizer(_config)?\.json$/i.test(f.path),
  );
  if (tokenizer.some((f) => /(^|\/)tokenizer\.json$/i.test(f.path))) await attachTokenizer(tokenizer, false);
  await realign();
}

/** Fetches a demo zoo (digits-8 unless told) and adds it as if its files had been dropped. */
export async function loadDemo(zoo: ZooName = 'digits-8'): Promise<void> {
  const { demo } = filesStore.getState();
  if (demo.loading || demo.loaded) return;
  filesStore.setState({ demo: { loading: true } });
  try {
    const demo = await fetchDemo('safetensors', zoo);
    await addFiles(demo.files, {
      baseLabel: demo.baseLabel,
      taskNames: demo.taskNames,
      origin: 'demo',
      zoo,
    });
    filesStore.setState({ demo: { loading: false, loaded: zoo } });
  } catch (e) {
    filesStore.setState({ demo: { loading: false, error: e instanceof Error ? e.message : String(e) } });
  }
}

export async function setRole(id: string, role: FileRole): Promise<void> {
  filesStore.setState((s) => withRole(s, id, role));
  await realign();
}

export async function setTaskName(id: string, name: string): Promise<void> {
  filesStore.setState((s) => withTaskName(s, id, name));
  await realign();
}

export async function removeCheckpoint(id: string): Promise<void> {
  filesStore.setState((s) => withRemoved(s, id));
  await studioWorker().forget(id);
  await realign();
}

let alignRequest = 0;

/** Recomputes the alignment report from headers; a later request wins over an earlier one. */
export async function realign(): Promise<void> {
  const state = filesStore.getState();
  const selection = selectionOf(state);
  const request = ++alignRequest;
  // No task yet is a step not yet taken, not an error: the views say what to add. One task aligns
  // (SLERP merges the base and one model); the Merge step says what the chosen method needs.
  if (!selection || selection.tasks.length < 1 || taskNameProblems(state).size > 0) {
    filesStore.setState({ alignment: undefined });
    return;
  }
  const outcome = await studioWorker().align(selection);
  if (request === alignRequest) filesStore.setState({ alignment: outcome });
}

export function chosenEngine() {
  const fallback = defaultEngine(gpuStore.getState());
  return { ...fallback, engine: mergeStore.getState().engine ?? fallback.engine };
}

export async function startMerge(): Promise<void> {
  const files = filesStore.getState();
  const merge = mergeStore.getState();
  if (merge.running) return;
  const plan = merge.recipe ? await recipeMergePlan(files, merge.recipe) : formMergePlan(files, merge);
  if (!plan) return;
  if ('error' in plan) {
    mergeStore.setState({ notice: { kind: 'error', message: plan.error } });
    return;
  }
  const inputs = mergeInputs(files, merge, 'merge');
  mergeStore.setState({ running: true, progress: undefined, notice: undefined });
  const outcome = await studioWorker()
    .merge(
      plan.selection,
      plan.spec,
      chosenEngine().engine,
      proxy((p) => {
        if (mergeStore.getState().running) mergeStore.setState({ progress: p });
      }),
    )
    // The worker died (StudioWorkerDiedError): the result on screen stays; Merge again retries.
    .catch((e: unknown) => ({ ok: false as const, cancelled: false, message: errorText(e) }));
  if (outcome.ok) keepResult(outcome.summary, inputs, outcome);
  else {
    mergeStore.setState({
      running: false,
      progress: undefined,
      notice: { kind: outcome.cancelled ? 'cancelled' : 'error', message: outcome.message },
    });
  }
}

type MergePlan = { selection: Selection; spec: AnyMethodSpec } | { error: string } | undefined;

/** The form's merge: the selection less the task files the alignment report refused. */
function formMergePlan(files: FilesState, merge: MergeState): MergePlan {
  const selection = selectionOf(files);
  if (!selection) return undefined;
  const spec = specOf(merge);
  if ('error' in spec) return spec;
  // Refused task files are left out of the merge, as the alignment report says.
  const refused = new Set(files.alignment?.refused.map((r) => r.id));
  return {
    selection: { ...selection, tasks: selection.tasks.filter((t) => !refused.has(t.id)) },
    spec: spec.spec,
  };
}

/** An imported recipe's merge, its models checked against its base from their headers first. */
async function recipeMergePlan(files: FilesState, recipe: ImportedRecipe): Promise<MergePlan> {
  const plan = recipePlan(files, recipe);
  if ('error' in plan) return plan;
  const aligned = await studioWorker().align(plan.selection);
  return aligned.ok ? plan : { error: aligned.message };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function cancelMerge(): Promise<void> {
  await studioWorker().cancel();
}

export async function openBundle(bundleId: string): Promise<void> {
  const selection = selectionOf(filesStore.getState());
  if (!selection) {
    mergeStore.setState({
      notice: {
        kind: 'error',
        message: 'Add the base model the bundle was made from, and mark it as the base.',
      },
    });
    return;
  }
  const inputs = mergeInputs(filesStore.getState(), mergeStore.getState(), 'bundle');
  mergeStore.setState({ running: true, notice: undefined });
  const outcome = await studioWorker().openBundle(bundleId, selection.baseId);
  if (outcome.ok) keepResult(outcome.summary, inputs, outcome);
  else mergeStore.setState({ running: false, notice: { kind: 'error', message: outcome.message } });
}

/** The file name an export is offered under (computed here: the picker must open at once). */
export function exportName(what: ExportWhat): string {
  const result = mergeStore.getState().result;
  if (what.kind === 'bundle')
    // the CLI's names: emr-bundle.safetensors, or METHOD-artefact.safetensors for a per-task method
    return result && result.spec.method !== 'emr'
      ? `${result.spec.method}-artefact.safetensors`
      : 'emr-bundle.safetensors';
  if (what.kind === 'zip') {
    // mergekit's and the spectral methods by their own names (merge-studio-dare_ties.zip)
    const spec = result?.spec;
    const name =
      spec && (spec.method === 'mergekit' || spec.method === 'spectral') ? spec.name : spec?.method;
    return `merge-studio-${name ?? 'merge'}.zip`;
  }
  const task = result?.tasks[what.task];
  // shards, or a Hugging Face folder's files, downloaded together
  if (task && (task.files > 1 || task.folder)) return `${task.name}.zip`;
  return `${task?.name ?? 'task'}.${task?.format === 'onnx' ? 'onnx' : 'safetensors'}`;
}

const exportKey = (what: ExportWhat) => (what.kind === 'task' ? `task:${what.task}` : what.kind);

/** Whether to stream exports to disk (File System Access API); tests may turn it off. */
export const exportSettings = { useFileSystemAccess: true };

type SavePicker = (options: { suggestedName: string }) => Promise<FileSystemFileHandle>;
type DirectoryPicker = (options: { mode: 'readwrite' }) => Promise<FileSystemDirectoryHandle>;

/** Where an export goes: a picked file, a picked folder (a sharded model), or a download. */
async function pickTarget(what: ExportWhat, name: string): Promise<ExportTarget | undefined> {
  const pickers = globalThis as { showSaveFilePicker?: SavePicker; showDirectoryPicker?: DirectoryPicker };
  const task = what.kind === 'task' ? mergeStore.getState().result?.tasks[what.task] : undefined;
  const sharded = task !== undefined && (task.files > 1 || task.folder === true);
  try {
    if (!exportSettings.useFileSystemAccess) return { kind: 'blob' };
    const route = exportRoute(capabilities(), sharded);
    if (route === 'folder' && pickers.showDirectoryPicker)
      return { kind: 'directory', handle: await pickers.showDirectoryPicker({ mode: 'readwrite' }) };
    if (route === 'file' && pickers.showSaveFilePicker)
      return { kind: 'handle', handle: await pickers.showSaveFilePicker({ suggestedName: name }) };
    return { kind: 'blob' };
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') return undefined; // the user closed the picker
    throw e;
  }
}

/**
 * Writes an export: streamed to a file the user picks where the browser has the File System
 * Access API, else collected in the worker and downloaded as a Blob.
 */
export async function exportResult(what: ExportWhat): Promise<void> {
  const key = exportKey(what);
  const worker = studioWorker();
  const name = exportName(what);
  const target = await pickTarget(what, name);
  if (!target) return;
  exportsStore.setState((s) => ({
    busy: key,
    outcomes: { ...s.outcomes, [key]: { ok: true, message: 'Writing…' } },
  }));
  const outcome = await worker.export(what, target);
  if (outcome.ok && outcome.blob) download(outcome.blob, name);
  const saved =
    target.kind === 'directory'
      ? `the ${folderTask(what) ? 'files' : 'shards'} of ${name.replace(/\.zip$/, '')} into ${target.handle.name}/`
      : name;
  const message = outcome.ok ? `Saved ${saved} (${formatBytes(outcome.bytes)}).` : outcome.message;
  exportsStore.setState((s) => ({
    busy: undefined,
    outcomes: { ...s.outcomes, [key]: { ok: outcome.ok, message } },
  }));
}

const folderTask = (what: ExportWhat) =>
  what.kind === 'task' && mergeStore.getState().result?.tasks[what.task]?.folder === true;

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * ui1: "Clear all" — every file and every result goes, in the page and in the worker (its opened
 * files, result, graphs, labeled sets and tokenizer); the demos can be loaded again. The method
 * form, the engine, the runtime and the evaluation's column choices stay: they are settings.
 */
export async function clearAll(): Promise<void> {
  // An evaluation under way is let go first, so its end does not speak on the emptied page.
  if (inferStore.getState().evaluation.running) void cancelEvaluation();
  const { provider, evaluation } = inferStore.getState();
  filesStore.setState(initialFiles, true);
  mergeStore.setState((s) => ({
    ...s,
    running: false,
    progress: undefined,
    notice: undefined,
    result: undefined,
    kept: [],
    resultInputs: undefined,
  }));
  inspectStore.setState(initialInspect, true);
  exportsStore.setState(initialExports, true);
  inferStore.setState(
    {
      ...initialInfer,
      provider,
      evaluation: { ...initialInfer.evaluation, off: evaluation.off, routed: evaluation.routed },
    },
    true,
  );
  forgetDemoAssets();
  await studioWorker().clearAll();
}

/** Back to a fresh page (tests call it between cases). */
export function resetStores(): void {
  filesStore.setState(initialFiles, true);
  mergeStore.setState(initialMerge, true);
  inspectStore.setState(initialInspect, true);
  exportsStore.setState(initialExports, true);
  inferStore.setState(initialInfer, true);
}
