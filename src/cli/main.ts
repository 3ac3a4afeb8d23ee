// merge-studio: the command line over the same engine as the studio (CPU engine in Node).
//   merge --base FILE --task NAME=FILE … [--method emr|ta|ties|avg] [--lambda X] [--topk X]
//         [--rescale tensor-mean|global] --out DIR [--json] [--budget MB]
//   merge CONFIG.yml --out DIR [--json]
//   apply --bundle FILE --base FILE --task NAME --out FILE
//   inspect FILE…
// Exit codes: 0 success, 1 refused input or failure (one line on stderr), 2 usage, 130 interrupted.
import { access, mkdir } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { dtypeBytes } from '../formats/dtype';
import type { OnnxCheckpoint } from '../formats/onnx';
import { FormatError } from '../formats/errors';
import { openSafetensors } from '../formats/safetensors';
import type { Checkpoint } from '../formats/tensor';
import { writeBundle } from '../merge/bundle';
import { createNodeCpuEngine } from '../merge/cpu/node-engine';
import { FallbackEngine } from '../merge/fallback';
import type { MergeEngine } from '../merge/engine';
import { isOnnxTask, writeTaskOnnx, writeTaskSafetensors } from '../merge/export';
import { isEmr, runMerge, type AnyMergeResult } from '../merge/merge';
import { describeMethod } from '../merge/methods';
import { buildModelSet, type ModelSet } from '../merge/model-set';
import { hasNonFinite, nonFiniteWarning } from '../merge/non-finite';
import { DEFAULT_SHARD_BYTES, indexName, shardCount, writeShardedTask } from '../merge/sharded';
import { taskIndex, taskModel } from '../merge/task-model';
import { evaluateTable, type EvalMethod } from '../inference/eval-table';
import { taskOnnx } from '../inference/task-onnx';
import { readLabeledSet } from '../inference/labeled';
import { isTextSetFile, parseTextSet, tokenizeTextSet } from '../inference/labeled-text';
import { textSpecFor, type TextTokenizer } from '../inference/text-inputs';
import { loadTokenizer } from '../inference/tokenizer';
import { tableToCsv, tableToMarkdown } from '../inference/table';
import { atomicOutput, openAdapter, OpenFiles, openPath, type AtomicOutput } from './files';
import { withAdapters, type TaskSource } from '../peft/set';
import { SwitchingLoraKernel, type LoraKernel } from '../peft/kernel';
import {
  buildSpec,
  jobFromYaml,
  numberFlag,
  parseMethod,
  parseTaskFlag,
  specFromFlags,
  UsageError,
  type MergeJob,
} from './job';
import { inOrder } from './in-order';
import { modelFolderOf, writeModelFolder } from './model-folder';
import { isRemote, openRemote } from './remote';
import {
  BUNDLE_FILE,
  checkpointFiles,
  checkTaskNames,
  folderInputs,
  mergeOutputs,
  refuseClobbering,
  setInputs,
} from './out-paths';
import { scratchFile } from './scratch';
import { progressBar } from './progress';
import { helpFor, USAGE } from './usage';
import { artefactFile, openAnyBundle, perTaskLine, perTaskSummary, writeArtefactFile } from './pertask';
import { isPerTaskResult } from '../merge/pertask/result';
import { isPerTaskMethod } from '../merge/pertask/spec';
import { perTaskEvalMethods } from './pertask-eval';

class Interrupted extends Error {}

/**
 * --engine cpu | gpu; by default the GPU when the machine has a hardware adapter, else the CPU
 * with a one-line notice saying why. The GPU code (dawn.node) loads only when it may be used.
 */
async function engineFor(name: string | undefined): Promise<MergeEngine> {
  if (name === 'cpu') return createNodeCpuEngine();
  if (name === 'gpu') return withCpuFallback(await (await import('./gpu')).gpuEngine());
  if (name !== undefined) throw new UsageError(`--engine must be cpu or gpu, got "${name}"`);
  const decision = await (await import('./gpu')).gpuEngineIfFast();
  if (decision.engine) return withCpuFallback(decision.engine);
  process.stderr.write(`merge-studio: ${decision.notice}\n`);
  return createNodeCpuEngine();
}

