// What the inference and evaluation views show before anything runs: per task, its graph and
// whether it fits the task's weights (graph binding through the base), its inputs, its labeled set
// and its text inputs; and the tokenizer.
import { matchGraph } from '../../src/inference/task-onnx';
import { taskWeights } from '../../src/flow/compare';
import type { InferenceInputs } from './inference-inputs';
import { columnsOf, type HeldResult, type TaskModels } from './inference-models';
import type { InferenceSetup, InferenceTaskSetup } from './protocol';

export function inferenceSetup(
  held: HeldResult,
  inputs: InferenceInputs,
  models: TaskModels,
): InferenceSetup {
  const { result } = held;
  return {
    heldId: held.id,
    columns: columnsOf(held).map((c) => ({ column: c, label: models.label(held, c) })),
    tasks: result.set.tasks.map((task, t): InferenceTaskSetup => {
      const graph = models.graphOf(held, t);
      const labeled = inputs.labeled.get(task.name);
      let unused: readonly string[] = [];
      let problem: string | undefined;
      if (graph) {
        const match = matchGraph(
          graph.checkpoint,
          taskWeights(result.set, held.engine, t, 'individual'),
          [...result.set.base.tensors.values()], // graph-binding: by value through the base
        );
        unused = match.unused;
        if (match.missing.length || match.differing.length || match.matched === 0)
          problem = `${graph.file} does not fit this task: ${[...match.missing.map((m) => `${m} has no weight`), ...match.differing].slice(0, 4).join('; ')}`;
      }
      const text = inputs.textSpecOf(graph);
      const floatInput = graph?.checkpoint.inputs.find((i) => i.elemType !== 'I64') ?? null;
      const input = floatInput ?? graph?.checkpoint.inputs[0];
      const texts = inputs.textSets.get(task.name);
      return {
        name: task.name,
        graph: graph ? { file: graph.file, own: graph.checkpoint === task.checkpoint } : null,
        graphProblem: problem ?? null,
        unusedWeights: unused,
        input: input ? { name: input.name, shape: input.shape, elemType: input.elemType } : null,
        labeled: texts
          ? { file: texts.file, count: texts.rows.length, sampleShape: [], kind: 'text', pair: texts.pair }
          : labeled
            ? {
                file: labeled.file,
                count: labeled.set.labels.length,
                sampleShape: 'feeds' in labeled.set ? [] : labeled.set.sampleShape,
                kind: 'feeds' in labeled.set ? 'feeds' : 'tensor',
                pair: false,
              }
            : null,
        text: text
          ? {
              ids: text.names.ids,
              mask: text.names.mask,
              typeIds: text.names.typeIds ?? null,
              maxLength: text.maxLength,
            }
          : null,
        floatInput: text && floatInput ? floatInput.name : null,
      };
    }),
    tokenizer: inputs.tokenizer
      ? {
          file: inputs.tokenizer.file,
          config: inputs.tokenizer.config,
          modelMaxLength: inputs.tokenizer.tokenizer.modelMaxLength,
        }
      : null,
  };
}
