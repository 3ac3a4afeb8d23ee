// The values the restricted unpickler builds: Python's containers as classes (their identity
// matters: the memo shares them, tied weights share a storage), a tensor as a view of a storage,
// and placeholders for every object whose class this reader does not rebuild.
import type { DType } from '../dtype';

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyList
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | PyObject
  | PyStorage
  | PyTensor;

export class PyList {
  constructor(readonly items: PyValue[]) {}
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PySet {
  constructor(readonly items: PyValue[]) {}
}

/** A dict (or OrderedDict) in insertion order; keys are compared as JS values (strings, numbers). */
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
  /** State set by BUILD (an OrderedDict's `_metadata`): kept, not read. */
  attributes: PyValue = null;
  set(key: PyValue, value: PyValue): void {
    this.map.set(key, value);
  }
  get(key: string): PyValue | undefined {
    return this.map.get(key);
  }
}

/** A module-level name (a class, a function, a dtype): recorded, never imported. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object of a class this reader does not rebuild: inert, walked only for tensors. */
export class PyObject {
  /** BUILD's state (usually the instance `__dict__`). */
  state: PyValue = null;
  /** Items set on it as on a dict (a dict subclass). */
  dictItems: PyDict | undefined;
  /** Items appended to it as to a list (a list subclass). */
  listItems: PyValue[] | undefined;
  constructor(
    /** The class (NEWOBJ) or the callable (REDUCE) that would have made it. */
    readonly cls: PyGlobal,
    /** The arguments it would have been given. */
    readonly args: PyValue,
  ) {}
}

/** A storage from a persistent id: which bytes (`key`), in which element type, how many. */
export class PyStorage {
  constructor(
    /** The storage class, e.g. "torch.FloatStorage". */
    readonly typeName: string,
    /** Our dtype, or undefined for a storage type we cannot read (complex, quantized). */
    readonly dtype: DType | undefined,
    /** Bytes per element (known for the unreadable types too: the legacy format walks them). */
    readonly elementBytes: number,
    readonly key: string,
    /** Elements of `dtype` the storage declares. */
    readonly numel: number,
  ) {}
}

/** A tensor: a strided view of a storage (elements, not bytes). */
export class PyTensor {
  attributes: PyValue = null;
  constructor(
    readonly storage: PyStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}
