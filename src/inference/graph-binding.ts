// Which weight of a checkpoint each float initializer of an ONNX graph stands for, as exporters
// really write graphs: torch.onnx.export (constant folding on, its default) turns a Linear applied
// to a 3-D input into a MatMul with the TRANSPOSED weight under a new name (onnx::MatMul_248), and
// deduplicates parameters with identical values into one initializer plus an Identity node per
// other parameter (Identity(bert.embeddings.LayerNorm.weight) → bert.encoder.layer.0.….weight).
// The binding is worked out once per graph against the BASE checkpoint (the graph's values are the
// base's) and then filled from any task's weights by name (task-onnx.ts). Rules, in order:
//   1. by name: an initializer named like a base weight is that weight (dtype and shape are checked
//      against the task's weight when filling); one the base lacks may still be filled by a task
//      weight of its name (a graph exported from the task itself, a task-only layer);
//   2. by value: otherwise the base weight with identical bytes, or — for a 2-D initializer — whose
//      transpose has identical bytes (bound transposed: the task's weight is transposed to fill it);
//      hashes first (of a 4 KiB prefix, then of the whole), bytes compared to confirm; only base
//      weights of the same dtype and byte length are read, and most of them only by their prefix;
//   3. per use: each node input that reads an initializer is a use. An Identity node whose output is
//      named like a base weight with the initializer's values binds that use to that weight; when
//      several base weights share the initializer's values (rule 2 is ambiguous), a use binds to the
//      one whose module path ends with the node's scope (`/bert/encoder/layer.0/output/LayerNorm/Mul`
//      → `…layer.0.output.LayerNorm.weight`); a use that stays ambiguous is refused;
//   4. uses bound to different weights get their own initializer (the weight named like the
//      initializer, else the first use's, keeps the original one; the others are added as
//      `<weight>:bound`, pointed at by their uses' node inputs), so tasks whose weights differ
//      where the base's were identical each get their own values;
//   5. an initializer with no weight by name or value (BatchNorm folded into a Conv, a fused QKV
//      weight, a folded slice of an embedding) is refused with its name and why.
import type { DType } from '../formats/dtype';
import type { OnnxCheckpoint } from '../formats/onnx';
import { tensorName, type TensorData, type TensorName } from '../formats/tensor';

/** A weight by name, from a checkpoint (TensorEntry) or a merged task model (OutputTensor). */
export interface NamedWeight {
  readonly name: TensorName;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export type BindingRule = 'name' | 'value' | 'transpose' | 'identity' | 'scope';

/** One initializer of the task's graph and the weight that fills it. */
export interface BoundInitializer {
  /** The graph's initializer, or one added for a split use. */
  readonly initializer: TensorName;
  /** For an added initializer: the graph's initializer it was split from (its dtype and uses). */
  readonly splitFrom?: TensorName;
  /** The base weight (by name: the task's weight of that name fills it). */
  readonly weight: TensorName;
  /** The initializer holds the weight transposed (2-D). */
  readonly transposed: boolean;
  readonly rule: BindingRule;
  /** Node inputs that read it, as [node index, input index] (added ones: the inputs pointed at it). */
  readonly uses: readonly (readonly [number, number])[];
}

export interface RefusedInitializer {
  readonly initializer: string;
  readonly reason: string;
  /** No base weight has its name or values: a task weight of its name may still fill it. */
  readonly unbound?: boolean;
}

export interface GraphBinding {
  readonly bound: readonly BoundInitializer[];
  readonly refused: readonly RefusedInitializer[];
  /** Base weights no initializer stands for (a sign of the wrong graph, harmless for inference). */
  readonly unused: readonly string[];
}

/** Bytes of a weight read first to rule it out by value: most weights differ in their first row. */
const PREFIX = 4096;

const FLOATS: ReadonlySet<DType> = new Set(['F32', 'F16', 'BF16', 'F64']);
const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const isTransposeShape = (init: readonly number[], w: readonly number[]) =>
  init.length === 2 && w.length === 2 && init[0] === w[1] && init[1] === w[0];

/** How many elements per dtype byte count: 2-D transposes work on elements of this size. */
function elementBytes(dtype: DType): number {
  return dtype === 'F64' ? 8 : dtype === 'F32' ? 4 : 2;
}

/** The [rows, cols] matrix of `bytes` transposed, element by element. */
export function transposeBytes(
  bytes: Uint8Array,
  rows: number,
  cols: number,
  elemBytes: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.byteLength);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const from = (r * cols + c) * elemBytes;
      out.set(bytes.subarray(from, from + elemBytes), (c * rows + r) * elemBytes);
    }
  return out;
}

