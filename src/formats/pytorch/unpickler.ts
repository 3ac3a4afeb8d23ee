// A restricted unpickler: it decodes the opcodes torch's pickles use into plain values and never
// calls or imports anything. Tensors, storages (through the persistent id), OrderedDicts, sets and
// primitives are rebuilt; every other global is an inert placeholder that records its name and the
// arguments and state it was given, so that a whole-module pickle can still be walked for tensors.
// Every length is checked against the bytes left and every structure against a cap
// (pickle-state.ts), so a hostile pickle ends in a FormatError, never a hang, a huge allocation or
// a call.
import { FormatError } from '../errors';
import { PickleInput, PickleStack, pickleGlobal } from './pickle-state';
import { build, newObject, reduce, typeName } from './rebuild';
import { PyDict, PyList, PySet, PyTuple, type PyValue } from './values';

export { PICKLE_LIMITS, PickleNeedsMore } from './pickle-state';

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

/** Unpickles from `start`; returns the value and the offset just after STOP. */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  options: UnpickleOptions,
): { value: PyValue; end: number } {
  const { file, what } = options;
  const fail = (problem: string, code: 'unsupported' | 'header-json' = 'header-json'): FormatError =>
    new FormatError(code, file, `${what}: ${problem}`);
  const input = new PickleInput(bytes, start, options.partial === true, file, what, fail);
  const st = new PickleStack(fail, () => input.pos);

  for (;;) {
    const at = input.pos;
    const op = input.u8();
    switch (op) {
      case 0x80: // PROTO
        if (input.u8() > 5)
          throw fail(`pickle protocol ${input.previous()} (this reader knows 0 to 5)`, 'unsupported');
        break;
      case 0x95: // FRAME: a length hint only
        input.u64();
        break;
      case 0x2e: // STOP
        if (st.marked) throw fail('STOP inside a MARK');
        return { value: st.pop(), end: input.pos };
      case 0x28: // MARK
        st.mark();
        break;
      case 0x30: // POP
        if (st.empty && st.marked) st.popMark();
        else st.pop();
        break;
      case 0x31: // POP_MARK
        st.popMark();
        break;
      case 0x32: // DUP
        st.push(st.top());
        break;
      case 0x4e: // NONE
        st.push(null);
        break;
      case 0x88: // NEWTRUE
        st.push(true);
        break;
      case 0x89: // NEWFALSE
        st.push(false);
        break;
      case 0x4b: // BININT1
        st.push(input.u8());
        break;
      case 0x4d: // BININT2
        st.push(input.u16());
        break;
      case 0x4a: // BININT
        st.push(input.i32());
        break;
      case 0x8a: // LONG1
        st.push(input.long(input.u8()));
        break;
      case 0x8b: // LONG4
        st.push(input.long(input.u32()));
        break;
      case 0x49: {
        // INT (text); protocol 0 writes False and True as 00 and 01
        const text = input.line();
        st.push(text === '00' ? false : text === '01' ? true : input.textInt(text));
        break;
      }
      case 0x4c: // LONG (text)
        st.push(input.textInt(input.line()));
        break;
      case 0x47: // BINFLOAT: big-endian
        st.push(input.f64be());
        break;
      case 0x46: {
        // FLOAT (text)
        const v = Number(input.line());
        if (Number.isNaN(v)) throw fail('a FLOAT that is not a number');
        st.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        st.push(input.utf8(input.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        st.push(input.utf8(input.u8()));
        break;
      case 0x8d: // BINUNICODE8
        st.push(input.utf8(input.u64()));
        break;
      case 0x54: // BINSTRING (python 2 str)
        st.push(input.latin1(input.i32()));
        break;
      case 0x55: // SHORT_BINSTRING
        st.push(input.latin1(input.u8()));
        break;
      case 0x42: // BINBYTES
        st.push(input.take(input.u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        st.push(input.take(input.u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        st.push(input.take(input.u64()).slice());
        break;
      case 0x98: // READONLY_BUFFER
        break;
      case 0x7d: // EMPTY_DICT
        st.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        st.push(new PyList([]));
        break;
      case 0x29: // EMPTY_TUPLE
        st.push(new PyTuple([]));
        break;
      case 0x8f: // EMPTY_SET
        st.push(new PySet([]));
        break;
      case 0x85: // TUPLE1
        st.push(new PyTuple([st.pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = st.pop();
        st.push(new PyTuple([st.pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = st.pop();
        const b = st.pop();
        st.push(new PyTuple([st.pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        st.push(new PyTuple(st.popMark()));
        break;
      case 0x6c: // LIST
        st.push(new PyList(st.popMark()));
        break;
      case 0x64: {
        // DICT
        const items = st.popMark();
        const dict = new PyDict();
        st.push(dict);
        st.setItems(dict, items, 'DICT');
        break;
      }
      case 0x91: // FROZENSET
        st.push(new PySet(st.popMark()));
        break;
      case 0x90: {
        // ADDITEMS
        const items = st.popMark();
        const set = st.top();
        if (!(set instanceof PySet)) throw fail(`ADDITEMS on a ${typeName(set)}`);
        for (const v of items) set.items.push(v);
        break;
      }
      case 0x61: {
        // APPEND
        const v = st.pop();
        st.append(st.top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = st.popMark();
        st.append(st.top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = st.pop();
        const k = st.pop();
        st.setItems(st.top(), [k, v], 'SETITEM');
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = st.popMark();
        st.setItems(st.top(), items, 'SETITEMS');
        break;
      }
      case 0x71: // BINPUT
        st.memoPut(input.u8());
        break;
      case 0x72: // LONG_BINPUT
        st.memoPut(input.u32());
        break;
      case 0x94: // MEMOIZE
        st.memoPut(st.memo.size);
        break;
      case 0x70: // PUT (text)
        st.memoPut(Number(input.textInt(input.line())));
        break;
      case 0x68: // BINGET
        st.memoGet(input.u8());
        break;
      case 0x6a: // LONG_BINGET
        st.memoGet(input.u32());
        break;
      case 0x67: // GET (text)
        st.memoGet(Number(input.textInt(input.line())));
        break;
      case 0x63: {
        // GLOBAL
        const module = input.line();
        st.push(pickleGlobal(module, input.line(), fail));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = st.pop();
        const module = st.pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw fail('STACK_GLOBAL with a name that is not a string');
        st.push(pickleGlobal(module, name, fail));
        break;
      }
      case 0x51: // BINPERSID
        st.push(options.persistentLoad(st.pop()));
        break;
      case 0x50: // PERSID (text)
        st.push(options.persistentLoad(input.line()));
        break;
      case 0x52: {
        // REDUCE
        const args = st.pop();
        const callable = st.pop();
        st.push(reduce(callable, args, fail));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = st.pop();
        const cls = st.pop();
        st.push(newObject(cls, args, fail));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        st.pop(); // kwargs: recorded nowhere, nothing is constructed
        const args = st.pop();
        const cls = st.pop();
        st.push(newObject(cls, args, fail));
        break;
      }
      case 0x69: {
        // INST (protocol 0): a placeholder of the named class
        const module = input.line();
        const cls = pickleGlobal(module, input.line(), fail);
        st.push(newObject(cls, new PyTuple(st.popMark()), fail));
        break;
      }
      case 0x6f: {
        // OBJ (protocol 1)
        const [cls, ...args] = st.popMark();
        st.push(newObject(cls ?? null, new PyTuple(args), fail));
        break;
      }
      case 0x62: {
        // BUILD
        const state = st.pop();
        build(st.top(), state);
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
