// Plan: steps 4 and 5 default to wasm wherever the merge engine defaults to the CPU (no adapter, a
// software one, still probing), to WebGPU on a real adapter, each with its reason; a pick wins.
import { describe, expect, it } from 'vitest';
import { currentProvider, defaultProvider } from './provider';

describe('defaultProvider', () => {
  it('is wasm on a software adapter, with the reason', () => {
    const sw = defaultProvider({ status: 'ready', info: { name: 'google swiftshader', isSoftware: true } });
    expect(sw.provider).toBe('wasm');
    expect(sw.reason).toContain('software adapter');
  });
  it('is wasm with no adapter or while probing, WebGPU on a real one', () => {
    expect(defaultProvider({ status: 'unavailable', reason: 'none' }).provider).toBe('wasm');
    expect(defaultProvider({ status: 'probing' }).provider).toBe('wasm');
    const real = defaultProvider({ status: 'ready', info: { name: 'nvidia ampere', isSoftware: false } });
    expect(real).toEqual({ provider: 'webgpu', reason: 'nvidia ampere runs the models.' });
  });
  it("the user's pick wins over the default", () => {
    expect(currentProvider('webgpu', { status: 'unavailable', reason: 'none' })).toBe('webgpu');
    expect(currentProvider(undefined, { status: 'unavailable', reason: 'none' })).toBe('wasm');
  });
});