/** Two 32-bit multiplicative hashes over the bytes: a key, confirmed by comparing bytes. */
export function hashBytes(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5 ^ bytes.byteLength;
  let h2 = 0x9747b28c;
  const words = Math.floor(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words; i++) {
    const w = view.getUint32(i * 4, true);
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul(h2 ^ w, 0x5bd1e995) ^ (h2 >>> 15);
  }
  for (let i = words * 4; i < bytes.byteLength; i++) h1 = Math.imul(h1 ^ (bytes[i] as number), 0x01000193);
  return `${bytes.byteLength}:${(h1 >>> 0).toString(16)}:${(h2 >>> 0).toString(16)}`;
}

const equalBytes = (a: Uint8Array, b: Uint8Array) =>
  a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);

const readAll = (t: NamedWeight | { readonly byteLength: number; readonly data: NamedWeight['data'] }) =>
  t.data.read(0, 'byteLength' in t ? t.byteLength : byteLengthOf(t));

function byteLengthOf(w: NamedWeight): number {
  return w.shape.reduce((a, b) => a * b, 1) * (w.dtype === 'F64' ? 8 : w.dtype === 'F32' ? 4 : 2);
}

/** The module path a node's name gives: `/bert/encoder/layer.0/output/LayerNorm/Mul` → `bert.encoder.layer.0.output.LayerNorm`. */
export function nodeScope(nodeName: string): string {
  const parts = nodeName.split('/').filter((p) => p !== '');
  return parts.slice(0, -1).join('.');
}

/** A weight whose module path (its name without the last part) ends with `scope`, on a part boundary. */
function inScope(weight: string, scope: string): boolean {
  if (scope === '') return false;
  const module = weight.slice(0, weight.lastIndexOf('.'));
  return module === scope || module.endsWith(`.${scope}`);
}

interface Candidate {
  readonly weight: NamedWeight;
  readonly transposed: boolean;
}

/**
 * Binds `graph`'s float initializers to `base`'s weights (see the rules above). Reads only the
 * initializers not bound by name (and those feeding Identity nodes), and only the base weights of
 * the same byte length as one of them.
 */
