// peft's rank_pattern / alpha_pattern keys, matched without a backtracking regex engine.
//
// peft (utils/other.py get_pattern_key, used by tuners/lora/model.py _create_and_replace) gives a
// module the value of the first key for which `re.match(rf"(.*\.)?({key})$", module)` succeeds:
// the key, as a Python regular expression, matches the whole module name or the part after one of
// its dots. Keys come from the adapter's JSON, so `new RegExp(key)` would hand an attacker
// V8's backtracking engine: `([a-z_.0-9]|[a-z_.0-9])*Q` takes exponential time on a module name
// and pins the thread where not even Ctrl-C is handled. Here the key is parsed (a subset of
// Python's syntax: literals and escapes, `.`, classes, groups, `|`, `* + ?` and `{m,n}`, lazy or
// not, `^` and `$`) and compiled to a Thompson NFA, simulated in time proportional to
// (module name length × key size), with the key's length and its compiled size bounded. Anything
// else (back-references, lookaround, inline flags, …) is refused by name, never guessed at.

export class PatternError extends Error {
  override readonly name = 'PatternError';
}

/** A key longer than this is refused (real keys are module paths: tens of characters). */
export const MAX_PATTERN_CHARS = 500;
/**
 * One key's compiled size cap (what `{m,n}` repetitions expand to): matching costs at most this
 * many steps per character of a module name.
 */
export const MAX_PATTERN_STATES = 2000;
const MAX_NESTING = 100;

type CharTest = (c: number) => boolean;
type Node =
  | { readonly kind: 'char'; readonly test: CharTest }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly options: readonly Node[] }
  | { readonly kind: 'repeat'; readonly item: Node; readonly min: number; readonly max: number }
  | { readonly kind: 'assert'; readonly at: 'start' | 'end' };

const NEWLINE = 0x0a;
const isDigit: CharTest = (c) => c >= 0x30 && c <= 0x39;
const isWord: CharTest = (c) =>
  isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c > 0x7f;
