// A task's model as ONNX bytes for onnxruntime: a graph (the task's own .onnx, or one the user
// gave for a task that came as safetensors) with its initializers filled from the task's weights —
// the individual fine-tune's own, or the task's model under a merge method. Only the initializers
// are replaced; every other byte of the graph is kept (the formats' splicing writer).
import type { DType } from '../formats/dtype';
import { writeOnnx, type OnnxCheckpoint, type OnnxReplacement } from '../formats/onnx';
import { MemorySink } from '../formats/sink';
import type { TensorData, TensorName } from '../formats/tensor';

/** A weight by name, from a checkpoint (TensorEntry) or a merged task model (OutputTensor). */
export interface NamedWeight {
  readonly name: TensorName;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface GraphMatch {
  /** Float initializers of the graph with no weight of that name. */
  readonly missing: readonly string[];
  /** Initializers whose weight has another shape or dtype: "name: graph F32 [10, 32], weights F32 [2, 32]". */
  readonly differing: readonly string[];
  /** Weights the graph has no initializer for (harmless for inference, but a sign of the wrong graph). */
  readonly unused: readonly string[];
  /** Initializers that will be filled from the weights. */
  readonly matched: number;
}

export class GraphMismatchError extends Error {
  override readonly name = 'GraphMismatchError';
  constructor(
    readonly graphFile: string,
    readonly task: string,
    readonly match: GraphMatch,
  ) {
    const list = (what: string, xs: readonly string[]) =>
      xs.length ? ` ${what} (${xs.length}): ${xs.slice(0, 8).join('; ')}${xs.length > 8 ? '; …' : ''}.` : '';
    super(
      `${graphFile} does not fit the weights of task ${task}:` +
        list('graph initializers without a weight of that name', match.missing) +
        list('shape or dtype differs', match.differing) +
        (match.matched === 0 ? ' No initializer name matches a weight name.' : ''),
    );
  }
}

const FLOATS: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Which of the graph's initializers the weights fill, and which names do not line up. */
export function matchGraph(graph: OnnxCheckpoint, weights: readonly NamedWeight[]): GraphMatch {
  const byName = new Map(weights.map((w) => [w.name as string, w] as const));
  const missing: string[] = [];
  const differing: string[] = [];
  let matched = 0;
  const initializers = new Set<string>();
  for (const init of graph.tensors.values()) {
    initializers.add(init.name);
    const w = byName.get(init.name);
    if (!w) {
      // Integer initializers are graph constants (shapes, indices), not weights.
      if (FLOATS.has(init.dtype)) missing.push(init.name);
      continue;
    }
    if (w.dtype !== init.dtype || w.shape.join() !== init.shape.join())
      differing.push(
        `${init.name}: graph ${init.dtype} [${init.shape.join(', ')}], weights ${w.dtype} [${w.shape.join(', ')}]`,
      );
    else matched++;
  }
  const unused = weights.filter((w) => !initializers.has(w.name)).map((w) => w.name as string);
  return { missing, differing, unused, matched };
}

/**
 * The graph with every initializer that has a weight of the same name, shape and dtype replaced by
 * that weight. Refuses (GraphMismatchError) a graph some of whose float initializers have no
 * weight, or a different shape or dtype, so a wrong graph never runs silently with its own weights.
 */
export async function taskOnnx(
  graph: OnnxCheckpoint,
  weights: readonly NamedWeight[],
  task: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const match = matchGraph(graph, weights);
  if (match.missing.length || match.differing.length || match.matched === 0)
    throw new GraphMismatchError(graph.files[0] ?? 'graph', task, match);
  const graphNames = new Set<string>([...graph.tensors.keys()]);
  const replacements = new Map<TensorName, OnnxReplacement>();
  for (const w of weights) if (graphNames.has(w.name)) replacements.set(w.name, w.data);
  const sink = new MemorySink(`${task}.onnx`);
  await writeOnnx(graph, replacements, sink);
  return sink.bytes();
}
