// JSON helpers for headers and indexes. JSON.parse silently keeps the last of two equal keys, which
// would hide a tensor name given twice (and a second, different tensor behind it): find those.

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A JSON value shown in a message: cut short, and safe on values nested too deeply for
 * JSON.stringify (which then throws a RangeError, not a FormatError).
 */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    text = Array.isArray(value) ? '[…]' : '{…}';
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

const PREVIEW_CHARS = 60;

export interface DuplicateKey {
  readonly key: string;
  /**
   * Where the object holding the key sits: the keys leading to it from the top-level value,
   * with '[]' for an array element. [] for a key of the top-level object itself.
   */
  readonly path: readonly string[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

interface Container {
  /** Keys seen so far; undefined for an array. */
  readonly keys: Set<string> | undefined;
  /** The container this one sits in, and under which key ('[]' in an array). */
  readonly parent: Container | undefined;
  readonly keyInParent: string;
}

/** Paths are built only for the report: storing one per container would cost depth² memory. */
function pathTo(container: Container): string[] {
  const path: string[] = [];
  for (let c = container; c.parent !== undefined; c = c.parent) path.push(c.keyInParent);
  return path.reverse();
}

export interface KeyScan {
  /** The top-level object's keys in text order (a JS object lists integer-like keys first). */
  readonly topLevelKeys: readonly string[];
  /** The first key, in text order, that appears twice in the same object. */
  readonly duplicate: DuplicateKey | undefined;
  /** Set when the top level has more keys than the caller allows: the scan stopped there. */
  readonly overLimit?: true;
}

/**
 * Lists the keys of `json`, which must be valid JSON (call this after JSON.parse accepted it): the
 * scan only tracks strings and brackets. Iterative, so deep nesting cannot overflow the stack. On
 * any text it ends; it stops early once the top level has over `maxTopLevelKeys` keys, so a header
 * can be refused for its size before JSON.parse builds an object per entry.
 */
export function scanKeys(json: string, maxTopLevelKeys = Infinity): KeyScan {
  const topLevelKeys: string[] = [];
  const open: Container[] = [];
  let lastKey = ''; // the key a container opened next sits under, when its parent is an object
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(json, i);
      const top = open.at(-1);
      if (expectKey && top?.keys !== undefined) {
        const raw = json.slice(i, end + 1);
        // Escapes ("\u0061" is "a") must be decoded to compare keys as JSON.parse does.
        const key = raw.includes('\\') ? decodeKey(raw) : raw.slice(1, -1);
        if (top.keys.has(key)) return { topLevelKeys, duplicate: { key, path: pathTo(top) } };
        top.keys.add(key);
        if (open.length === 1 && topLevelKeys.push(key) > maxTopLevelKeys)
          return { topLevelKeys, duplicate: undefined, overLimit: true };
        lastKey = key;
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const parent = open.at(-1);
      const keyInParent = parent?.keys === undefined ? '[]' : lastKey;
      open.push({ keys: c === OPEN_OBJECT ? new Set() : undefined, parent, keyInParent });
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
    } else if (c === COMMA) {
      expectKey = open.at(-1)?.keys !== undefined;
    }
  }
  return { topLevelKeys, duplicate: undefined };
}

/** A key with escapes as JSON.parse reads it; as written when invalid (the text is refused anyway). */
function decodeKey(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw;
  }
}

/** Index of the quote that closes the string opening at `start` (one not escaped by a backslash). */
function closingQuote(json: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = json.indexOf('"', from);
    if (quote < 0) return json.length; // only on invalid JSON: end the scan
    let backslashes = 0;
    while (json.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}