const isSpace: CharTest = (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const not =
  (t: CharTest): CharTest =>
  (c) =>
    !t(c);
const CLASS_ESCAPES: Record<string, CharTest> = {
  d: isDigit,
  D: not(isDigit),
  w: isWord,
  W: not(isWord),
  s: isSpace,
  S: not(isSpace),
};
const CHAR_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7 };

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly src: readonly string[]) {}

  private refuse(what: string): never {
    throw new PatternError(`${what} (at character ${this.i + 1}) is not supported in pattern keys`);
  }
  private peek(): string | undefined {
    return this.src[this.i];
  }

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length) this.refuse(`an unmatched ")"`);
    return node;
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? (options[0] as Node) : { kind: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek())
      items.push(this.quantified(this.atom()));
    return { kind: 'seq', items };
  }

  private quantified(item: Node): Node {
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*' || c === '+' || c === '?') {
        this.i++;
        [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
      } else if (c === '{' && this.counted()) {
        [min, max] = this.counted() as [number, number];
        this.i = this.src.indexOf('}', this.i) + 1;
      } else return item;
      if (item.kind === 'assert') this.refuse('a repeated anchor');
      // Lazy (`*?`) and greedy repeats accept the same names: only whether a match exists matters.
      if (this.peek() === '?') this.i++;
      else if (this.peek() === '+') this.refuse('a possessive repeat');
      item = { kind: 'repeat', item, min, max };
    }
  }

  /** `{m}`, `{m,}`, `{,n}` or `{m,n}` at the cursor, or undefined when `{` is a literal (Python's rule). */
  private counted(): [number, number] | undefined {
    const close = this.src.indexOf('}', this.i);
    if (close < 0) return undefined;
    const m = /^\{(\d*)(,?)(\d*)\}$/.exec(this.src.slice(this.i, close + 1).join(''));
    if (!m || (m[1] === '' && m[2] === '')) return undefined;
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === '' ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (max < min) this.refuse(`the repeat {${m[1]},${m[3]}} (max below min)`);
    if (min > MAX_PATTERN_STATES || (max !== Infinity && max > MAX_PATTERN_STATES))
      this.refuse(`a repeat count over ${MAX_PATTERN_STATES}`);
    return [min, max];
  }

  private atom(): Node {
    const c = this.src[this.i++] as string;
    switch (c) {
      case '.':
        return { kind: 'char', test: (x) => x !== NEWLINE };
      case '^':
        return { kind: 'assert', at: 'start' };
      case '$':
        return { kind: 'assert', at: 'end' };
      case '[':
        return this.charClass();
      case '\\':
        return this.escape(false) as Node;
      case '(':
        return this.group();
      case '*':
      case '+':
      case '?':
        return this.refuse(`a repeat "${c}" with nothing to repeat`);
      default:
        return literal(c.codePointAt(0) as number);
    }
  }

  private group(): Node {
    if (this.peek() === '?') {
      if (this.src[this.i + 1] !== ':') this.refuse(`the group construct "(?${this.src[this.i + 1] ?? ''}"`);
      this.i += 2;
    }
    if (++this.depth > MAX_NESTING) this.refuse(`nesting deeper than ${MAX_NESTING} groups`);
    const inner = this.alternation();
    this.depth--;
    if (this.peek() !== ')') this.refuse('an unclosed "("');
    this.i++;
    return inner;
  }

  /** After a backslash: a class (\d), an escaped character, or (in a class) a single code point. */
  private escape(inClass: boolean): Node | number {
    const c = this.src[this.i++];
    if (c === undefined) this.refuse('a trailing backslash');
    const cls = Object.hasOwn(CLASS_ESCAPES, c) ? CLASS_ESCAPES[c] : undefined;
    if (cls) return inClass ? this.refuse(`\\${c} inside [...]`) : { kind: 'char', test: cls };
    if (Object.hasOwn(CHAR_ESCAPES, c)) return this.code(CHAR_ESCAPES[c] as number, inClass);
    if (c === 'x' || c === 'u' || c === 'U') {
      const digits = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const hex = this.src.slice(this.i, this.i + digits).join('');
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.refuse(`the escape \\${c}${hex}`);
      this.i += digits;
      return this.code(parseInt(hex, 16), inClass);
    }
    // Python refuses escapes of ASCII letters and digits it does not know (\b, \1, \A, \Z, …):
    // anchors, back-references and word boundaries are among them, and none is supported here.
    if (/[A-Za-z0-9]/.test(c)) this.refuse(`the escape \\${c}`);
    return this.code(c.codePointAt(0) as number, inClass);
  }

  private code(c: number, inClass: boolean): Node | number {
    return inClass ? c : literal(c);
  }

  private charClass(): Node {
    const negated = this.peek() === '^';
    if (negated) this.i++;
    const tests: CharTest[] = [];
    let first = true;
    for (;;) {
      let c = this.src[this.i++];
      if (c === undefined) this.refuse('an unclosed "["');
      if (c === ']' && !first) break;
      first = false;
      let lo: number;
      if (c === '\\') {
        const e = this.peek();
        if (e !== undefined && Object.hasOwn(CLASS_ESCAPES, e)) {
          this.i++;
          tests.push(CLASS_ESCAPES[e] as CharTest);
          continue;
        }
        lo = this.escape(true) as number;
      } else if (c === '[' && /^[:=.]/.test(this.peek() ?? '')) {
        this.refuse('a POSIX class "[:…:]"');
      } else lo = c.codePointAt(0) as number;
      let hi = lo;
      if (this.peek() === '-' && this.src[this.i + 1] !== undefined && this.src[this.i + 1] !== ']') {
        this.i++;
        c = this.src[this.i++] as string;
        hi = c === '\\' ? (this.escape(true) as number) : (c.codePointAt(0) as number);
        if (hi < lo) this.refuse('a range whose end is below its start');
      }
      const [a, b] = [lo, hi];
      tests.push((x) => x >= a && x <= b);
    }
    const any: CharTest = (x) => tests.some((t) => t(x));
    return { kind: 'char', test: negated ? not(any) : any };
  }
}

function literal(code: number): Node {
  return { kind: 'char', test: (x) => x === code };
}

// The NFA: states in arrays; `next`/`alt` are state indices; -1 is "not set yet".
const CHAR = 0;
const SPLIT = 1;
const START = 2;
const END = 3;
const MATCH = 4;

class Nfa {
  readonly kind: number[] = [];
  readonly next: number[] = [];
  readonly alt: number[] = [];
  readonly test: (CharTest | undefined)[] = [];

  add(kind: number, next: number, alt = -1, test?: CharTest): number {
    if (this.kind.length >= MAX_PATTERN_STATES)
      throw new PatternError(`the pattern compiles to more than ${MAX_PATTERN_STATES} states`);
    this.kind.push(kind);
    this.next.push(next);
    this.alt.push(alt);
    this.test.push(test);
    return this.kind.length - 1;
  }