/** A lost GPU finishes the merge on the CPU engine, with a line saying so. */
function withCpuFallback(gpu: MergeEngine): MergeEngine {
  return new FallbackEngine(gpu, createNodeCpuEngine, (why) =>
    process.stderr.write(`merge-studio: the GPU failed (${why}); the merge goes on on the CPU engine\n`),
  );
}

function fmtBytes(n: number): string {
  return n >= 2 ** 30
    ? `${(n / 2 ** 30).toFixed(2)} GiB`
    : n >= 2 ** 20
      ? `${(n / 2 ** 20).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;
}

async function openSet(job: MergeJob, files: OpenFiles, lora?: LoraKernel): Promise<ModelSet> {
  // allSettled: no read is still in flight when the first failure reaches the caller and files close.
  const opened = await Promise.allSettled([
    openPath(job.base, files),
    ...job.tasks.map(async (t) => {
      if (isRemote(t.path)) {
        // A remote repo is read once: a model, or an adapter with its config.
        const remote = await openRemote(t.path, files.remote);
        return { name: t.name, checkpoint: remote.checkpoint, ...(remote.peft ? { peft: remote.peft } : {}) };
      }
      // A PEFT adapter (its folder or adapter_config.json) is a task over the base (src/peft).
      const adapter = await openAdapter(t.path, files);
      return adapter
        ? { name: t.name, checkpoint: adapter.checkpoint, peft: adapter.config }
        : { name: t.name, checkpoint: await openPath(t.path, files) };
    }),
  ]);
  const failed = opened.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
  const [base, ...tasks] = opened.map((o) => (o as PromiseFulfilledResult<unknown>).value) as [
    Checkpoint,
    ...TaskSource[],
  ];
  const set = withAdapters(base, tasks, lora);
  return buildModelSet(set.base, set.tasks);
}

async function merge(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      base: { type: 'string' },
      task: { type: 'string', multiple: true },
      method: { type: 'string' },
      lambda: { type: 'string' },
      topk: { type: 'string' },
      rescale: { type: 'string' },
      seed: { type: 'string' },
      param: { type: 'string', multiple: true },
      out: { type: 'string' },
      budget: { type: 'string' },
      'spill-over': { type: 'string' },
      engine: { type: 'string' },
      'no-bundle': { type: 'boolean' },
      'shard-size': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.out) throw new UsageError('merge needs --out DIR');
  let job: MergeJob;
  if (positionals.length === 1) {
    if (
      values.base ||
      values.task ||
      values.method ||
      values.lambda ||
      values.topk ||
      values.rescale ||
      values.param
    ) {
      throw new UsageError('give the merge either as a YAML file or as flags, not both');
    }
    const file = positionals[0] as string;
    job = jobFromYaml(
      await files
        .readText(file)
        .catch((e: unknown) =>
          Promise.reject(e instanceof FormatError ? e : new UsageError(`${file}: cannot read it`)),
        ),
      file,
      numberFlag('seed', values.seed),
    );
  } else if (positionals.length > 1) {
    throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  } else {
    if (!values.base) throw new UsageError('merge needs --base FILE (or a YAML config)');
    job = {
      base: values.base,
      tasks: (values.task ?? []).map(parseTaskFlag),
      method: specFromFlags(values),
    };
  }
  checkTaskNames(job.tasks.map((t) => t.name));
  const shardGb = numberFlag('shard-size', values['shard-size']);
  if (shardGb !== undefined && !(shardGb > 0))
    throw new UsageError('--shard-size wants a positive number of GB');
  const shardBytes = shardGb === undefined ? DEFAULT_SHARD_BYTES : shardGb * 1e9;
  const budgetMb = numberFlag('budget', values.budget);
  const budgetBytes = budgetMb === undefined ? undefined : Math.max(1, budgetMb) * 2 ** 20;
  // τ_uni and the masks stay in memory up to a quarter of it, and go to a scratch file beyond.
  const spillMb = numberFlag('spill-over', values['spill-over']);
  if (spillMb !== undefined && !(spillMb >= 0))
    throw new UsageError('--spill-over wants a number of MB (0: always spill)');
  const spillOverBytes = spillMb === undefined ? totalmem() / 4 : spillMb * 2 ** 20;
  const outDir = values.out;
  const started = performance.now();
  // LoRA deltas on the CPU twin, or on the GPU (same bytes) once the engine is the GPU one.
  const lora = files.adopt(
    new SwitchingLoraKernel((why) => process.stderr.write(`merge-studio: LoRA on the CPU (${why})\n`)),
  );
  const set = await openSet(job, files, lora); // headers first: a refusal comes before any engine starts
  const headerBytes = files.remote.fetched;
  if (files.remote.files > 0)
    process.stderr.write(
      `merge-studio: checked ${files.remote.files} remote files from their headers (${fmtBytes(headerBytes)} fetched) before reading any tensor\n`,
    );
  const withBundle = (job.method.method === 'emr' || !!artefactFile(job.method)) && !values['no-bundle'];
  // A task that came in as a Hugging Face folder goes out as one (model.safetensors, config, card).
  const folders = await Promise.all(job.tasks.map((t) => modelFolderOf(t.path)));
  const bundleOut = withBundle && (artefactFile(job.method) ?? true); // a per-task method's artefact
  await refuseClobbering(mergeOutputs(set, outDir, { bundle: bundleOut, shardBytes, folders }), [
    ...setInputs(set),
    ...files.texts,
    ...(await folderInputs(folders)),
  ]);
  const engine = files.adopt(await engineFor(values.engine));
  if (engine.kind === 'gpu')
    await (await import('./gpu')).gpuLoraKernel().then(
      (k) => lora.use(k),
      () => {},
    ); // else the twin
  const bar = progressBar();
  const result: AnyMergeResult = await runMerge(set, job.method, engine, {
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
  // Two task models at a time: writing is bound by the kernel's copy into the page cache, which a
  // second thread of the pool can share while this one computes the next chunk.
  const written = await inOrder(set.tasks.length, TASKS_WRITTEN_AT_ONCE, (t) => {
    signal.throwIfAborted();
    if (isOnnxTask(result, t)) return writeOnnxTask(result, t, engine, outDir, signal);
    const folder = folders[t];
    return folder === undefined
      ? writeSafetensorsTask(result, t, engine, outDir, shardBytes, signal, budgetBytes)
      : writeModelFolder(outDir, set.tasks[t]?.name ?? `task${t}`, folder, job, signal, (dir) =>
          writeSafetensorsTask(result, t, engine, dir, shardBytes, signal, budgetBytes, 'model'),
        );
  });
  let bundle: { file: string; bytes: number; taskModelsBytes: number } | undefined;
  if (isEmr(result) && withBundle) {
    const file = join(outDir, BUNDLE_FILE);
    const out = await atomicOutput(file, signal);
    try {
      const size = await writeBundle(result, out.sink);
      await out.commit();
      bundle = { file, bytes: size.bundleBytes, taskModelsBytes: size.taskModelsBytes };
    } catch (e) {
      await out.discard();
      throw e;
    }
  }
  if (isPerTaskResult(result) && withBundle) bundle = await writeArtefactFile(result, outDir, signal);
  const seconds = (performance.now() - started) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const summary = {
    method: result.spec,
    engine: engine.description,
    tasks: set.tasks.map((t, i) => ({
      name: t.name,
      ...(isEmr(result)
        ? {
            lambda: result.tasks[i]?.lambda,
            lambdaDefaulted: result.tasks[i]?.lambdaDefaulted,
            maskDensity: result.tasks[i]?.density,
            lambdaNumerator: result.tasks[i]?.numerator,
            lambdaDenominator: result.tasks[i]?.denominator,
          }
        : perTaskSummary(result, i)),
      output: written[i]?.file,
    })),
    ...(result.spec.method === 'ties' && !isEmr(result) ? { ties: result.ties } : {}),
    // NaN/±∞ read per model and per shared tensor, only when there were any.
    ...(hasNonFinite(result.nonFinite) ? { nonFinite: result.nonFinite } : {}),
    alignment: {
      shared: set.report.shared.length,
      sharedParameters: set.report.sharedParameters,
      leftOut: set.report.leftOut,
      baseOnly: set.report.baseOnly,
    },
    bundle,
    ...(isEmr(result) ? { values: result.values.location } : {}),
    bytesRead: result.bytesRead,
    ...(files.remote.files > 0
      ? { remote: { files: files.remote.files, headerBytes, fetchedBytes: files.remote.fetched } }
      : {}),
    seconds,
    peakRssBytes: peakRss,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const lines = [
    `${describeMethod(result.spec)} on ${engine.description}: ${set.tasks.length} tasks, ${set.report.shared.length} shared tensors (${set.report.sharedParameters.toLocaleString('en')} parameters), ${set.report.leftOut.length} passed through`,
  ];
  for (const [i, w] of written.entries()) {
    const lam = isEmr(result)
      ? `  λ = ${result.tasks[i]?.lambda.toFixed(4)}  mask density ${((result.tasks[i]?.density ?? 0) * 100).toFixed(1)} %`
      : perTaskLine(result, i);
    lines.push(`  ${w.task.padEnd(16)} → ${w.file}${lam}`);
    if (set.tasks[i]?.checkpoint.format === 'pytorch')
      lines.push(
        `  ${''.padEnd(16)}   (a PyTorch checkpoint: written as safetensors, Hugging Face's default)`,
      );
  }
  const warning = nonFiniteWarning(
    result.nonFinite,
    set.tasks.map((t) => t.name),
    set.shared.length,
  );
  if (warning) lines.push(`  warning: ${warning}`);
  if (bundle)
    lines.push(
      `  bundle → ${bundle.file}: ${fmtBytes(bundle.bytes)} for ${set.tasks.length} tasks whose models take ${fmtBytes(bundle.taskModelsBytes)}`,
    );
  lines.push(
    `read ${fmtBytes(result.bytesRead)} in ${seconds.toFixed(2)} s, peak memory ${fmtBytes(peakRss)}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * `<name>.safetensors`, or Hugging Face shards `<name>-0000k-of-0000n.safetensors` + their
 * `<name>.safetensors.index.json` when the model is larger than a shard. Every file is written under
 * a temporary name and renamed only when all of them are complete.
 */
const TASKS_WRITTEN_AT_ONCE = 2;

async function writeSafetensorsTask(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  dir: string,
  shardBytes: number,
  signal: AbortSignal,
  budgetBytes?: number,
  /** The file name's stem: the task's name, or "model" inside a model folder. */
  stem?: string,
) {
  const name = (result.set.tasks[t] as ModelSet['tasks'][number]).name;
  const file = stem ?? name;
  const outputs: AtomicOutput[] = [];
  const open = async (file: string) => {
    const out = await atomicOutput(join(dir, file), signal);
    outputs.push(out);
    return out.sink;
  };
  try {
    const sharded = shardCount(result, t, shardBytes) > 1;
    const bytes = sharded
      ? await writeShardedTask(result, t, engine, file, shardBytes, open)
      : await writeTaskSafetensors(result, t, engine, await open(`${file}.safetensors`), budgetBytes);
    for (const out of outputs) await out.commit();
    return { task: name, file: join(dir, sharded ? indexName(file) : `${file}.safetensors`), bytes };
  } catch (e) {
    await Promise.all(outputs.map((o) => o.discard()));
    throw e;
  }
}

/** `<name>.onnx`, and `<name>.onnx.data` beside it only when the weights must go to external data. */
async function writeOnnxTask(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  dir: string,
  signal: AbortSignal,
) {
  const name = (result.set.tasks[t] as ModelSet['tasks'][number]).name;
  const file = join(dir, `${name}.onnx`);
  const location = `${name}.onnx.data`;
  const model = await atomicOutput(file, signal);
  const data = await atomicOutput(join(dir, location), signal);
  try {
    const w = await writeTaskOnnx(result, t, engine, model.sink, { sink: data.sink, location });
    await model.commit();
    if (w.externalBytes > 0) await data.commit();
    else await data.discard();
    return { task: name, file, bytes: w.modelBytes + w.externalBytes };
  } catch (e) {
    await Promise.all([model.discard(), data.discard()]);
    throw e;
  }
}

async function apply(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bundle: { type: 'string' },
      base: { type: 'string' },
      task: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.bundle || !values.base || !values.task || !values.out)
    throw new UsageError('apply needs --bundle FILE --base FILE --task NAME --out FILE');
  const bundle = await openSafetensors(await files.open(values.bundle));
  const base = await openPath(values.base, files);
  const result = await openAnyBundle(bundle, base);
  await refuseClobbering(
    [{ path: values.out, what: `the model of task ${JSON.stringify(values.task)}` }],
    [...checkpointFiles(bundle), ...checkpointFiles(base)],
  );
  const engine = files.adopt(createNodeCpuEngine());
  const out = await atomicOutput(values.out, signal);
  try {
    await writeTaskSafetensors(result, taskIndex(result, values.task), engine, out.sink);
    await out.commit();
  } catch (e) {
    await out.discard();
    if (e instanceof RangeError) throw new UsageError(`--task: ${e.message}`);
    throw e;
  }
  process.stdout.write(`${values.task} → ${values.out}\n`);
}

/**
 * The paper's table on the user's labeled data: every task's individual model and its model under
 * each method, run by onnxruntime-web (wasm) on the task's labeled set, and the routed EMR row —
 * the same code (src/inference/eval-table.ts) as the studio's evaluation.
 */
async function evaluate(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      base: { type: 'string' },
      task: { type: 'string', multiple: true },
      eval: { type: 'string', multiple: true },
      graph: { type: 'string', multiple: true },
      tokenizer: { type: 'string' },
      'max-length': { type: 'string' },
      methods: { type: 'string' },
      lambda: { type: 'string' },
      topk: { type: 'string' },
      'no-route': { type: 'boolean' },
      csv: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (!values.base) throw new UsageError('eval needs --base FILE');
  const tasks = (values.task ?? []).map(parseTaskFlag);
  const sets = new Map((values.eval ?? []).map(parseTaskFlag).map((e) => [e.name, e.path]));
  const missing = tasks.filter((t) => !sets.has(t.name)).map((t) => t.name);
  if (missing.length)
    throw new UsageError(
      `eval needs a labeled set for every task: --eval ${missing[0]}=SET.safetensors (missing: ${missing.join(', ')})`,
    );
  // --graph FILE.onnx for every task, or --graph NAME=FILE.onnx for one.
  const graphFlags = (values.graph ?? []).map((g) =>
    /^[^=/\\]+=/.test(g) ? parseTaskFlag(g) : { name: '*', path: g },
  );
  const names = (values.methods ?? 'avg,ta,ties,emr').split(',').map((m) => m.trim());
  const methods = names.filter((m) => !isPerTaskMethod(m)).map(parseMethod); // per-task: ./pertask-eval

  const lambda = numberFlag('lambda', values.lambda);
  const k = numberFlag('topk', values.topk);
  const set = await openSet({ base: values.base, tasks, method: buildSpec('emr', {}) }, files);
  const graphs = new Map<string, OnnxCheckpoint>();
  for (const g of graphFlags) {
    const checkpoint = await openPath(g.path, files);
    if (checkpoint.format !== 'onnx')
      throw new UsageError(`--graph ${g.path}: a graph must be an .onnx file`);
    graphs.set(g.name, checkpoint as OnnxCheckpoint);
  }
  const graphOf = (t: number): OnnxCheckpoint => {
    const task = set.tasks[t] as ModelSet['tasks'][number];
    const graph =
      graphs.get(task.name) ??
      graphs.get('*') ??
      (task.checkpoint.format === 'onnx' ? (task.checkpoint as OnnxCheckpoint) : undefined);
    if (!graph)
      throw new UsageError(
        `eval runs ONNX graphs: give ${task.name} as .onnx, or its graph with --graph ${task.name}=FILE.onnx`,
      );
    return graph;
  };
  set.tasks.forEach((_, t) => graphOf(t));
  const maxLength = numberFlag('max-length', values['max-length']);
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength > 0))
    throw new UsageError('--max-length wants a whole number of tokens');
  // Texts (JSONL / CSV) are tokenized for the graph's ids/mask inputs with the same code as the studio.
  let tokenizer: TextTokenizer | undefined;
  const tokenizerFor = async (t: number): Promise<TextTokenizer> => {
    tokenizer ??= await findTokenizer(values.tokenizer, graphOf(t).files[0], files);
    return tokenizer;
  };
  const labeled = await Promise.all(
    set.tasks.map(async (task, t) => {
      const path = sets.get(task.name) as string;
      if (!isTextSetFile(path)) return readLabeledSet(await openPath(path, files));
      const rows = parseTextSet(path, await files.readText(path));
      const tok = await tokenizerFor(t);
      const spec = textSpecFor(graphOf(t).inputs, { maxLength, tokenizer: tok });
      if (!spec)
        throw new UsageError(`${path} holds texts, but the graph of ${task.name} takes no token ids`);
      return tokenizeTextSet(rows, tok, spec);
    }),
  );
  const engine = files.adopt(createNodeCpuEngine());
  const { createSession } = await import('../inference/ort'); // onnxruntime-web loads only for eval
  const results = new Map<string, Promise<AnyMergeResult>>();
  const evalMethods: EvalMethod[] = [
    {
      label: 'Individual',
      emr: false,
      model: (t) =>
        taskOnnx(
          graphOf(t),
          [...(set.tasks[t]?.checkpoint.tensors.values() ?? [])],
          set.tasks[t]?.name ?? '',
          set.base, // the graph binds to the weights through the base (src/inference/graph-binding.ts)
        ),
    },
    ...methods.map((method): EvalMethod => {
      const spec = buildSpec(
        method,
        method === 'ta' || method === 'ties' ? { lambda, ...(method === 'ties' ? { k } : {}) } : {},
      );
      const result = () => {
        let r = results.get(method);
        if (!r) results.set(method, (r = runMerge(set, spec, engine, { signal })));
        return r;
      };
      return {
        label: describeMethod(spec),
        emr: method === 'emr',
        model: async (t) =>
          taskOnnx(graphOf(t), taskModel(await result(), t, engine), set.tasks[t]?.name ?? '', set.base),
      };
    }),
    ...perTaskEvalMethods(names.filter(isPerTaskMethod), {
      set,
      engine,
      labeled,
      graphOf,
      signal,
      log: (l) => process.stderr.write(`${l}\n`),
      createSession: (model) => createSession(model, { provider: 'wasm' }),
    }),
  ];
  const report = await evaluateTable({
    tasks: set.tasks.map((t) => t.name),
    methods: evalMethods,
    labeled,
    createSession: (model) => createSession(model, { provider: 'wasm' }),
    routed: !values['no-route'],
    signal,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(values.csv ? tableToCsv(report) : `${tableToMarkdown(report)}\n`);
}

/** --tokenizer FILE, else tokenizer.json beside the graph; tokenizer_config.json beside either. */
async function findTokenizer(
  given: string | undefined,
  graphFile: string | undefined,
  files: OpenFiles,
): Promise<TextTokenizer> {
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );
  const path = given ?? (graphFile ? join(dirname(graphFile), 'tokenizer.json') : undefined);
  if (!path || !(await exists(path)))
    throw new UsageError(
      `eval of texts needs a tokenizer: --tokenizer tokenizer.json${path ? ` (there is none at ${path})` : ''}`,
    );
  const configPath = join(dirname(path), 'tokenizer_config.json');
  return loadTokenizer(
    { file: path, text: await files.readText(path) },
    (await exists(configPath)) ? { file: configPath, text: await files.readText(configPath) } : null,
  );
}

async function inspect(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
  if (!argv.length) throw new UsageError('inspect needs at least one FILE');
  const checkpoints = await Promise.all(
    argv.map(async (p) => ({ path: p, checkpoint: await openPath(p, files) })),
  );
  for (const { path, checkpoint } of checkpoints) {
    signal.throwIfAborted();
    const tensors = [...checkpoint.tensors.values()];
    const params = tensors.reduce((a, t) => a + t.byteLength / dtypeBytes(t.dtype), 0);
    process.stdout.write(
      `${path}: ${checkpoint.format}, ${tensors.length} tensors, ${params.toLocaleString('en')} parameters, ${fmtBytes(tensors.reduce((a, t) => a + t.byteLength, 0))}\n`,
    );
    for (const t of tensors)
      process.stdout.write(
        `  ${t.name.padEnd(40)} ${t.dtype.padEnd(5)} [${t.shape.join(', ')}]  ${t.byteLength} bytes\n`,
      );
  }
  if (checkpoints.length >= 3) {
    const [base, ...tasks] = checkpoints as [(typeof checkpoints)[number], ...typeof checkpoints];
    const set = buildModelSet(
      base.checkpoint,
      tasks.map((t) => ({ name: parseTaskFlag(t.path).name, checkpoint: t.checkpoint })),
    );
    process.stdout.write(
      `\nwith ${base.path} as the base: ${set.report.shared.length} tensors merged (${set.report.sharedParameters.toLocaleString('en')} parameters)\n`,
    );
    for (const l of set.report.leftOut)
      process.stdout.write(`  left out ${l.name}: ${l.reason} — ${l.detail}\n`);
    for (const n of set.report.baseOnly) process.stdout.write(`  base only ${n}: in the base, in no task\n`);
  }
}

export async function main(argv: string[]): Promise<number> {
  // --help, <command> --help, --version: usage text in ./usage.ts
  const help = helpFor(argv);
  if (help !== undefined) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const [command, ...rest] = argv;
  const controller = new AbortController();
  const files = new OpenFiles();
  const onSigint = () => controller.abort(new Interrupted('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    switch (command) {
      case 'merge':
        await merge(rest, controller.signal, files);
        controller.signal.throwIfAborted();
        return 0;
      case 'apply':
        await apply(rest, controller.signal, files);
        controller.signal.throwIfAborted();
        return 0;
      case 'inspect':
        await inspect(rest, controller.signal, files);
        controller.signal.throwIfAborted();
        return 0;
      case 'eval':
        await evaluate(rest, controller.signal, files);
        controller.signal.throwIfAborted();
        return 0;
      case undefined:
        process.stdout.write(`${USAGE}\n`);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof Interrupted || controller.signal.aborted) {
      process.stderr.write('merge-studio: interrupted; no partial output was left\n');
      return 130;
    }
    if (
      e instanceof UsageError ||
      (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`merge-studio: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    // FormatError, ModelSetError and BundleError messages already name the file and the problem.
    process.stderr.write(`merge-studio: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await files.closeAll();
  }
}
