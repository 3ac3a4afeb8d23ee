// What the unpickler makes of REDUCE, NEWOBJ and BUILD: the few callables torch's pickles need
// are rebuilt from their arguments (tensors, OrderedDicts, sets); any other callable or class
// gives an inert placeholder. Nothing here calls, imports or looks anything up.
import type { FormatError } from '../errors';
import {
  PyDict,
  PyGlobal,
  PyList,
  PyObject,
  PySet,
  PyStorage,
  PyTensor,
  PyTuple,
  type PyValue,
} from './values';

export type Fail = (problem: string, code?: 'unsupported' | 'header-json') => FormatError;

export function typeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'object') return v.constructor.name.replace(/^Py/, '').toLowerCase();
  return typeof v;
}

const TENSOR_REBUILDERS = new Set([
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
]);

/** What REDUCE gives: the few rebuilders we know, else a placeholder of the call. */
export function reduce(callable: PyValue, args: PyValue, fail: Fail): PyValue {
  if (!(callable instanceof PyGlobal)) {
    // e.g. a placeholder called again: still nothing runs
    return new PyObject(new PyGlobal('<unknown>', typeName(callable)), args);
  }
  const a = args instanceof PyTuple ? args.items : undefined;
  const name = callable.qualified;
  if (a === undefined) throw fail(`REDUCE of ${name} with arguments that are not a tuple`);
  if (TENSOR_REBUILDERS.has(name)) return rebuildTensor(name, a, fail);
  switch (name) {
    case 'collections.OrderedDict':
    case 'builtins.dict':
      return dictFrom(a[0], name, fail);
    case 'builtins.set':
    case 'builtins.frozenset':
      return new PySet(a[0] instanceof PyList || a[0] instanceof PyTuple ? [...a[0].items] : []);
    case 'builtins.list':
      return new PyList(a[0] instanceof PyList || a[0] instanceof PyTuple ? [...a[0].items] : []);
    case 'builtins.tuple':
      return new PyTuple(a[0] instanceof PyList || a[0] instanceof PyTuple ? [...a[0].items] : []);
    case '_codecs.encode':
      // protocol 2 pickles bytes as _codecs.encode(text, 'latin1')
      if (typeof a[0] === 'string' && (a[1] === 'latin1' || a[1] === 'latin-1'))
        return Uint8Array.from(a[0], (c) => c.charCodeAt(0) & 0xff);
      break;
    case 'torch.nn.parameter.Parameter':
    case 'torch.autograd.variable.Variable':
      // torch < 0.4 pickled a Parameter (a Variable) as a call on its data: the data is the tensor
      if (a[0] instanceof PyTensor) return a[0];
      break;
    case 'copyreg._reconstructor':
      if (a[0] instanceof PyGlobal) return new PyObject(a[0], new PyTuple(a.slice(1)));
      break;
  }
  return new PyObject(callable, args);
}

export function newObject(cls: PyValue, args: PyValue, fail: Fail): PyValue {
  if (!(cls instanceof PyGlobal)) throw fail(`NEWOBJ of a ${typeName(cls)}, not a class`);
  if (cls.qualified === 'collections.OrderedDict' || cls.qualified === 'builtins.dict') return new PyDict();
  if (cls.qualified === 'builtins.set') return new PySet([]);
  return new PyObject(cls, args);
}

function dictFrom(items: PyValue | undefined, name: string, fail: Fail): PyDict {
  const dict = new PyDict();
  if (items === undefined || items === null) return dict;
  if (items instanceof PyDict) {
    for (const [k, v] of items.map) dict.set(k, v);
    return dict;
  }
  if (!(items instanceof PyList || items instanceof PyTuple)) throw fail(`${name} of a ${typeName(items)}`);
  for (const pair of items.items) {
    if (!((pair instanceof PyList || pair instanceof PyTuple) && pair.items.length === 2))
      throw fail(`${name} of an item that is not a pair`);
    dict.set(pair.items[0] as PyValue, pair.items[1] as PyValue);
  }
  return dict;
}

export function build(target: PyValue, state: PyValue): void {
  if (target instanceof PyObject) target.state = state;
  else if (target instanceof PyDict || target instanceof PyTensor) target.attributes = state;
  // BUILD on anything else (a global, a primitive) changes nothing we read.
}

const isInt = (v: PyValue): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function intTuple(v: PyValue | undefined, what: string, fail: Fail): number[] {
  if (!(v instanceof PyTuple || v instanceof PyList)) throw fail(`a tensor's ${what} is not a tuple`);
  return v.items.map((d) => {
    if (!isInt(d) || d < 0) throw fail(`a tensor's ${what} holds ${String(d)}, not a size`);
    return d;
  });
}

function rebuildTensor(name: string, a: readonly PyValue[], fail: Fail): PyValue {
  if (name === 'torch._tensor._rebuild_from_type_v2') {
    // (func, new_type, args, state): the subclass is dropped, the tensor kept
    const [func, , args] = a;
    return reduce(func ?? null, args ?? null, fail);
  }
  if (name === 'torch._utils._rebuild_parameter' || name === 'torch._utils._rebuild_parameter_with_state') {
    const data = a[0];
    if (!(data instanceof PyTensor)) throw fail(`${name} of a ${typeName(data ?? null)}, not a tensor`);
    return data;
  }
  const [storage, offset, size, stride] = a;
  if (!(storage instanceof PyStorage)) throw fail(`${name} of a ${typeName(storage ?? null)}, not a storage`);
  if (!isInt(offset ?? null) || (offset as number) < 0)
    throw fail(`a tensor's storage offset is ${String(offset)}`);
  const shape = intTuple(size, 'size', fail);
  const strides = intTuple(stride, 'stride', fail);
  if (strides.length !== shape.length)
    throw fail(`a tensor has ${shape.length} sizes but ${strides.length} strides`);
  return new PyTensor(storage, offset as number, shape, strides);
}
