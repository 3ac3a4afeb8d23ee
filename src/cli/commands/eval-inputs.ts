// What `eval` reads besides the models: the graphs (--graph), the labeled sets (--eval, tensors or
// texts), and a tokenizer for texts (--tokenizer, or tokenizer.json beside the graph).
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { OnnxCheckpoint } from '../../formats/onnx';
import type { LabeledSet } from '../../inference/evaluate';
import { readLabeledSet } from '../../inference/labeled';
import { isTextSetFile, parseTextSet, tokenizeTextSet } from '../../inference/labeled-text';
import { textSpecFor, type TextTokenizer } from '../../inference/text-inputs';
import { loadTokenizer } from '../../inference/tokenizer';
import type { ModelSet } from '../../merge/model-set';
import { graphFor, ownGraph } from '../../flow/compare';
import { openPath, type OpenFiles } from '../files';
import { parseTaskFlag, UsageError } from '../job';

/** --graph FILE.onnx for every task, or --graph NAME=FILE.onnx for one; each task's graph, checked. */
export async function openGraphs(
  flags: readonly string[],
  set: ModelSet,
  files: OpenFiles,
): Promise<(t: number) => OnnxCheckpoint> {
  const graphs = new Map<string, OnnxCheckpoint>();
  for (const flag of flags) {
    const g = /^[^=/\\]+=/.test(flag) ? parseTaskFlag(flag) : { name: '*', path: flag };
    const checkpoint = await openPath(g.path, files);
    if (checkpoint.format !== 'onnx')
      throw new UsageError(`--graph ${g.path}: a graph must be an .onnx file`);
    graphs.set(g.name, checkpoint as OnnxCheckpoint);
  }
  const graphOf = (t: number): OnnxCheckpoint => {
    const task = set.tasks[t] as ModelSet['tasks'][number];
    const graph = graphFor(task.name, graphs, ownGraph(task));
    if (!graph)
      throw new UsageError(
        `eval runs ONNX graphs: give ${task.name} as .onnx, or its graph with --graph ${task.name}=FILE.onnx`,
      );
    return graph;
  };
  set.tasks.forEach((_, t) => graphOf(t));
  return graphOf;
}

/** Every task's labeled set; texts (JSONL / CSV) tokenized for its graph's ids/mask inputs. */
export async function openLabeled(
  set: ModelSet,
  paths: ReadonlyMap<string, string>,
  graphOf: (t: number) => OnnxCheckpoint,
  text: { readonly tokenizer: string | undefined; readonly maxLength: number | undefined },
  files: OpenFiles,
): Promise<LabeledSet[]> {
  let tokenizer: TextTokenizer | undefined;
  const tokenizerFor = async (t: number): Promise<TextTokenizer> => {
    tokenizer ??= await findTokenizer(text.tokenizer, graphOf(t).files[0], files);
    return tokenizer;
  };
  return Promise.all(
    set.tasks.map(async (task, t) => {
      const path = paths.get(task.name) as string;
      if (!isTextSetFile(path)) return readLabeledSet(await openPath(path, files));
      const rows = parseTextSet(path, await files.readText(path));
      const tok = await tokenizerFor(t);
      const spec = textSpecFor(graphOf(t).inputs, { maxLength: text.maxLength, tokenizer: tok });
      if (!spec)
        throw new UsageError(`${path} holds texts, but the graph of ${task.name} takes no token ids`);
      return tokenizeTextSet(rows, tok, spec);
    }),
  );
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
