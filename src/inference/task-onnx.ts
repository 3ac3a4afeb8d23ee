// A task's model as ONNX bytes for onnxruntime: a graph (the task's own .onnx, or one the user
// gave for a task that came as safetensors) with its initializers filled from the task's weights —
// the individual fine-tune's own, or the task's model under a merge method — through the graph's
// binding to the base (graph-binding.ts: by name, by value, transposed, per use). Only what the
// binding needs is re-encoded; every other byte of the graph is kept (the formats' splicing writer).
import {
  writeOnnx,
  type OnnxAddedInitializer,
  type OnnxCheckpoint,
  type OnnxGraphEdits,
  type OnnxReplacement,
} from '../formats/onnx';
import { MemorySink } from '../formats/sink';
import { tensorName, type Checkpoint, type TensorName } from '../formats/tensor';
import {
  bindGraph,
  transposeBytes,
  type GraphBinding,
  type NamedWeight,
  type RefusedInitializer,
} from './graph-binding';

export type { NamedWeight } from './graph-binding';

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
    /** What cannot be bound: the initializer's name and why. */
    readonly refused: readonly RefusedInitializer[],
  ) {
    // One line per reason, naming its initializers: a wrong graph refuses dozens for the same reason.
    const byReason = new Map<string, string[]>();
    for (const r of refused) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.initializer]);
    const lines = [...byReason].map(
      ([reason, names]) =>
        `${names.slice(0, 6).join(', ')}${names.length > 6 ? `, … (${names.length})` : ''}: ${reason}`,
    );
    super(
      `${graphFile} does not fit the weights of task ${task}: ${refused.length} graph initializer${refused.length === 1 ? '' : 's'} cannot be bound. ${lines.join('. ')}.` +
        (refused.some((r) => r.unbound)
          ? " A value the exporter computed from weights (BatchNorm folded into a Conv, a fused QKV weight, a slice of an embedding) cannot be filled from a task's weights."
          : '') +
        // torch.onnx.export in eval mode folds BatchNorm into the Conv before it; PRESERVE keeps it a node.
        (refused.some((r) => r.unbound && /^onnx::Conv_\d+$/.test(r.initializer))
          ? ' Export the base again with torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE): BatchNorm then stays a node of its own, with its weights under their names.'
          : ''),
    );
  }
}

