// Finds the named tensors in an unpickled object the way torch's state_dict() names them: a flat
// dict of tensors as it is; a Lightning-style dict through its "state_dict" (or "model"/"module")
// key; a whole pickled nn.Module through its `_parameters`, `_buffers` and `_modules`, with dotted
// names. Nested dicts are flattened with dots. Other values (epochs, hyperparameters) are skipped.
import { FormatError } from '../errors';
import { typeName } from './rebuild';
import { PyDict, PyList, PyObject, PySet, PyTensor, PyTuple, type PyValue } from './values';

/** Deeper than any real module tree; a deeper one is refused rather than risk the JS stack. */
export const MAX_WALK_DEPTH = 200;
/** Objects visited: a pickle whose memo shares each level twice would otherwise take 2^depth. */
export const MAX_WALK_VISITS = 1_000_000;

/** Keys of a checkpoint dict that hold the model (Lightning, common training scripts). */
const MODEL_KEYS = ['state_dict', 'model', 'module', 'model_state_dict'];

export interface NamedTensor {
  readonly name: string;
  readonly tensor: PyTensor;
}

export function collectTensors(root: PyValue, file: string, what: string): NamedTensor[] {
  const out: NamedTensor[] = [];
  const names = new Set<string>();
  const onPath = new Set<object>();
  let visits = 0;
  const fail = (problem: string, code: 'header-json' | 'unsupported' | 'duplicate-name' = 'header-json') =>
    new FormatError(code, file, `${what}: ${problem}`);

  const add = (name: string, tensor: PyTensor): void => {
    if (names.has(name)) throw fail(`tensor ${JSON.stringify(name)} appears twice`, 'duplicate-name');
    names.add(name);
    out.push({ name, tensor });
  };

  const enter = (v: object, path: string, depth: number): void => {
    if (depth > MAX_WALK_DEPTH)
      throw fail(`objects nested over ${MAX_WALK_DEPTH} deep at ${JSON.stringify(path)}`, 'unsupported');
    if (++visits > MAX_WALK_VISITS)
      throw fail(`more than ${MAX_WALK_VISITS} objects to walk for tensors`, 'unsupported');
    if (onPath.has(v)) throw fail(`the objects form a cycle at ${JSON.stringify(path)}`);
    onPath.add(v);
  };

  /** A value at `name` (the prefix of anything inside it). */
  const visit = (v: PyValue, name: string, depth: number): void => {
    if (v instanceof PyTensor) return add(name, v);
    if (v instanceof PyDict) return visitDict(v, name, depth);
    if (v instanceof PyObject) return visitObject(v, name, depth);
    // lists, tuples, numbers, strings: not part of a state dict
  };

  const visitDict = (d: PyDict, prefix: string, depth: number): void => {
    enter(d, prefix, depth);
    for (const [k, v] of d.map) {
      if (typeof k !== 'string' && typeof k !== 'number') continue;
      visit(v, join(prefix, String(k)), depth + 1);
    }
    onPath.delete(d);
  };

  const visitObject = (o: PyObject, prefix: string, depth: number): void => {
    enter(o, prefix, depth);
    const rebuilder = o.cls.qualified;
    if (/^torch\._utils\._rebuild_/.test(rebuilder) || /^torch\._tensor\._rebuild_/.test(rebuilder))
      throw fail(
        `tensor ${JSON.stringify(prefix)} is built by ${rebuilder}, which this reader does not rebuild (quantized, sparse or meta tensors are not supported)`,
        'unsupported',
      );
    const state = objectState(o);
    if (state?.get('_parameters') instanceof PyDict || state?.get('_modules') instanceof PyDict) {
      visitModule(state, prefix, depth);
    } else {
      if (state) visitDict(state, prefix, depth + 1);
      if (o.dictItems) visitDict(o.dictItems, prefix, depth + 1);
    }
    onPath.delete(o);
  };

  /** torch's Module.state_dict(): parameters, persistent buffers, then each child module. */
  const visitModule = (state: PyDict, prefix: string, depth: number): void => {
    const params = state.get('_parameters');
    const buffers = state.get('_buffers');
    const modules = state.get('_modules');
    const nonPersistent = state.get('_non_persistent_buffers_set');
    const skip = new Set(
      nonPersistent instanceof PySet || nonPersistent instanceof PyList || nonPersistent instanceof PyTuple
        ? nonPersistent.items.filter((s) => typeof s === 'string')
        : [],
    );
    for (const [group, dict] of [
      ['_parameters', params],
      ['_buffers', buffers],
    ] as const) {
      if (!(dict instanceof PyDict)) continue;
      for (const [k, v] of dict.map) {
        if (typeof k !== 'string' || v === null || (group === '_buffers' && skip.has(k))) continue;
        if (!(v instanceof PyTensor)) visit(v, join(prefix, k), depth + 1);
        else add(join(prefix, k), v);
      }
    }
    if (modules instanceof PyDict) {
      enter(modules, prefix, depth + 1);
      for (const [k, v] of modules.map) {
        if (typeof k !== 'string' || v === null) continue;
        visit(v, join(prefix, k), depth + 2);
      }
      onPath.delete(modules);
    }
  };

  visit(followModelKey(root), '', 0);
  if (out.length === 0) {
    const top =
      root instanceof PyObject
        ? `an object made by ${root.cls.qualified} (kept inert, never called)`
        : `a ${typeName(root)} without tensors`;
    throw fail(`the pickle holds no tensors: its top object is ${top}`, 'unsupported');
  }
  return out;
}

/** A checkpoint dict that wraps the model under a known key gives that value. */
function followModelKey(root: PyValue): PyValue {
  if (!(root instanceof PyDict)) return root;
  for (const key of MODEL_KEYS) {
    const v = root.get(key);
    if (v instanceof PyDict || v instanceof PyObject) return v;
  }
  return root;
}

/** An object's `__dict__`: BUILD's state, or its dict part when the state is (dict, slots). */
function objectState(o: PyObject): PyDict | undefined {
  const s = o.state;
  if (s instanceof PyDict) return s;
  if (s instanceof PyTuple && s.items[0] instanceof PyDict) return s.items[0];
  return undefined;
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}
