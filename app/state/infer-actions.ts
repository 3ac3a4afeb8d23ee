// What the inference and evaluation views call. The worker holds the graphs, the labeled sets and
// the sessions; these actions send it inputs and keep the inference store up to date.
import { proxy } from 'comlink';
import { fetchManifest, fetchZooFile, loadedZoo, textInputOf } from '../load/demo';
import { isTextSetFile, parseTextSet, rowImages } from '../../src/inference/labeled-text';
import { studioWorker } from '../worker/client';
import type { Column, EvalRequest, TextOptions } from '../worker/protocol';
import type { PathedFile } from '../worker/service';
import { newCheckpointId } from './files';
import { preprocess } from '../../src/inference/image';
import { labeledSetFromImages } from '../../src/inference/image-folder';
import { classNames, imagePreset, inferStore, type BenchInput, type InferState } from './infer';
import { mergeStore } from './merge';
import { evalInputs } from './stale';
import { ROUTED_LABEL, type EvalReport } from '../../src/inference/eval-table';
import { currentProvider } from './provider';

/** Reads the worker's view of graphs and labeled sets for the result on screen. */
export async function refreshSetup(): Promise<void> {
  const setup = await studioWorker().inferenceSetup();
  const { task } = inferStore.getState();
  inferStore.setState({
    setup,
    task: task === 'auto' || (setup && task < setup.tasks.length) ? task : 0,
  });
}

let demoAssets: Promise<void> | undefined;

/**
 * The demo's graphs, tokenizer and labeled sets: the zoo ships each task's .onnx (the graph for its
 * weights), a tokenizer for a text zoo, and an evaluation set per task; they are attached as a
 * user's files would be.
 */
export function loadDemoAssets(): Promise<void> {
  demoAssets ??= (async () => {
    const zoo = loadedZoo();
    const manifest = await fetchManifest(zoo);
    inferStore.setState({ manifest });
    const text = textInputOf(manifest);
    if (text) {
      const files = [text.tokenizer, ...(text.tokenizerConfig ? [text.tokenizerConfig] : [])];
      await attachTokenizer(await Promise.all(files.map((f) => fetchZooFile(f, zoo))), false, {
        ...(text.maxLength ? { maxLength: text.maxLength } : {}),
        ...(text.names ? { names: text.names } : {}),
      });
    }
    await Promise.all(
      manifest.tasks.map(async (task) => {
        await attachGraph([await fetchZooFile(task.onnx, zoo)], task.id, false);
        if (task.eval) await attachLabeled(await fetchZooFile(task.eval, zoo), task.id, false);
      }),
    );
    await refreshSetup();
  })().catch((e: unknown) => {
    demoAssets = undefined;
    inferStore.setState({ attachMessage: { ok: false, text: e instanceof Error ? e.message : String(e) } });
  });
  return demoAssets;
}

/** ui1: the worker forgot the demo's graphs and sets (Clear all): the next demo attaches them again. */
export function forgetDemoAssets(): void {
  demoAssets = undefined;
}

/** A tokenizer.json (with its tokenizer_config.json) for every task whose graph takes text. */
export async function attachTokenizer(
  files: readonly PathedFile[],
  refresh = true,
  options: TextOptions = {},
): Promise<void> {
  const outcome = await studioWorker().attachTokenizer(files, options);
  report(outcome, `${files.map((f) => f.path).join(' + ')} tokenizes the texts.`);
  if (refresh) await refreshSetup();
}

/** Opens an ONNX graph (with its external data files) and uses it for a task, or every task ('*'). */
export async function attachGraph(files: readonly PathedFile[], task: string, refresh = true): Promise<void> {
  const [primary, ...companions] = [...files].sort(
    (a, b) => Number(!a.path.endsWith('.onnx')) - Number(!b.path.endsWith('.onnx')),
  );
  if (!primary) return;
  const worker = studioWorker();
  const id = newCheckpointId();
  const opened = await worker.open(id, primary, companions);
  const outcome = opened.ok ? await worker.attachGraph(id, task) : opened;
  report(outcome, `${primary.path} runs ${task === '*' ? 'every task' : task}.`);
  if (refresh) await refreshSetup();
}

/** Opens a labeled set (safetensors `inputs` + `labels`, or texts as JSONL / CSV) for a task. */
export async function attachLabeled(file: PathedFile, task: string, refresh = true): Promise<void> {
  const worker = studioWorker();
  if (isTextSetFile(file.path)) {
    const outcome = await worker.attachLabeledText(task, file, classNames(inferStore.getState(), task));
    report(outcome, `${file.path} is the labeled set of ${task}.`);
    if (refresh) await refreshSetup();
    return;
  }
  const id = newCheckpointId();
  const opened = await worker.open(id, file, []);
  const outcome = opened.ok ? await worker.attachLabeled(id, task) : opened;
  report(outcome, `${file.path} is the labeled set of ${task}.`);
  if (refresh) await refreshSetup();
}

