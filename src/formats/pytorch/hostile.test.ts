// Plan: hostile torch.save files (made by tools/fixtures/make_torch_fixtures.py) and fuzzed ones.
//  - A pickle whose __reduce__ would call os.system / builtins.open to create a file: reading it
//    (zip, legacy and tar, nested in a dict or as the whole pickle) creates nothing; the dict's real
//    tensor is still read, and a pickle that is only the call is refused as holding no tensors.
//  - Each hostile fixture gets its FormatError (code and message): huge declared storages, a view
//    past its storage, a short or deflated storage entry, complex storages, 100 000 nested MARKs,
//    dicts nested 5 000 deep, a dict holding itself, a memo DAG that doubles 60 times, unknown and
//    EXT opcodes, a zip that is no checkpoint, truncated zip, legacy and tar files, a tar member
//    whose declared size runs past the end of the file.
//  - The unpickler alone on hand-made opcodes: lengths past the end, memo reads before writes, an
//    empty stack, a LONG4 of 2^31 bytes — FormatErrors, nothing allocated past the input.
//  - Fuzz: fixtures with flipped bytes, cuts and splices, and random opcode soups: opening and
//    reading every tensor either works or throws a FormatError naming the file; never another
//    error, never a read outside the file, never a hang (each case has a time limit).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FormatError, isFormatError } from '../errors';
import { fileSource } from '../node-files';
import { readTensor } from '../tensor';
import { checkNoPollution, outcome, strictSource } from '../testing';
import { openPytorch } from './reader';
import { unpickle } from './unpickler';

/** The path the hostile pickles would create if anything executed them (see the fixture script). */
const PWNED_PATH = '/tmp/merge-studio-pwned-4f1c9e';
const FIXTURES = new URL('./__fixtures__/', import.meta.url).pathname;
const fixture = (rel: string) => join(FIXTURES, rel);

async function openFile(rel: string) {
  return openPytorch(await fileSource(fixture(rel)));
}

async function refusal(rel: string): Promise<FormatError> {
  const err = await (async () => {
    const checkpoint = await openFile(rel);
    for (const t of checkpoint.tensors.values()) await readTensor(t);
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof FormatError)) throw new Error(`${rel}: expected a FormatError, got ${String(err)}`);
  expect(err.file).toBe(fixture(rel));
  return err;
}

describe('pickles that would run code run nothing', () => {
  it.each(['hostile/pwned.bin', 'hostile/pwned_legacy.pt', 'hostile/pwned_tar.pt'])(
    '%s: its tensor is read, nothing is created',
    async (rel) => {
      expect(existsSync(PWNED_PATH)).toBe(false);
      const checkpoint = await openFile(rel);
      expect([...checkpoint.tensors.keys()]).toEqual(['weight']);
      const bytes = await readTensor(checkpoint.tensors.get('weight' as never)!);
      expect([...new Float32Array(bytes.buffer)]).toEqual([1, 1, 1, 1]);
      expect(existsSync(PWNED_PATH)).toBe(false);
    },
  );

  it('a pickle that is only the call is refused, naming what it would have called', async () => {
    const err = await refusal('hostile/pwned_root.pt');
    expect(err.code).toBe('unsupported');
    expect(err.problem).toMatch(
      /holds no tensors: its top object is an object made by posix\.system \(kept inert, never called\)/,
    );
    expect(existsSync(PWNED_PATH)).toBe(false);
  });
});