const FLOATS: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Only the first dim of a weight (its output size: a head's class count) may differ from the graph's. */
const headChange = (graph: readonly number[], weight: readonly number[], axis: number) =>
  graph.length === weight.length && graph.every((d, i) => (i === axis ? d !== weight[i] : d === weight[i]));

/**
 * Which of the graph's initializers the weights fill, checked by name and shape only (cheap, for a
 * page to show at once): an initializer without a weight of its name still fits when `base` has a
 * weight of its shape or, 2-D, of its transposed shape (whether the values agree is checked when the
 * model is built, by bindGraph). A weight whose first dim (a head's class count) differs fits too.
 */
export function matchGraph(
  graph: OnnxCheckpoint,
  weights: readonly NamedWeight[],
  base: readonly NamedWeight[] = weights,
): GraphMatch {
  const byName = new Map(weights.map((w) => [w.name as string, w] as const));
  const shapes = new Set(base.map((w) => `${w.dtype}[${w.shape.join()}]`));
  const missing: string[] = [];
  const differing: string[] = [];
  let matched = 0;
  const names = new Set<string>([...graph.tensors.keys(), ...graph.nodes.flatMap((n) => n.outputs)]);
  const byValue = new Set<string>();
  for (const init of graph.tensors.values()) {
    const w = byName.get(init.name);
    if (!w) {
      // Integer initializers are graph constants (shapes, indices), not weights.
      if (!FLOATS.has(init.dtype)) continue;
      const key = `${init.dtype}[${init.shape.join()}]`;
      const transposed = `${init.dtype}[${[...init.shape].reverse().join()}]`;
      if (shapes.has(key) || (init.shape.length === 2 && shapes.has(transposed))) {
        byValue.add(key).add(transposed);
        matched++;
      } else missing.push(init.name);
      continue;
    }
    if (
      w.dtype !== init.dtype ||
      (w.shape.join() !== init.shape.join() && !headChange(init.shape, w.shape, 0))
    )
      differing.push(
        `${init.name}: graph ${init.dtype} [${init.shape.join(', ')}], weights ${w.dtype} [${w.shape.join(', ')}]`,
      );
    else matched++;
  }
  const unused = weights
    .filter((w) => !names.has(w.name) && !byValue.has(`${w.dtype}[${w.shape.join()}]`))
    .map((w) => w.name as string);
  return { missing, differing, unused, matched };
}

/** Bindings computed per graph and base (the weights of every task and method fill the same one). */
const bindings = new WeakMap<OnnxCheckpoint, WeakMap<object, Promise<GraphBinding>>>();

function bindingOf(graph: OnnxCheckpoint, base: readonly NamedWeight[], key: object): Promise<GraphBinding> {
  let perBase = bindings.get(graph);
  if (!perBase) bindings.set(graph, (perBase = new WeakMap()));
  let binding = perBase.get(key);
  if (!binding) {
    binding = bindGraph(graph, base);
    perBase.set(key, binding);
    binding.catch(() => perBase.delete(key));
  }
  return binding;
}

export interface FilledGraph {
  readonly replacements: Map<TensorName, OnnxReplacement>;
  readonly edits: OnnxGraphEdits;
  readonly refused: readonly RefusedInitializer[];
}

/**
 * The replacements and edits that fill `binding` from `weights` (by the bound weights' names): a
 * transposed binding gets the weight transposed; a split use its own added initializer; a weight whose
 * first dim differs from the graph's (a head of another class count) new dims, and every graph output
 * dim of the old size becomes symbolic (`<output>_dim<i>`) so the graph still runs.
 */
export async function fillGraph(
  graph: OnnxCheckpoint,
  binding: GraphBinding,
  weights: readonly NamedWeight[],
): Promise<FilledGraph> {
  const byName = new Map(weights.map((w) => [w.name as string, w] as const));
  const refused: RefusedInitializer[] = [];
  const bound = [...binding.bound];
  for (const r of binding.refused) {
    // Not in the base by name or value, but a weight of the task has its name: that weight fills it.
    const init = graph.tensors.get(tensorName(r.initializer));
    if (r.unbound && init && byName.has(r.initializer))
      bound.push({ initializer: init.name, weight: init.name, transposed: false, rule: 'name', uses: [] });
    else refused.push(r);
  }
  const replacements = new Map<TensorName, OnnxReplacement>();
  const dims = new Map<TensorName, readonly number[]>();
  const added: OnnxAddedInitializer[] = [];
  const nodeInputs = new Map<number, Map<number, string>>();
  const oldSizes = new Set<number>();
  for (const b of bound) {
    const init = graph.tensors.get(b.splitFrom ?? b.initializer);
    const w = byName.get(b.weight);
    if (!init) continue;
    if (!w) {
      refused.push({ initializer: b.initializer, reason: `the task has no weight '${b.weight}'` });
      continue;
    }
    const shape = b.transposed ? [...w.shape].reverse() : w.shape;
    const axis = b.transposed ? 1 : 0;
    const same = shape.length === init.shape.length && shape.every((d, i) => d === init.shape[i]);
    if (w.dtype !== init.dtype || (!same && !headChange(init.shape, shape, axis))) {
      refused.push({
        initializer: b.initializer,
        reason: `graph ${init.dtype} [${init.shape.join(', ')}], weight '${b.weight}'${b.transposed ? ' transposed' : ''} ${w.dtype} [${shape.join(', ')}]`,
      });
      continue;
    }
    if (!same) oldSizes.add(init.shape[axis] as number);
    const data: OnnxReplacement = b.transposed
      ? transposeBytes(
          await w.data.read(0, init.byteLength * (elementCountOf(shape) / elementCountOf(init.shape))),
          w.shape[0] as number,
          w.shape[1] as number,
          init.byteLength / Math.max(1, elementCountOf(init.shape)),
        )
      : w.data;
    if (b.splitFrom === undefined) {
      replacements.set(b.initializer, data);
      if (!same) dims.set(b.initializer, shape);
    } else {
      added.push({ name: b.initializer, like: b.splitFrom, dims: shape, data });
      for (const [node, input] of b.uses) {
        const inputs = nodeInputs.get(node) ?? new Map<number, string>();
        nodeInputs.set(node, inputs.set(input, b.initializer));
      }
    }
  }
  const outputDims = new Map<string, Map<number, string>>();
  for (const o of graph.outputs) {
    const params = new Map<number, string>();
    o.shape?.forEach((d, i) => {
      if (typeof d === 'number' && oldSizes.has(d)) params.set(i, `${o.name}_dim${i}`);
    });
    if (params.size) outputDims.set(o.name, params);
  }
  return { replacements, edits: { dims, added, nodeInputs, outputDims }, refused };
}

const elementCountOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The graph with its float initializers filled from `weights`, bound through `base` (graphBinding.ts:
 * by name, by value or transposed value, per use). Refuses (GraphMismatchError, naming each
 * initializer and why) a graph some of whose float initializers cannot be bound or filled, so a wrong
 * graph never runs silently with its own weights. `base` defaults to `weights` (a graph exported from
 * this very model); `baseKey` (the base checkpoint) lets the binding be reused across tasks.
 */
export async function taskOnnx(
  graph: OnnxCheckpoint,
  weights: readonly NamedWeight[],
  task: string,
  base?: Checkpoint,
): Promise<Uint8Array<ArrayBuffer>> {
  const baseWeights = base ? [...base.tensors.values()] : weights;
  const binding = await bindingOf(graph, baseWeights, base ?? weights);
  const file = graph.files[0] ?? 'graph';
  if (binding.bound.length === 0 && binding.refused.length === 0)
    throw new GraphMismatchError(file, task, [
      { initializer: '(none)', reason: 'the graph has no float initializer to fill' },
    ]);
  const filled = await fillGraph(graph, binding, weights);
  if (filled.refused.length) throw new GraphMismatchError(file, task, filled.refused);
  const sink = new MemorySink(`${task}.onnx`);
  await writeOnnx(graph, filled.replacements, sink, { edits: filled.edits });
  return sink.bytes();
}
