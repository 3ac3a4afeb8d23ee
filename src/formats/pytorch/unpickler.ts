// A restricted unpickler: it decodes the opcodes torch's pickles use into plain values and never
// calls or imports anything. Tensors, storages (through the persistent id), OrderedDicts, sets and
// primitives are rebuilt; every other global is an inert placeholder that records its name and the
// arguments and state it was given, so that a whole-module pickle can still be walked for tensors.
// Every length is checked against the bytes left and every structure against a cap, so a hostile
// pickle ends in a FormatError, never a hang, a huge allocation or a call.
import { FormatError } from '../errors';
import { build, newObject, reduce, typeName } from './rebuild';
import { PyDict, PyGlobal, PyList, PyObject, PySet, PyTuple, type PyValue } from './values';

/** Caps against hostile pickles (far above what torch writes). */
export const PICKLE_LIMITS = {
  /** Items on the stack, marks included. */
  stack: 1 << 22,
  /** Nested MARKs (a list inside a tuple inside …). */
  marks: 10_000,
  /** Memo entries. */
  memo: 1 << 22,
  /** Bytes of one LONG1/LONG4 integer. */
  longBytes: 64,
} as const;

/** The pickle ran past the bytes it was given (the caller may retry with more). */
export class PickleNeedsMore extends Error {
  override readonly name = 'PickleNeedsMore';
}