function report(outcome: { ok: true } | { ok: false; message: string }, success: string): void {
  inferStore.setState({
    attachMessage: outcome.ok ? { ok: true, text: success } : { ok: false, text: outcome.message },
  });
}

/**
 * A folder of images named by class as a task's labeled set: decoded and preprocessed here (the
 * page has the canvas), as the task's graph and manifest say, then handed to the worker. A folder
 * with a JSON Lines or CSV file in it is a multi-modal set instead: rows naming images (and texts).
 */
export async function attachImageFolder(
  files: readonly PathedFile[],
  task: string,
  refresh = true,
): Promise<void> {
  const listing = files.find((f) => isTextSetFile(f.path) && f.path.split('/').length <= 2);
  if (listing) return attachTextImageFolder(files, listing, task, refresh);
  const state = inferStore.getState();
  const setup = state.setup?.tasks.find((t) => t.name === task);
  const p = imagePreset(state, task, setup?.input?.shape ?? null);
  const folder = files[0]?.path.split('/')[0] ?? 'folder';
  try {
    const { set } = await labeledSetFromImages(
      files.map((f) => ({ path: f.path, decode: () => decodeImage(f.file) })),
      p,
      classNames(state, task),
      (done, total) =>
        inferStore.setState({ attachMessage: { ok: true, text: `Reading images: ${done} of ${total}…` } }),
    );
    await studioWorker().attachLabeledSet(task, set, `${folder}/`);
    report({ ok: true }, `${folder}/ (${set.labels.length} images) is the labeled set of ${task}.`);
  } catch (e) {
    report({ ok: false, message: e instanceof Error ? e.message : String(e) }, '');
  }
  if (refresh) await refreshSetup();
}

/** A multi-modal labeled set: a JSONL / CSV file whose rows name images in the same folder. */
async function attachTextImageFolder(
  files: readonly PathedFile[],
  listing: PathedFile,
  task: string,
  refresh = true,
): Promise<void> {
  const state = inferStore.getState();
  const setup = state.setup?.tasks.find((t) => t.name === task);
  const p = imagePreset(state, task, setup?.input?.shape ?? null);
  const byPath = new Map(files.map((f) => [f.path, f.file] as const));
  try {
    const rows = parseTextSet(listing.path, await listing.file.text(), classNames(state, task));
    const images = await rowImages(
      rows,
      (path) => {
        const file = byPath.get(path);
        return file ? decodeImage(file).then((data) => preprocess(data, p)) : undefined;
      },
      (done, total) =>
        inferStore.setState({ attachMessage: { ok: true, text: `Reading images: ${done} of ${total}…` } }),
    );
    await studioWorker().attachTextImages(task, rows, images);
    report(
      { ok: true },
      `${listing.path} (${rows.rows.length} rows with images) is the labeled set of ${task}.`,
    );
  } catch (e) {
    report({ ok: false, message: e instanceof Error ? e.message : String(e) }, '');
  }
  if (refresh) await refreshSetup();
}

