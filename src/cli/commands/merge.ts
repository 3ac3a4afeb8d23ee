// merge-studio merge: the model set from headers, the merge on the chosen engine, every task's model
// in its format (src/flow/write-task.ts), the EMR bundle, and the summary (src/flow/summary.ts).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBundle } from '../../merge/bundle';
import { isEmr, runMerge, type AnyMergeResult } from '../../merge/merge';
import { minTasksFor } from '../../merge/methods';
import { SwitchingLoraKernel } from '../../peft/kernel';
import { budgetNote } from '../../flow/memory-note';
import { mergeSummary } from '../../flow/summary';
import { engineFor, loraFor } from '../engine';
import { atomicOutput, type OpenFiles } from '../files';
import { inOrder } from '../in-order';
import { modelFolderOf, writeModelFolder, writeRecipe } from '../model-folder';
import { openSet } from '../open-set';
import { BUNDLE_FILE, folderInputs, mergeOutputs, refuseClobbering, setInputs } from '../out-paths';
import { fmtBytes, mergeJson, mergeText, out, say } from '../print';
import { progressBar } from '../progress';
import { scratchFile } from '../scratch';
import { writeTaskFiles } from '../write-outputs';
import { artefactFile, writeArtefactFile } from '../pertask';
import { isPerTaskResult } from '../../merge/pertask/result';
import { mergeArgs } from './merge-args';

/**
 * Two task models at a time: writing is bound by the kernel's copy into the page cache, which a
 * second thread of the pool can share while this one computes the next chunk.
 */
const TASKS_WRITTEN_AT_ONCE = 2;

/** EMR's bundle, or a per-task method's artefact (./pertask.ts); undefined for other methods. */
async function writeBundleFile(
  result: AnyMergeResult,
  outDir: string,
  signal: AbortSignal,
): Promise<{ file: string; bytes: number; taskModelsBytes: number } | undefined> {
  if (isPerTaskResult(result)) return writeArtefactFile(result, outDir, signal);
  if (!isEmr(result)) return undefined;
  const file = join(outDir, BUNDLE_FILE);
  const out = await atomicOutput(file, signal);
  try {
    const size = await writeBundle(result, out.sink);
    await out.commit();
    return { file, bytes: size.bundleBytes, taskModelsBytes: size.taskModelsBytes };
  } catch (e) {
    await out.discard();
    throw e;
  }
}

export async function merge(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
  const { job, outDir, shardBytes, budgetBytes, spillOverBytes, ...flags } = await mergeArgs(argv, files);
  const started = performance.now();
  // LoRA deltas on the CPU twin, or on the GPU (same bytes) once the engine is the GPU one.
  const lora = files.adopt(new SwitchingLoraKernel((why) => say(`LoRA on the CPU (${why})`)));
  const set = await openSet(job, files, lora, { minTasks: minTasksFor(job.method) }); // headers first: a refusal comes before any engine starts
  const headerBytes = files.remote.fetched;
  if (files.remote.files > 0)
    say(
      `checked ${files.remote.files} remote files from their headers (${fmtBytes(headerBytes)} fetched) before reading any tensor`,
    );
  // EMR's bundle, or a per-task method's artefact (src/cli/pertask.ts), unless --no-bundle.
  const withBundle = (job.method.method === 'emr' || !!artefactFile(job.method)) && !flags.noBundle;
  const bundleOut = withBundle && (artefactFile(job.method) ?? true);
  // A task that came in as a Hugging Face folder goes out as one (model.safetensors, config, card).
  const folders = await Promise.all(job.tasks.map((t) => modelFolderOf(t.path)));
  await refuseClobbering(mergeOutputs(set, outDir, { bundle: bundleOut, shardBytes, folders }), [
    ...setInputs(set),
    ...files.texts,
    ...(await folderInputs(folders)),
  ]);
  const note = budgetNote(set, job.method, budgetBytes);
  if (note) say(note);
  const engine = files.adopt(await engineFor(flags.engine));
  await loraFor(engine, lora);
  const bar = progressBar();
  const result = await runMerge(set, job.method, engine, {
    signal,
    onProgress: (p) => bar.update(p),
    ...(budgetBytes ? { budgetBytes } : {}),
    spill: {
      overBytes: spillOverBytes,
      open: async (bytes) => {
        await mkdir(outDir, { recursive: true });
        const scratch = await scratchFile(outDir, bytes);
        files.atClose(() => scratch.remove());
        return scratch;
      },
    },
  });
  bar.done();
  await mkdir(outDir, { recursive: true });
  const options = { shardBytes, ...(budgetBytes ? { budgetBytes } : {}), externalData: true };
  // The bundle is written beside the task models, not after them: writing is bound by the copies
  // into the page cache, and while two task models are written the main thread waits on them
  // (docs/benchmarks.md). A failure on either side stops the other (its partial file removed).
  signal.throwIfAborted();
  const stop = new AbortController();
  const stopAll = () => stop.abort(signal.reason);
  signal.addEventListener('abort', stopAll, { once: true });
  const stopOnFailure = (e: unknown) => {
    stop.abort(e);
    throw e;
  };
  const tasksWritten = inOrder(set.tasks.length, TASKS_WRITTEN_AT_ONCE, (t) => {
    stop.signal.throwIfAborted();
    const folder = folders[t];
    // ONNX tasks are written as ONNX, whatever folder they came from (out-paths.ts plans the same).
    return folder === undefined || set.tasks[t]?.checkpoint.format === 'onnx'
      ? writeTaskFiles(result, t, engine, outDir, options, stop.signal)
      : writeModelFolder(outDir, set.tasks[t]?.name ?? `task${t}`, folder, job, stop.signal, (dir) =>
          writeTaskFiles(result, t, engine, dir, { ...options, stem: 'model' }, stop.signal),
        );
  }).catch(stopOnFailure);
  const bundleWritten = (
    withBundle ? writeBundleFile(result, outDir, stop.signal) : Promise.resolve(undefined)
  ).catch(stopOnFailure);
  const [tasksDone, bundleDone] = await Promise.allSettled([tasksWritten, bundleWritten]);
  signal.removeEventListener('abort', stopAll);
  if (tasksDone.status === 'rejected') throw tasksDone.reason;
  if (bundleDone.status === 'rejected') throw bundleDone.reason;
  const written = tasksDone.value;
  const bundle = bundleDone.value;
  if (folders.some((f) => f === undefined)) await writeRecipe(outDir, job, signal); // beside flat outputs
  const summary = await mergeSummary(result, {
    id: 1,
    engine: engine.description,
    seconds: (performance.now() - started) / 1000,
    source: 'merge',
    shardBytes,
  });
  const run = {
    set,
    written,
    ...(bundle ? { bundle } : {}),
    ...(files.remote.files > 0
      ? { remote: { files: files.remote.files, headerBytes, fetchedBytes: files.remote.fetched } }
      : {}),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  out(flags.json ? mergeJson(summary, run) : mergeText(summary, run));
}