export interface UnpickleOptions {
  /** The file, for messages. */
  readonly file: string;
  /** What the pickle is (e.g. "data.pkl"), for messages. */
  readonly what: string;
  /** Turns a persistent id (BINPERSID) into a value: a storage for torch's pickles. */
  persistentLoad(pid: PyValue): PyValue;
  /**
   * True when `bytes` may be a prefix of a longer pickle: running off its end throws
   * PickleNeedsMore instead of a 'truncated' FormatError.
   */
  readonly partial?: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Unpickles from `start`; returns the value and the offset just after STOP. */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  options: UnpickleOptions,
): { value: PyValue; end: number } {
  const { file, what } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (problem: string, code: 'unsupported' | 'header-json' = 'header-json'): FormatError =>
    new FormatError(code, file, `${what}: ${problem}`);
  let pos = start;
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  const need = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0) throw fail(`a length of ${n} bytes`);
    if (pos + n > bytes.byteLength) {
      if (options.partial) throw new PickleNeedsMore();
      throw new FormatError(
        'truncated',
        file,
        `${what}: the pickle ends early (needs ${n} bytes at offset ${pos}, has ${bytes.byteLength - pos})`,
      );
    }
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1)] as number;
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`a length of ${v} bytes`);
    return Number(v);
  };
  const take = (n: number) => bytes.subarray(need(n), pos);
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) return (need(bytes.byteLength - pos + 1), '');
    const text = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return text;
  };
  const utf8 = (n: number): string => {
    try {
      return decoder.decode(take(n));
    } catch (e) {
      if (e instanceof FormatError || e instanceof PickleNeedsMore) throw e;
      throw fail('a string that is not valid UTF-8');
    }
  };
  const push = (v: PyValue): void => {
    if (stack.length >= PICKLE_LIMITS.stack)
      throw fail(`more than ${PICKLE_LIMITS.stack} items on the stack`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw fail(`an opcode at offset ${pos - 1} pops an empty stack`);
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw fail(`an opcode at offset ${pos - 1} needs a value on the stack`);
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const outer = marks.pop();
    if (outer === undefined) throw fail(`an opcode at offset ${pos - 1} has no MARK before it`);
    stack = outer;
    return items;
  };
  const memoPut = (key: number): void => {
    if (memo.size >= PICKLE_LIMITS.memo && !memo.has(key))
      throw fail(`more than ${PICKLE_LIMITS.memo} memo entries`);
    memo.set(key, top());
  };
  const memoGet = (key: number): void => {
    if (!memo.has(key)) throw fail(`memo entry ${key} is read before it is written`);
    push(memo.get(key) as PyValue);
  };
  const long = (n: number): number | bigint => {
    if (n > PICKLE_LIMITS.longBytes) throw fail(`an integer of ${n} bytes`, 'unsupported');
    const b = take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
    if (n > 0 && ((b[n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const textInt = (text: string): number | bigint => {
    const t = text.replace(/L$/, '');
    if (!/^[+-]?\d{1,64}$/.test(t)) throw fail(`an integer ${JSON.stringify(text.slice(0, 40))}`);
    const v = BigInt(t);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (target: PyValue, items: PyValue[], op: string): void => {
    if (items.length % 2 !== 0) throw fail(`${op} with an odd number of items`);
    const dict = dictOf(target);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i] as PyValue, items[i + 1] as PyValue);
  };
  const dictOf = (target: PyValue): PyDict => {
    if (target instanceof PyDict) return target;
    if (target instanceof PyObject) return (target.dictItems ??= new PyDict());
    throw fail(`SETITEM on a ${typeName(target)}`);
  };
  const append = (target: PyValue, items: PyValue[]): void => {
    // item by item: a spread of a hostile 10^6-item APPENDS would overflow the JS stack
    if (target instanceof PyList) for (const v of items) target.items.push(v);
    else if (target instanceof PyObject) for (const v of items) (target.listItems ??= []).push(v);
    else throw fail(`APPEND on a ${typeName(target)}`);
  };
  const global = (module: string, name: string): PyGlobal => {
    if (!/^[\w.]{1,256}$/.test(module) || !/^[\w.]{1,256}$/.test(name))
      throw fail(`a global named ${JSON.stringify(`${module}.${name}`.slice(0, 80))}`);
    // protocol 2 writes Python 2's module names (pickle's fix_imports maps them back)
    return new PyGlobal(PY2_MODULES.get(module) ?? module, name);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5)
          throw fail(`pickle protocol ${bytes[pos - 1]} (this reader knows 0 to 5)`, 'unsupported');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (marks.length !== 0) throw fail('STOP inside a MARK');
        return { value: pop(), end: pos };
      case 0x28: // MARK
        if (marks.length >= PICKLE_LIMITS.marks) throw fail(`MARKs nested over ${PICKLE_LIMITS.marks} deep`);
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0 && marks.length > 0) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x4a: // BININT
        push(view.getInt32(need(4), true));
        break;
      case 0x8a: // LONG1
        push(long(u8()));
        break;
      case 0x8b: // LONG4
        push(long(u32()));
        break;
      case 0x49: {
        // INT (text); protocol 0 writes False and True as 00 and 01
        const text = line();
        push(text === '00' ? false : text === '01' ? true : textInt(text));
        break;
      }
      case 0x4c: // LONG (text)
        push(textInt(line()));
        break;
      case 0x47: // BINFLOAT: big-endian
        push(view.getFloat64(need(8), false));
        break;
      case 0x46: {
        // FLOAT (text)
        const v = Number(line());
        if (Number.isNaN(v)) throw fail('a FLOAT that is not a number');
        push(v);
        break;
      }
      case 0x58: // BINUNICODE
        push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(u64()));
        break;
      case 0x54: // BINSTRING (python 2 str)
        push(latin1.decode(take(view.getInt32(need(4), true))));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(take(u64()).slice());
        break;
      case 0x98: // READONLY_BUFFER
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        push(new PyList([]));
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x8f: // EMPTY_SET
        push(new PySet([]));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x6c: // LIST
        push(new PyList(popMark()));
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const dict = new PyDict();
        push(dict);
        setItems(dict, items, 'DICT');
        break;
      }
      case 0x91: // FROZENSET
        push(new PySet(popMark()));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof PySet)) throw fail(`ADDITEMS on a ${typeName(set)}`);
        for (const v of items) set.items.push(v);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v], 'SETITEM');
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items, 'SETITEMS');
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x70: // PUT (text)
        memoPut(Number(textInt(line())));
        break;
      case 0x68: // BINGET
        memoGet(u8());
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32());
        break;
      case 0x67: // GET (text)
        memoGet(Number(textInt(line())));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw fail('STACK_GLOBAL with a name that is not a string');
        push(global(module, name));
        break;
      }
      case 0x51: // BINPERSID
        push(options.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (text)
        push(options.persistentLoad(line()));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        push(reduce(callable, args, fail));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        push(newObject(cls, args, fail));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop(); // kwargs: recorded nowhere, nothing is constructed
        const args = pop();
        const cls = pop();
        push(newObject(cls, args, fail));
        break;
      }
      case 0x69: {
        // INST (protocol 0): a placeholder of the named class
        const module = line();
        const cls = global(module, line());
        push(newObject(cls, new PyTuple(popMark()), fail));
        break;
      }
      case 0x6f: {
        // OBJ (protocol 1)
        const [cls, ...args] = popMark();
        push(newObject(cls ?? null, new PyTuple(args), fail));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      default:
        throw fail(
          `unknown or unsupported opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at}`,
          'unsupported',
        );
    }
  }
}

const PY2_MODULES: ReadonlyMap<string, string> = new Map([
  ['__builtin__', 'builtins'],
  ['copy_reg', 'copyreg'],
]);
