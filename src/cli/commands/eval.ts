// merge-studio eval: the paper's table on the user's labeled data — every task's individual model
// and its model under each method, run by onnxruntime-web (wasm) on the task's labeled set, and the
// routed EMR row; the same table (src/inference/eval-table.ts) and the same comparison merges
// (src/flow/compare.ts) as the studio's evaluation.
import { parseArgs } from 'node:util';
import { evaluateTable, type EvalMethod } from '../../inference/eval-table';
import { tableToCsv, tableToMarkdown } from '../../inference/table';
import { createNodeCpuEngine } from '../../merge/cpu/node-engine';
import { describeMethod } from '../../merge/methods';
import { ComparisonMerges, taskModelOnnx } from '../../flow/compare';
import type { OpenFiles } from '../files';
import { buildSpec, numberFlag, parseMethod, parseTaskFlag, UsageError } from '../job';
import { openSet } from '../open-set';
import { isPerTaskMethod } from '../../merge/pertask/spec';
import { perTaskEvalMethods } from '../pertask-eval';
import { out, say } from '../print';
import { openGraphs, openLabeled } from './eval-inputs';

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
  const methods = names.filter((m) => !isPerTaskMethod(m)).map(parseMethod); // per-task: ../pertask-eval
  const lambda = numberFlag('lambda', values.lambda);
  const k = numberFlag('topk', values.topk);
  const set = await openSet({ base: values.base, tasks }, files);
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
    ...methods.map((method): EvalMethod => {
      const spec = buildSpec(
        method,
        method === 'ta' || method === 'ties' ? { lambda, ...(method === 'ties' ? { k } : {}) } : {},
      );
      return {
        label: describeMethod(spec),
        emr: method === 'emr',
        model: async (t) => taskModelOnnx(set, engine, t, graphOf(t), await comparisons.result(spec, signal)),
      };
    }),
    ...perTaskEvalMethods(names.filter(isPerTaskMethod), {
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