  /** The start state of `node`, which continues to `next` once matched. */
  compile(node: Node, next: number): number {
    switch (node.kind) {
      case 'char':
        return this.add(CHAR, next, -1, node.test);
      case 'assert':
        return this.add(node.at === 'start' ? START : END, next);
      case 'seq':
        return node.items.reduceRight((to, item) => this.compile(item, to), next);
      case 'alt':
        return node.options
          .map((o) => this.compile(o, next))
          .reduceRight((rest, first) => this.add(SPLIT, first, rest));
      case 'repeat': {
        let to = next;
        if (node.max === Infinity) {
          const loop = this.add(SPLIT, -1, next);
          this.next[loop] = this.compile(node.item, loop);
          to = loop;
        } else {
          for (let k = node.min; k < node.max; k++) to = this.add(SPLIT, this.compile(node.item, to), next);
        }
        for (let k = 0; k < node.min; k++) to = this.compile(node.item, to);
        return to;
      }
    }
  }
}

/** A compiled pattern key: `matches(module)` is peft's `re.match(rf"(.*\.)?({key})$", module)`. */
export interface PatternKey {
  readonly key: string;
  /** NFA states (0 for a plain key, compared as text). */
  readonly states: number;
  matches(module: string): boolean;
}

/** No character with a meaning in a Python regex: the key is compared as text (the common case). */
const PLAIN = /^[^.^$*+?{}[\]\\|()]*$/;

/** Compiles one key, or throws a PatternError saying what in it is not supported. */
export function compilePatternKey(key: string): PatternKey {
  const chars = Array.from(key);
  if (chars.length > MAX_PATTERN_CHARS)
    throw new PatternError(
      `the key is ${chars.length} characters long, over the ${MAX_PATTERN_CHARS} allowed`,
    );
  if (PLAIN.test(key))
    return { key, states: 0, matches: (module) => module === key || module.endsWith(`.${key}`) };
  const parsed = new Parser(chars).parse();
  // (.*\.)?(key)$ matched from the start of the name, to its end.
  const dot = literal(0x2e);
  const anyButNewline: Node = { kind: 'char', test: (x) => x !== NEWLINE };
  const whole: Node = {
    kind: 'seq',
    items: [
      {
        kind: 'repeat',
        item: { kind: 'seq', items: [{ kind: 'repeat', item: anyButNewline, min: 0, max: Infinity }, dot] },
        min: 0,
        max: 1,
      },
      parsed,
      { kind: 'assert', at: 'end' },
    ],
  };
  const nfa = new Nfa();
  const match = nfa.add(MATCH, -1);
  const start = nfa.compile(whole, match);
  return {
    key,
    states: nfa.kind.length,
    matches: (module) =>
      simulate(
        nfa,
        start,
        Array.from(module, (c) => c.codePointAt(0) as number),
      ),
  };
}

/** Thompson's simulation: every live state advanced together, one input character at a time. */
function simulate(nfa: Nfa, start: number, input: readonly number[]): boolean {
  const n = nfa.kind.length;
  const mark = new Int32Array(n).fill(-1);
  let current: number[] = [];
  const stack: number[] = [];
  // Adds `s` and every state reachable from it without reading a character, at position `pos`.
  const close = (s: number, pos: number, into: number[]) => {
    stack.push(s);
    while (stack.length) {
      const x = stack.pop() as number;
      if (x < 0 || mark[x] === pos) continue;
      mark[x] = pos;
      const kind = nfa.kind[x];
      if (kind === SPLIT) stack.push(nfa.alt[x] as number, nfa.next[x] as number);
      else if (kind === START) {
        if (pos === 0) stack.push(nfa.next[x] as number);
      } else if (kind === END) {
        if (pos === input.length) stack.push(nfa.next[x] as number);
      } else into.push(x);
    }
  };
  close(start, 0, current);
  for (let pos = 0; pos < input.length && current.length; pos++) {
    const c = input[pos] as number;
    const following: number[] = [];
    for (const s of current)
      if (nfa.kind[s] === CHAR && (nfa.test[s] as CharTest)(c))
        close(nfa.next[s] as number, pos + 1, following);
    current = following;
  }
  // Only a MATCH state reached after the last character counts: the pattern ends with $.
  return current.some((s) => nfa.kind[s] === MATCH);
}
