// Plan: a tensor fits an input as it is, as one sample (batch 1 added) or as a batch; symbolic and
// unknown dims match anything; a fixed dim, a wrong rank or a non-float input is refused, saying so.
import { describe, expect, it } from 'vitest';
import { fitInput, fitTensor } from './tensor-input';

const pixels = { name: 'pixels', shape: [null, 1, 8, 8] };

describe('fitInput', () => {
  it('takes the same shape, a batch, or one sample with batch 1 added', () => {
    expect(fitInput(pixels, [1, 1, 8, 8])).toEqual({ dims: [1, 1, 8, 8] });
    expect(fitInput(pixels, [300, 1, 8, 8])).toEqual({ dims: [300, 1, 8, 8] });
    expect(fitInput(pixels, [1, 8, 8])).toEqual({ dims: [1, 1, 8, 8] });
    expect(fitInput({ name: 'x', shape: ['N', 'C', 'H', 'W'] }, [2, 3, 5, 7])).toEqual({
      dims: [2, 3, 5, 7],
    });
    expect(fitInput({ name: 'x', shape: null }, [4, 2])).toEqual({ dims: [4, 2] });
  });
  it('adds batch 1 only where the batch dim allows 1', () => {
    expect(fitInput({ name: 'x', shape: [1, 3] }, [3])).toEqual({ dims: [1, 3] });
    expect(fitInput({ name: 'x', shape: [4, 3] }, [3])).toEqual({
      problem: 'input x wants [4, 3]; the file has [3]',
    });
  });
  it('says what the input wants and what the file has', () => {
    expect(fitInput(pixels, [3, 8, 8])).toEqual({
      problem: 'input pixels wants [?, 1, 8, 8]; the file has [3, 8, 8]',
    });
    expect(fitInput(pixels, [8, 8])).toEqual({
      problem: 'input pixels wants [?, 1, 8, 8]; the file has [8, 8]',
    });
    expect(fitInput({ name: 'x', shape: ['batch', 3] }, [2, 4])).toEqual({
      problem: 'input x wants [batch, 3]; the file has [2, 4]',
    });
  });
  it('feeds float32 inputs only', () => {
    expect(fitInput({ ...pixels, type: 'float32' }, [1, 8, 8])).toEqual({ dims: [1, 1, 8, 8] });
    expect(fitInput({ ...pixels, type: 'tensor(float)' }, [1, 8, 8])).toEqual({ dims: [1, 1, 8, 8] });
    expect(fitInput({ name: 'ids', shape: [null, 16], type: 'int64' }, [1, 16])).toEqual({
      problem: 'input ids takes int64; a tensor file is fed as float32',
    });
  });
});

describe('fitTensor', () => {
  it('hands back the data with the dims to run', () => {
    const data = new Float32Array(64).fill(0.5);
    const fit = fitTensor(pixels, { data, shape: [1, 8, 8] });
    expect(fit).toEqual({ input: data, dims: [1, 1, 8, 8] });
  });
  it('refuses a tensor whose values are not as many as its shape says', () => {
    expect(fitTensor(pixels, { data: new Float32Array(63), shape: [1, 8, 8] })).toEqual({
      problem: 'shape [1, 8, 8] is 64 values; the tensor has 63',
    });
    expect(fitTensor(pixels, { data: new Float32Array(3 * 64), shape: [3, 8, 8] })).toEqual({
      problem: 'input pixels wants [?, 1, 8, 8]; the file has [3, 8, 8]',
    });
  });
});
