// The restricted unpickler's machine (unpickler.ts runs the opcodes over it): the input, read
// with every length checked against the bytes left before anything is taken, and the stack, marks
// and memo, each under its cap, with the container operations the opcodes share. Nothing here
// calls, imports or looks anything up.
import { FormatError } from '../errors';
import { typeName, type Fail } from './rebuild';
import { PyDict, PyGlobal, PyList, PyObject, type PyValue } from './values';

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

const decoder = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** The pickle's bytes from `pos` on: each read checks the bytes left first. */
export class PickleInput {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly partial: boolean,
    private readonly file: string,
    private readonly what: string,
    private readonly fail: Fail,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Takes `n` bytes, returning where they start. */
  need(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw this.fail(`a length of ${n} bytes`);
    if (this.pos + n > this.bytes.byteLength) {
      if (this.partial) throw new PickleNeedsMore();
      throw new FormatError(
        'truncated',
        this.file,
        `${this.what}: the pickle ends early (needs ${n} bytes at offset ${this.pos}, has ${this.bytes.byteLength - this.pos})`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  /** The byte just read (for a message). */
  previous(): number {
    return this.bytes[this.pos - 1] as number;
  }
  u8(): number {
    return this.bytes[this.need(1)] as number;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  /** BINFLOAT's big-endian double. */
  f64be(): number {
    return this.view.getFloat64(this.need(8), false);
  }
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`a length of ${v} bytes`);
    return Number(v);
  }
  take(n: number): Uint8Array {
    return this.bytes.subarray(this.need(n), this.pos);
  }
  /** A text line (protocol 0's arguments), without its newline. */
  line(): string {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0) return (this.need(this.bytes.byteLength - this.pos + 1), '');
    const text = latin1.decode(this.bytes.subarray(this.pos, nl));
    this.pos = nl + 1;
    return text;
  }
  utf8(n: number): string {
    try {
      return decoder.decode(this.take(n));
    } catch (e) {
      if (e instanceof FormatError || e instanceof PickleNeedsMore) throw e;
      throw this.fail('a string that is not valid UTF-8');
    }
  }
  /** Python 2's str: bytes as latin-1 text. */
  latin1(n: number): string {
    return latin1.decode(this.take(n));
  }
  /** LONG1/LONG4's little-endian two's complement: a number when safe, else a bigint. */
  long(n: number): number | bigint {
    if (n > PICKLE_LIMITS.longBytes) throw this.fail(`an integer of ${n} bytes`, 'unsupported');
    const b = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
    if (n > 0 && ((b[n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  /** INT/LONG's decimal text (a trailing L allowed). */
  textInt(text: string): number | bigint {
    const t = text.replace(/L$/, '');
    if (!/^[+-]?\d{1,64}$/.test(t)) throw this.fail(`an integer ${JSON.stringify(text.slice(0, 40))}`);
    const v = BigInt(t);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
}

/** The stack (the innermost MARK's items), the marks below it and the memo. */
export class PickleStack {
  private stack: PyValue[] = [];
  private readonly marks: PyValue[][] = [];
  readonly memo = new Map<number, PyValue>();
  constructor(
    private readonly fail: Fail,
    /** The offset just past the opcode being run (for messages). */
    private readonly offset: () => number,
  ) {}

  get marked(): boolean {
    return this.marks.length > 0;
  }
  get empty(): boolean {
    return this.stack.length === 0;
  }
  push(v: PyValue): void {
    if (this.stack.length >= PICKLE_LIMITS.stack)
      throw this.fail(`more than ${PICKLE_LIMITS.stack} items on the stack`);
    this.stack.push(v);
  }
  pop(): PyValue {
    if (this.stack.length === 0)
      throw this.fail(`an opcode at offset ${this.offset() - 1} pops an empty stack`);
    return this.stack.pop() as PyValue;
  }
  top(): PyValue {
    if (this.stack.length === 0)
      throw this.fail(`an opcode at offset ${this.offset() - 1} needs a value on the stack`);
    return this.stack[this.stack.length - 1] as PyValue;
  }
  mark(): void {
    if (this.marks.length >= PICKLE_LIMITS.marks)
      throw this.fail(`MARKs nested over ${PICKLE_LIMITS.marks} deep`);
    this.marks.push(this.stack);
    this.stack = [];
  }
  /** The items pushed since the last MARK, which is dropped. */
  popMark(): PyValue[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (outer === undefined)
      throw this.fail(`an opcode at offset ${this.offset() - 1} has no MARK before it`);
    this.stack = outer;
    return items;
  }
  memoPut(key: number): void {
    if (this.memo.size >= PICKLE_LIMITS.memo && !this.memo.has(key))
      throw this.fail(`more than ${PICKLE_LIMITS.memo} memo entries`);
    this.memo.set(key, this.top());
  }
  memoGet(key: number): void {
    if (!this.memo.has(key)) throw this.fail(`memo entry ${key} is read before it is written`);
    this.push(this.memo.get(key) as PyValue);
  }
  setItems(target: PyValue, items: PyValue[], op: string): void {
    if (items.length % 2 !== 0) throw this.fail(`${op} with an odd number of items`);
    const dict = this.dictOf(target);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i] as PyValue, items[i + 1] as PyValue);
  }
  private dictOf(target: PyValue): PyDict {
    if (target instanceof PyDict) return target;
    if (target instanceof PyObject) return (target.dictItems ??= new PyDict());
    throw this.fail(`SETITEM on a ${typeName(target)}`);
  }
  append(target: PyValue, items: PyValue[]): void {
    // item by item: a spread of a hostile 10^6-item APPENDS would overflow the JS stack
    if (target instanceof PyList) for (const v of items) target.items.push(v);
    else if (target instanceof PyObject) for (const v of items) (target.listItems ??= []).push(v);
    else throw this.fail(`APPEND on a ${typeName(target)}`);
  }
}

const PY2_MODULES: ReadonlyMap<string, string> = new Map([
  ['__builtin__', 'builtins'],
  ['copy_reg', 'copyreg'],
]);

/** A module-level name, checked and recorded (never imported). */
export function pickleGlobal(module: string, name: string, fail: Fail): PyGlobal {
  if (!/^[\w.]{1,256}$/.test(module) || !/^[\w.]{1,256}$/.test(name))
    throw fail(`a global named ${JSON.stringify(`${module}.${name}`.slice(0, 80))}`);
  // protocol 2 writes Python 2's module names (pickle's fix_imports maps them back)
  return new PyGlobal(PY2_MODULES.get(module) ?? module, name);
}
