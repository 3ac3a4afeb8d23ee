// Plan: scanKeys finds the keys JSON.parse would merge. Hand-picked cases cover what a naive scan
// gets wrong (quotes, braces and backslashes inside strings, escaped spellings of one key, keys in
// nested objects and arrays, string values equal to keys, deep nesting); a property test holds it
// against JSON.parse itself on random JSON: no duplicate found exactly when none was written.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanKeys } from './json';

describe('scanKeys', () => {
  it.each([
    ['{}', []],
    ['{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}', ['a', 'b', 'c']],
    ['{"a":"a","b":["a","b"]}', ['a', 'b']],
    ['{"a\\"b":1,"c}{,":2,"d\\\\":"\\\\","e":"\\\\\\"x"}', ['a"b', 'c}{,', 'd\\', 'e']],
    ['{"10":1,"2":2,"x":3,"0":4}', ['10', '2', 'x', '0']],
    [' { "a" : [ ] , "b" : { } } ', ['a', 'b']],
  ])('lists the top-level keys of %s in text order, no duplicate', (json, keys) => {
    expect(scanKeys(json)).toEqual({ topLevelKeys: keys, duplicate: undefined });
  });

  it.each([
    ['{"a":1,"a":2}', 'a', []],
    ['{"a":1,"\\u0061":2}', 'a', []],
    ['{"a\\\\":1,"a\\u005c":2}', 'a\\', []],
    ['{"x":{"k":1,"k":2}}', 'k', ['x']],
    ['{"x":[{"k":1},{"k":2,"k":3}]}', 'k', ['x', '[]']],
    ['{"x":{"y":{"z":[[{"k":1,"k":1}]]}}}', 'k', ['x', 'y', 'z', '[]', '[]']],
  ])('finds the duplicate in %s', (json, key, path) => {
    expect(scanKeys(json).duplicate).toEqual({ key, path });
  });

  it('does not take string values or array strings for keys', () => {
    expect(scanKeys('{"a":"b","b":["a","a"],"c":"a"}').duplicate).toBeUndefined();
  });

  it('scans nesting far deeper than the call stack', () => {
    const depth = 200_000;
    const json = `{"a":${'['.repeat(depth)}{"k":1,"k":2}${']'.repeat(depth)}}`;
    expect(scanKeys(json).duplicate?.key).toBe('k');
  });

  it('agrees with JSON.parse on random JSON: a duplicate is found exactly when one was written', () => {
    // Objects are written from lists of raw key tokens and values, so one key can appear twice,
    // spelled the same or with escapes ("\u0061" is "a").
    const keyToken = fc.constantFrom(
      '"a"',
      '"\\u0061"',
      '"b"',
      '"\\""',
      '"\\\\"',
      '"{"',
      '"é"',
      '"__proto__"',
    );
    const { value } = fc.letrec<{ value: string }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
        fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
        fc
          .array(fc.tuple(keyToken, tie('value')), { maxLength: 4 })
          .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(' , ')}}`),
      ),
    }));
    fc.assert(
      fc.property(value, (json) => {
        expect(scanKeys(json).duplicate !== undefined).toBe(writtenWithDuplicate(json));
      }),
      { numRuns: 200 },
    );
  });
});

/** An independent duplicate check: a recursive descent over the JSON text, decoding keys with JSON.parse. */
function writtenWithDuplicate(json: string): boolean {
  let at = 0;
  const skipSpace = () => {
    while (/\s/.test(json[at] ?? '')) at++;
  };
  const readString = (): string => {
    const start = at++;
    while (json[at] !== '"') at += json[at] === '\\' ? 2 : 1;
    at++;
    return JSON.parse(json.slice(start, at)) as string;
  };
  const value = (): boolean => {
    skipSpace();
    const c = json[at];
    if (c === '"') {
      readString();
      return false;
    }
    if (c === '[' || c === '{') {
      at++;
      const keys = new Set<string>();
      let duplicate = false;
      for (;;) {
        skipSpace();
        if (json[at] === ']' || json[at] === '}') break;
        if (c === '{') {
          const key = readString();
          duplicate ||= keys.has(key);
          keys.add(key);
          skipSpace();
          at++; // ':'
        }
        duplicate = value() || duplicate;
        skipSpace();
        if (json[at] === ',') at++;
      }
      at++;
      return duplicate;
    }
    while (at < json.length && !/[\s,\]}]/.test(json[at]!)) at++;
    return false;
  };
  return value();
}
