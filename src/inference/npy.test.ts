// Plan: .npy files written byte by byte as NumPy writes them (v1 and v3 headers, padded to 64),
// every supported dtype, and each refusal with the file's name and the problem.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NpyError, parseNpy } from './npy';
import { fitInput } from './tensor-input';

function npy(descr: string, shape: number[], data: Uint8Array, version = 1, fortran = false): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(data, total);
  return out;
}

describe('parseNpy', () => {
  it('reads float32, float16, float64, integers and bools into float32', () => {
    const f4 = parseNpy(npy('<f4', [2, 2], new Uint8Array(Float32Array.from([1, -2, 0.5, 3]).buffer)));
    expect(f4).toMatchObject({ dtype: '<f4', shape: [2, 2], data: Float32Array.from([1, -2, 0.5, 3]) });
    expect(f4.raw).toBe(f4.data);
    const f2 = parseNpy(npy('<f2', [3], new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x3800]).buffer)));
    expect([...f2.data]).toEqual([1, -2, 0.5]);
    const f8 = parseNpy(npy('<f8', [1], new Uint8Array(Float64Array.from([0.25]).buffer)), 'x.npy');
    expect([...f8.data]).toEqual([0.25]);
    const i8 = parseNpy(npy('<i8', [2], new Uint8Array(BigInt64Array.from([-3n, 7n]).buffer), 3));
    expect([...i8.data]).toEqual([-3, 7]);
    expect([...parseNpy(npy('|u1', [2], Uint8Array.from([0, 255]))).data]).toEqual([0, 255]);
    expect([...parseNpy(npy('|b1', [2], Uint8Array.from([0, 1]))).data]).toEqual([0, 1]);
    expect(parseNpy(npy('<f4', [], new Uint8Array(Float32Array.from([9]).buffer))).shape).toEqual([]);
  });

  it('reads version 2.0 headers, one-byte types under any byte order, and keeps the stored values', () => {
    const v2 = parseNpy(npy('<i4', [2, 1], new Uint8Array(Int32Array.from([-5, 6]).buffer), 2));
    expect(v2).toMatchObject({ dtype: '<i4', shape: [2, 1], data: Float32Array.from([-5, 6]) });
    expect(v2.raw).toEqual(Int32Array.from([-5, 6]));
    expect([...parseNpy(npy('<i1', [2], Uint8Array.from([0xff, 3]))).data]).toEqual([-1, 3]);
    expect([...parseNpy(npy('<i2', [1], Uint8Array.from([0x00, 0x80]))).data]).toEqual([-32768]);
    expect([...parseNpy(npy('=f8', [1], new Uint8Array(Float64Array.from([2.5]).buffer))).data]).toEqual([
      2.5,
    ]);
    // 2^53 + 1 is not a float32 (nor a double): raw keeps it exactly.
    const big = parseNpy(npy('<i8', [1], new Uint8Array(BigInt64Array.from([2n ** 53n + 1n]).buffer)));
    expect(big.raw).toEqual(BigInt64Array.from([2n ** 53n + 1n]));
    expect(big.data[0]).toBe(2 ** 53);
    // float16 raw is its bits; booleans are 0/1 whatever byte was stored.
    expect(parseNpy(npy('<f2', [1], Uint8Array.from([0x00, 0x3c]))).raw).toEqual(Uint16Array.from([0x3c00]));
    expect([...parseNpy(npy('|b1', [2], Uint8Array.from([0, 7]))).raw]).toEqual([0, 1]);
  });

  it('decodes float16 subnormals, infinities and NaN', () => {
    const f2 = parseNpy(
      npy('<f2', [4], new Uint8Array(Uint16Array.from([0x0001, 0x7c00, 0xfc00, 0x7e00]).buffer)),
    );
    expect(f2.data[0]).toBe(Math.fround(2 ** -24));
    expect(f2.data[1]).toBe(Infinity);
    expect(f2.data[2]).toBe(-Infinity);
    expect(f2.data[3]).toBeNaN();
  });

  it('refuses with the file name and the problem', () => {
    const bad = (bytes: Uint8Array) => {
      try {
        parseNpy(bytes, 'in.npy');
      } catch (e) {
        expect(e).toBeInstanceOf(NpyError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad(new Uint8Array(20))).toBe('in.npy: not a .npy file (no \\x93NUMPY magic)');
    expect(bad(npy('<f4', [4], new Uint8Array(8)))).toContain('needs 16 bytes of data, the file has 8');
    expect(bad(npy('>f4', [1], new Uint8Array(4)))).toContain('big-endian');
    expect(bad(npy('<f4', [1], new Uint8Array(4), 1, true))).toContain('Fortran order');
    expect(bad(npy('<c8', [1], new Uint8Array(8)))).toContain('dtype <c8 is not supported');
    expect(bad(npy('<f4', [1], new Uint8Array(4)).subarray(0, 30))).toContain('truncated');
    expect(bad(Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1]))).toBe(
      'in.npy: truncated in its header',
    );
    expect(bad(npy('<f4', [1], new Uint8Array(8)))).toBe(
      'in.npy: shape (1) of <f4 needs 4 bytes of data, the file has 8',
    );
    expect(bad(npy('<f4', [1], new Uint8Array(4), 4))).toContain('version 4.0 is not one we read');
  });
});

describe('files NumPy wrote (tools/fixtures/make_npy_fixtures.py)', () => {
  const fixture = async (name: string) =>
    parseNpy(new Uint8Array(await readFile(join(import.meta.dirname, '__fixtures__', name))), name);
  it('reads them with their shapes and values', async () => {
    const digit = await fixture('digit-f32.npy');
    expect(digit.shape).toEqual([1, 8, 8]);
    expect(digit.data[63]).toBe(1);
    expect(digit.data[9]).toBe(Math.fround(9 / 63));
    const batch = await fixture('batch-f16.npy');
    expect(batch.shape).toEqual([2, 1, 8, 8]);
    expect(batch.data[64 + 63]).toBe(0); // 1 − 1
    expect(Math.abs((batch.data[9] as number) - 9 / 63)).toBeLessThan(1e-3);
    expect([...(await fixture('ints-i8.npy')).data]).toEqual([-3, 7, 0, 2 ** 40]);
    await expect(fixture('fortran.npy')).rejects.toThrow('fortran.npy: the array is in Fortran order');
  });
});

describe('fitInput', () => {
  const pixels = { name: 'pixels', shape: ['batch', 1, 8, 8] };
  it('takes a batch, or one sample with the batch dimension added', () => {
    expect(fitInput(pixels, [5, 1, 8, 8])).toEqual({ dims: [5, 1, 8, 8] });
    expect(fitInput(pixels, [1, 8, 8])).toEqual({ dims: [1, 1, 8, 8] });
  });
  it('says what the input wants', () => {
    expect(fitInput(pixels, [3, 8, 8])).toEqual({
      problem: 'input pixels wants [batch, 1, 8, 8]; the file has [3, 8, 8]',
    });
  });
});