export async function bindGraph(graph: OnnxCheckpoint, base: readonly NamedWeight[]): Promise<GraphBinding> {
  const byName = new Map(base.map((w) => [w.name as string, w] as const));
  const uses = new Map<string, [number, number][]>();
  graph.nodes.forEach((n, i) =>
    n.inputs.forEach((input, j) => {
      if (graph.tensors.has(tensorName(input))) uses.set(input, [...(uses.get(input) ?? []), [i, j]]);
    }),
  );
  const inits = [...graph.tensors.values()].filter((t) => FLOATS.has(t.dtype));
  const refused: RefusedInitializer[] = [];
  const bound: BoundInitializer[] = [];
  const primary = new Map<string, Candidate[]>();
  const unnamed = [];
  for (const init of inits) {
    // Names are the exporter's word: the shapes are checked against the task's weight when filling.
    const w = byName.get(init.name);
    if (w) primary.set(init.name, [{ weight: w, transposed: false }]);
    else unnamed.push(init);
  }

  // Rule 2. Each unnamed initializer (and its transpose) is hashed twice: its first PREFIX bytes
  // and all of it; only the hashes are kept. A base weight of the same dtype and byte length is
  // read by its first PREFIX bytes; only one whose prefix hash matches is read whole, and bytes are
  // compared (the initializer read again) only when the whole hash matches too.
  if (unnamed.length) {
    type Unnamed = (typeof unnamed)[number];
    const layouts = async (init: Unnamed): Promise<[Uint8Array, boolean][]> => {
      const bytes = await init.data.read(0, init.byteLength);
      if (init.shape.length !== 2) return [[bytes, false]];
      const [r, c] = init.shape as [number, number];
      return [
        [bytes, false],
        [transposeBytes(bytes, r, c, elementBytes(init.dtype)), true],
      ];
    };
    const byPrefix = new Map<string, { init: Unnamed; transposed: boolean; whole: string }[]>();
    for (const init of unnamed)
      for (const [bytes, transposed] of await layouts(init)) {
        const key = `${init.dtype}|${hashBytes(bytes.subarray(0, PREFIX))}`;
        byPrefix.set(key, [...(byPrefix.get(key) ?? []), { init, transposed, whole: hashBytes(bytes) }]);
      }
    const sizes = new Set(unnamed.map((i) => `${i.dtype}|${i.byteLength}`));
    for (const w of base) {
      const length = byteLengthOf(w);
      if (!sizes.has(`${w.dtype}|${length}`)) continue;
      const prefix = await w.data.read(0, Math.min(PREFIX, length));
      const matches = (byPrefix.get(`${w.dtype}|${hashBytes(prefix)}`) ?? []).filter(
        ({ init, transposed }) =>
          transposed ? isTransposeShape(init.shape, w.shape) : sameShape(init.shape, w.shape),
      );
      if (!matches.length) continue;
      const bytes = length <= PREFIX ? prefix : await readAll(w);
      const whole = hashBytes(bytes);
      for (const { init, transposed } of matches.filter((m) => m.whole === whole)) {
        const mine = (await layouts(init)).find(([, t]) => t === transposed)?.[0];
        if (mine && equalBytes(mine, bytes))
          primary.set(init.name, [...(primary.get(init.name) ?? []), { weight: w, transposed }]);
      }
    }
    for (const init of unnamed)
      if (!primary.has(init.name))
        refused.push({
          initializer: init.name,
          unbound: true,
          reason: `no weight of the base has its name or its values${init.shape.length === 2 ? ' (nor their transpose)' : ''}`,
        });
  }

  // Rules 3 and 4: each use's weight, and a split where uses differ.
  const taken = new Set<string>([...graph.tensors.keys(), ...graph.nodes.flatMap((n) => n.outputs)]);
  for (const init of inits) {
    const candidates = primary.get(init.name);
    if (!candidates) continue;
    const groups = new Map<string, { c: Candidate; rule: BindingRule; uses: [number, number][] }>();
    let problem: string | undefined;
    let initBytes: Uint8Array | undefined; // read only for an Identity use
    for (const use of uses.get(init.name) ?? [[-1, -1]]) {
      const node = graph.nodes[use[0]];
      let pick: { c: Candidate; rule: BindingRule } | undefined;
      const out = node?.opType === 'Identity' ? byName.get(node.outputs[0] ?? '') : undefined;
      if (out && out.dtype === init.dtype && sameShape(out.shape, init.shape) && candidates.length === 1) {
        const own = candidates[0] as Candidate;
        if (
          out !== own.weight &&
          !own.transposed &&
          equalBytes(await readAll(out), (initBytes ??= await init.data.read(0, init.byteLength)))
        )
          pick = { c: { weight: out, transposed: false }, rule: 'identity' };
      }
      if (!pick && candidates.length === 1) {
        const c = candidates[0] as Candidate;
        pick = { c, rule: c.weight.name === init.name ? 'name' : c.transposed ? 'transpose' : 'value' };
      }
      if (!pick) {
        const named = out ? candidates.filter((c) => c.weight === out) : [];
        const scoped = named.length
          ? named
          : candidates.filter((c) => inScope(c.weight.name, nodeScope(node?.name ?? '')));
        if (scoped.length === 1)
          pick = { c: scoped[0] as Candidate, rule: named.length ? 'identity' : 'scope' };
        else {
          problem = `${candidates.length} weights of the base have its values (${candidates
            .slice(0, 4)
            .map((c) => c.weight.name)
            .join(
              ', ',
            )}${candidates.length > 4 ? ', …' : ''}) and ${node ? `node '${node.name || node.opType}'` : 'no node that reads it'} does not say which`;
          break;
        }
      }
      const key = `${pick.c.weight.name}|${pick.c.transposed}`;
      const group = groups.get(key) ?? { ...pick, uses: [] };
      if (use[0] >= 0) group.uses.push(use);
      groups.set(key, group);
    }
    if (problem !== undefined) {
      refused.push({ initializer: init.name, reason: problem });
      continue;
    }
    // The weight named like the initializer keeps it; otherwise the first use's weight does.
    const ordered = [...groups.values()].sort(
      (a, b) => Number(b.c.weight.name === init.name) - Number(a.c.weight.name === init.name),
    );
    ordered.forEach((g, i) => {
      let name = init.name;
      if (i > 0) {
        name = tensorName(`${g.c.weight.name}:bound`);
        for (let k = 2; taken.has(name); k++) name = tensorName(`${g.c.weight.name}:bound${k}`);
        taken.add(name);
      }
      bound.push({
        initializer: name,
        ...(i > 0 ? { splitFrom: init.name } : {}),
        weight: g.c.weight.name,
        transposed: g.c.transposed,
        rule: g.rule,
        uses: g.uses,
      });
    });
  }
  const used = new Set<string>(bound.map((b) => b.weight));
  const unused = base
    .filter((w) => !used.has(w.name) && !graph.tensors.has(w.name))
    .map((w) => w.name as string);
  return { bound, refused, unused };
}