describe('hostile fixtures get a FormatError', () => {
  const cases: [string, FormatError['code'], RegExp][] = [
    [
      'hostile/huge_storage.bin',
      'out-of-bounds',
      /storage 0 declares 1125899906842624 elements of FloatStorage, more than the file's \d+ bytes hold/,
    ],
    ['hostile/past_storage.bin', 'out-of-bounds', /tensor "w": elements \[2, 6\) run past its storage's 4/],
    [
      'hostile/short_storage.bin',
      'size-mismatch',
      /tensor "w": its storage short_storage\/data\/0 has 8 bytes/,
    ],
    [
      'hostile/deflated.bin',
      'unsupported',
      /tensor "w": its storage deflated\/data\/0 is compressed \(zip method 8\)/,
    ],
    [
      'hostile/complex.bin',
      'unsupported',
      /tensor "z": its storage type torch\.ComplexFloatStorage is not supported/,
    ],
    ['hostile/deep_marks.bin', 'header-json', /MARKs nested over 10000 deep/],
    ['hostile/deep_dicts.bin', 'unsupported', /objects nested over 200 deep/],
    ['hostile/cycle.bin', 'header-json', /the objects form a cycle at "self"/],
    ['hostile/dag.bin', 'unsupported', /more than 1000000 objects to walk for tensors/],
    ['hostile/unknown_opcode.bin', 'unsupported', /unknown or unsupported opcode 0xff at offset 3/],
    ['hostile/ext_opcode.bin', 'unsupported', /unknown or unsupported opcode 0x82 at offset 2/],
    ['hostile/plain.zip', 'unsupported', /a zip archive, but not a PyTorch checkpoint/],
    ['hostile/truncated.bin', 'truncated', /no end-of-central-directory record/],
    ['hostile/truncated_legacy.bin', 'truncated', /storage \d+ runs past the end of the file/],
    [
      'hostile/truncated_tar.pt',
      'truncated',
      /member "storages" declares 7101 bytes, past the end of the file/,
    ],
    ['hostile/past_end_tar.pt', 'truncated', /member "storages" declares 1073741824 bytes, past the end/],
  ];
  it.each(cases)('%s: %s', async (rel, code, message) => {
    const err = await refusal(rel);
    expect(err.code).toBe(code);
    expect(err.problem).toMatch(message);
  });
});

describe('the unpickler alone', () => {
  const options = { file: 'x.pkl', what: 'data.pkl', persistentLoad: () => null };
  const run = (bytes: number[] | Uint8Array) => {
    try {
      return unpickle(Uint8Array.from(bytes), 0, options).value;
    } catch (e) {
      if (e instanceof FormatError) return e.code;
      throw e;
    }
  };
  it('refuses lengths past the end without allocating them', () => {
    expect(run([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f])).toBe('truncated'); // BINUNICODE 2 GiB
    expect(run([0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f])).toBe('unsupported'); // LONG4 2 GiB
    expect(run([0x80, 2, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).toBe('header-json'); // BINBYTES8
  });
  it('refuses a bad stack, memo or mark', () => {
    expect(run([0x2e])).toBe('header-json'); // STOP on an empty stack
    expect(run([0x68, 5, 0x2e])).toBe('header-json'); // BINGET before BINPUT
    expect(run([0x74, 0x2e])).toBe('header-json'); // TUPLE with no MARK
    expect(run([0x28, 0x4e, 0x2e])).toBe('header-json'); // STOP inside a MARK
    expect(run([0x4e, 0x4e, 0x73, 0x2e])).toBe('header-json'); // SETITEM on None
    expect(run([0x80, 9, 0x4e, 0x2e])).toBe('unsupported'); // protocol 9
  });
  it('takes 500 000 items in one APPENDS / ADDITEMS / SETITEMS without overflowing the stack', () => {
    const many = (op: number, empty: number, item: number[], times: number): Uint8Array => {
      const bytes = new Uint8Array(6 + item.length * times);
      bytes.set([0x80, 2, empty, 0x28]);
      for (let i = 0; i < times; i++) bytes.set(item, 4 + i * item.length);
      bytes.set([op, 0x2e], bytes.length - 2);
      return bytes;
    };
    const list = run(many(0x65, 0x5d, [0x4e], 500_000)) as { items: unknown[] };
    expect(list.items).toHaveLength(500_000);
    const set = run(many(0x90, 0x8f, [0x4b, 1], 500_000)) as { items: unknown[] };
    expect(set.items).toHaveLength(500_000);
    const dict = run(many(0x75, 0x7d, [0x4b, 1, 0x4e], 500_000)) as { map: Map<unknown, unknown> };
    expect(dict.map.size).toBe(1);
  });
  it('decodes what it knows', () => {
    expect(run([0x80, 2, 0x8a, 1, 0xff, 0x2e])).toBe(-1); // LONG1
    expect(run([0x4a, 0xfe, 0xff, 0xff, 0xff, 0x2e])).toBe(-2); // BININT
    expect(run([0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x2e])).toBe(1.5); // BINFLOAT
    expect(run([0x8c, 2, 0xc3, 0xbc, 0x2e])).toBe('ü'); // SHORT_BINUNICODE
  });
});

// --- fuzzing -------------------------------------------------------------------------------

const RUN = { numRuns: 150, timeout: 10_000 };
const BASES = ['bert.bin', 'bert_legacy.bin', 'bert_module.pt', 'dtypes.pt', 'lightning.ckpt', 'bert_tar.pt'];
const bases = await Promise.all(BASES.map(async (n) => new Uint8Array(await readFile(fixture(n)))));

async function openAndReadAll(bytes: Uint8Array): Promise<string> {
  const source = strictSource(bytes, 'fuzzed.bin');
  const result = await outcome(async () => {
    const checkpoint = await openPytorch(source);
    for (const t of checkpoint.tensors.values()) expect((await readTensor(t)).byteLength).toBe(t.byteLength);
  });
  checkNoPollution();
  return result;
}

const arbMutation = fc.record({
  base: fc.nat(BASES.length - 1),
  flips: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 8,
  }),
  cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
});

describe('fuzz', () => {
  it('mutated fixtures: a FormatError or a checkpoint, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(arbMutation, async ({ base, flips, cut }) => {
        const bytes = (bases[base] as Uint8Array).slice();
        for (const [at, value] of flips) bytes[Math.floor(at * (bytes.byteLength - 1))] = value;
        const cutBytes = cut === null ? bytes : bytes.subarray(0, Math.floor(cut * bytes.byteLength));
        await openAndReadAll(cutBytes);
      }),
      RUN,
    );
  });

  it('mutations inside the pickle itself', async () => {
    // The legacy file starts with its pickles: flips there exercise the unpickler, not the zip.
    const legacy = bases[1] as Uint8Array;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(4000), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (flips) => {
          const bytes = legacy.slice();
          for (const [at, value] of flips) bytes[16 + at] = value;
          await openAndReadAll(bytes);
        },
      ),
      RUN,
    );
  });

  it('opcode soups: only FormatErrors', () => {
    const OPS = [
      0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x4b, 0x4d, 0x4a, 0x8a, 0x8b, 0x47, 0x58, 0x8c, 0x8d,
      0x42, 0x43, 0x7d, 0x5d, 0x29, 0x8f, 0x85, 0x86, 0x87, 0x74, 0x6c, 0x64, 0x91, 0x90, 0x61, 0x65, 0x73,
      0x75, 0x71, 0x72, 0x94, 0x68, 0x6a, 0x63, 0x93, 0x51, 0x52, 0x81, 0x92, 0x62, 0x69, 0x6f, 0x95,
    ];
    const arbSoup = fc.array(fc.oneof(fc.constantFrom(...OPS), fc.integer({ min: 0, max: 255 })), {
      maxLength: 64,
    });
    fc.assert(
      fc.property(arbSoup, (soup) => {
        try {
          unpickle(new Uint8Array([0x80, 2, ...soup, 0x2e]), 0, {
            file: 'soup.pkl',
            what: 'data.pkl',
            persistentLoad: () => null,
          });
        } catch (e) {
          if (!isFormatError(e)) throw e;
          expect(e.message.startsWith('soup.pkl: ')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