/** Decodes an image file into RGBA pixels. */
export async function decodeImage(file: Blob): Promise<ImageData> {
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2-D canvas');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

/** Puts sample `index` of a task's labeled set on the bench and runs it. */
export async function showSample(task: string, index: number): Promise<void> {
  const outcome = await studioWorker().sample(task, index);
  if (!outcome.ok) {
    inferStore.setState({ attachMessage: { ok: false, text: outcome.message } });
    return;
  }
  const current = inferStore.getState().input;
  await setInput({
    ...(outcome.input && outcome.dims ? { input: outcome.input, dims: outcome.dims } : {}),
    // A text sample of a multi-modal task keeps the image on the bench, and the other way round.
    ...(!outcome.input && !outcome.feeds && current?.input && current.dims
      ? { input: current.input, dims: current.dims }
      : {}),
    ...(outcome.text
      ? { text: outcome.text }
      : !outcome.feeds && current?.text
        ? { text: current.text }
        : {}),
    ...(outcome.feeds ? { feeds: outcome.feeds } : {}),
    label: outcome.label,
    caption: `sample ${outcome.index + 1} of ${outcome.count} from ${task}'s labeled set`,
    sample: { task, index: outcome.index, count: outcome.count },
  });
}

/**
 * ui1: another task to run. With a labeled sample on the bench, the new task's own set gives the
 * next one (its first sample), so Previous / Next / Random draw from the task chosen; other inputs
 * (a drawing, a text, an image) run as they are, and routing keeps whatever is on the bench.
 */
export async function chooseTask(task: number | 'auto'): Promise<void> {
  const state = inferStore.getState();
  inferStore.setState({ task });
  const chosen = task === 'auto' ? undefined : state.setup?.tasks[task];
  if (state.source === 'sample' && chosen?.labeled && state.input?.sample?.task !== chosen.name)
    await showSample(chosen.name, 0);
  else await runInference();
}

export async function setInput(input: BenchInput): Promise<void> {
  inferStore.setState({ input, textEdited: false });
  await runInference();
}

let inferRequest = 0;

/** Runs the input on the bench through the chosen task's models under every column. */
export async function runInference(): Promise<void> {
  const state = inferStore.getState();
  const { setup, input } = state;
  if (!setup || !input) return;
  const request = ++inferRequest;
  inferStore.setState({ running: true });
  const outcome = await studioWorker().infer({
    task: state.task,
    ...(input.input && input.dims ? { input: input.input, dims: input.dims } : {}),
    ...(input.text ? { text: input.text } : {}),
    ...(input.feeds ? { feeds: input.feeds } : {}),
    columns: setup.columns.map((c) => c.column),
    provider: currentProvider(state.provider),
  });
  // A later input or task wins over an earlier run that finishes after it.
  if (request === inferRequest)
    inferStore.setState({ running: false, outcome, outcomeFor: { input, source: state.source } });
}

/** ui1: the evaluation the page waits for; a cancel or a new start makes the one before moot. */
let evalRun = 0;
/** The rows the running evaluation finished, and what it is computed from. */
let finished: { run: number; report: EvalReport | undefined; inputs: string } | undefined;

const setEval = (e: Partial<InferState['evaluation']>) =>
  inferStore.setState((s) => ({ evaluation: { ...s.evaluation, ...e } }));

export async function startEvaluation(): Promise<void> {
  const state = inferStore.getState();
  const setup = state.setup;
  if (!setup || state.evaluation.running) return;
  const columns = evalColumns(
    setup.columns.map((c) => c.column),
    state.evaluation.off,
  );
  const req: EvalRequest = {
    columns,
    routed: state.evaluation.routed,
    provider: currentProvider(state.provider),
  };
  const run = ++evalRun;
  const inputs = evalInputs(mergeStore.getState().result, setup);
  finished = { run, report: undefined, inputs };
  setEval({
    running: true,
    progress: undefined,
    message: undefined,
    startedAt: Date.now(),
    methods: { done: 0, total: columns.length },
  });
  const outcome = await studioWorker()
    .evaluate(
      req,
      proxy((done: number, total: number) => {
        if (run === evalRun) setEval({ progress: { done, total, at: Date.now() } });
      }),
      proxy((partial: EvalReport) => {
        if (finished?.run !== run) return;
        finished = { ...finished, report: partial };
        const done = partial.rows.filter((r) => r.method !== ROUTED_LABEL).length;
        setEval({ methods: { done, total: columns.length } });
      }),
    )
    // The worker died (StudioWorkerDiedError): the last report stays; say why.
    .catch((e: unknown) => ({ ok: false as const, message: e instanceof Error ? e.message : String(e) }));
  if (run !== evalRun) return; // cancelled on the page, which already shows what was kept
  const kept = finished?.report;
  finished = undefined;
  if (outcome.ok)
    setEval({ running: false, progress: undefined, report: outcome.report, partial: false, inputs });
  else
    setEval({
      running: false,
      progress: undefined,
      message: outcome.message,
      ...(kept ? { report: kept, partial: true, inputs } : {}),
    });
}

/**
 * Stops at once on the page (the worker stops at its next batch): the methods that finished stay
 * in the table, marked as a partial one.
 */
export async function cancelEvaluation(): Promise<void> {
  if (!inferStore.getState().evaluation.running) return;
  const kept = finished?.run === evalRun ? finished : undefined;
  evalRun++;
  finished = undefined;
  const methods = kept?.report?.rows.filter((r) => r.method !== ROUTED_LABEL).length ?? 0;
  setEval({
    running: false,
    progress: undefined,
    message: kept?.report
      ? `Evaluation cancelled: the ${methods === 1 ? 'method' : `${methods} methods`} that finished ${methods === 1 ? 'is' : 'are'} kept.`
      : 'Evaluation cancelled.',
    ...(kept?.report ? { report: kept.report, partial: true, inputs: kept.inputs } : {}),
  });
  await studioWorker().cancelEvaluate();
}

/** The paper's table order (as the CLI's), then the held and the kept results of other methods. */
const PAPER_ORDER: readonly Column[] = ['individual', 'avg', 'ta', 'ties', 'emr'];

/** The columns an evaluation runs, in the table's order: every one offered that is not unticked. */
export function evalColumns(available: readonly Column[], off: readonly Column[]): Column[] {
  const on = (c: Column) => available.includes(c) && !off.includes(c);
  return [...PAPER_ORDER.filter(on), ...available.filter((c) => !PAPER_ORDER.includes(c) && on(c))];
}

export function toggleColumn(column: Column, on: boolean): void {
  inferStore.setState((s) => {
    const off = s.evaluation.off.filter((c) => c !== column);
    return { evaluation: { ...s.evaluation, off: on ? off : [...off, column] } };
  });
}

/** A new merge result: the setup changes and old outputs no longer apply. */
export async function onNewResult(): Promise<void> {
  inferStore.setState({ outcome: undefined });
  await refreshSetup();
  if (mergeStore.getState().result && inferStore.getState().input) await runInference();
}
