// merge-studio eval: the paper's table on the user's labeled data — every task's individual model
// and its model under each method, run by onnxruntime-web (wasm) on the task's labeled set, and the
// routed EMR row; the same table (src/inference/eval-table.ts) and the same comparison merges
// (src/flow/compare.ts) as the studio's evaluation.
import { parseArgs } from 'node:util';
import { evaluateTable, type EvalMethod } from '../../inference/eval-table';
import { tableToCsv, tableToMarkdown } from '../../inference/table';
import { createNodeCpuEngine } from '../../merge/cpu/node-engine';
import { describeMethod, minTasksFor } from '../../merge/methods';
import { ComparisonMerges, taskModelOnnx } from '../../flow/compare';
import type { OpenFiles } from '../files';
import { numberFlag, parseTaskFlag, UsageError } from '../job';
import { openSet } from '../open-set';
import { isPerTaskSpec } from '../../merge/pertask/spec';
import { perTaskEvalMethods } from '../../flow/pertask-eval';
import { out, say } from '../print';
import { openGraphs, openLabeled } from './eval-inputs';
import { evalSpecs } from './eval-specs';

export async function evaluate(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
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
      rescale: { type: 'string' },
      seed: { type: 'string' },
      param: { type: 'string', multiple: true },
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
  const names = (values.methods ?? 'avg,ta,ties,emr').split(',').map((m) => m.trim());
  // Every name merge --method takes, parameters by merge's parser; refused before any file opens.
  const specs = evalSpecs(names, values, tasks.length);
  const minTasks = Math.min(2, ...specs.map(minTasksFor));
  const set = await openSet({ base: values.base, tasks }, files, undefined, { minTasks });
  const graphOf = await openGraphs(values.graph ?? [], set, files);
  const maxLength = numberFlag('max-length', values['max-length']);
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength > 0))
    throw new UsageError('--max-length wants a whole number of tokens');
  const labeled = await openLabeled(set, sets, graphOf, { tokenizer: values.tokenizer, maxLength }, files);
  const engine = files.adopt(createNodeCpuEngine());
  const { createSession } = await import('../../inference/ort'); // onnxruntime-web loads only for eval
  const comparisons = new ComparisonMerges(set, engine);
  const evalMethods: EvalMethod[] = [
    {
      label: 'Individual',
      emr: false,
      model: (t) => taskModelOnnx(set, engine, t, graphOf(t), 'individual'),
    },
    // One merged model (or EMR's): merged once per spec, on first use; per-task rows: src/flow/pertask-eval.ts.
    ...specs.flatMap((spec): EvalMethod[] =>
      isPerTaskSpec(spec)
        ? []
        : [
            {
              label: describeMethod(spec),
              emr: spec.method === 'emr',
              model: async (t) =>
                taskModelOnnx(set, engine, t, graphOf(t), await comparisons.result(spec, signal)),
            },
          ],
    ),
    ...perTaskEvalMethods(specs.filter(isPerTaskSpec), {
      set,
      engine,
      labeled,
      graphOf,
      signal,
      log: say,
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
  if (values.json) out(`${JSON.stringify(report, null, 2)}\n`);
  else out(values.csv ? tableToCsv(report) : `${tableToMarkdown(report)}\n`);
}
