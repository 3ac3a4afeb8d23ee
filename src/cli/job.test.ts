// Plan: the YAML recipe and the flags reach mergekit's methods with mergekit's names — per-model
// `parameters`, top-level defaults, --seed — and refuse what they do not take by name: unknown keys
// at every level, gradients and filters, a parameter the method lacks, a seed given twice.
import { describe, expect, it } from 'vitest';
import { jobFromYaml, specFromFlags } from './job';

const yaml = (lines: string[]) => [...lines, ''].join('\n');
const models = [
  'models:',
  '  - model: a.safetensors',
  '    parameters: {weight: 0.3, density: 0.4}',
  '  - b.safetensors',
];

describe('mergekit recipes', () => {
  it('per-model parameters over top-level ones, int8_mask accepted, --seed', () => {
    const job = jobFromYaml(
      yaml([
        'merge_method: dare_ties',
        'base_model: base.safetensors',
        'parameters: {density: 0.7, int8_mask: true, normalize: true}',
        ...models,
      ]),
      '/r/x.yml',
      5,
    );
    expect(job.base).toBe('/r/base.safetensors');
    expect(job.method).toMatchObject({
      method: 'mergekit',
      name: 'dare_ties',
      normalize: true,
      rescale: true,
      int8Mask: true,
      seed: 5,
      defaults: { density: 0.7 },
      models: [{ weight: 0.3, density: 0.4 }, {}],
    });
  });

  it('ties: mergekit without parameters in a recipe, the paper with k or as ties_paper', () => {
    const job = (method: string, params: string) =>
      jobFromYaml(
        yaml([`merge_method: ${method}`, 'base_model: b', `parameters: ${params}`, 'models: [a, c]']),
        'x.yml',
      ).method;
    expect(job('ties', '{}')).toMatchObject({ method: 'mergekit', name: 'ties' });
    expect(job('ties', '{k: 0.1}')).toEqual({ method: 'ties', k: 0.1, lambda: 1 });
    expect(job('ties', '{topk: 0.1}')).toEqual({ method: 'ties', k: 0.1, lambda: 1 });
    expect(job('ties_paper', '{}')).toEqual({ method: 'ties', k: 0.2, lambda: 1 });
    expect(job('linear', '{normalize: false}')).toMatchObject({
      method: 'mergekit',
      name: 'linear',
      normalize: false,
    });
    expect(job('ta', '{lambda: 0.5}')).toEqual({ method: 'ta', lambda: 0.5 });
    expect(job('model_stock', '{filter_wise: true}')).toMatchObject({
      name: 'model_stock',
      filterWise: true,
    });
  });

  it('refuses by name what it does not take', () => {
    const bad = (lines: string[], message: string, seed?: number) =>
      expect(() => jobFromYaml(yaml(['base_model: b', ...lines]), 'x.yml', seed)).toThrow(message);
    bad(['merge_method: ties', 'parameters: {densty: 0.5}', 'models: [a, c]'], 'unknown key "densty"');
    bad(
      ['merge_method: ties', 'models: [{model: a, parameters: {wieght: 1}}, c]'],
      'models[0].parameters: unknown key "wieght"',
    );
    bad(
      ['merge_method: ties', 'models: [{model: a, parameters: {gamma: 0.1}}, c]'],
      'models[0]: ties takes no parameter gamma',
    );
    bad(
      ['merge_method: ties', 'parameters: {weight: [{filter: mlp, valeu: 1}]}', 'models: [a, c]'],
      'parameters.weight[0]: unknown key "valeu"',
    );
    bad(['merge_method: ties', 'slices: []', 'models: [a, c]'], 'give exactly one of "models" and "slices"');
    bad(
      ['merge_method: ties', 'parameters: {normalize: 1}', 'models: [a, c]'],
      'normalize must be true or false',
    );
    bad(
      ['merge_method: emr', 'models: [{model: a, parameters: {weight: 1}}, c]'],
      'per-model parameters are not supported by emr',
    );
    bad(
      ['merge_method: ties', 'parameters: {k: 0.2}', 'models: [{model: a, parameters: {weight: 1}}, c]'],
      'per-model parameters are not supported by ties',
    );
    bad(['merge_method: dare_ties', 'parameters: {seed: 1}', 'models: [a, c]'], 'give the seed once', 2);
    bad(['merge_method: ties', 'models: [a, c]'], 'ties takes no parameter seed', 2);
    bad(['merge_method: slerp', 'models: [a, c]'], 'slerp needs t');
    bad(['merge_method: karcher', 'models: [a, c]'], 'unknown merge method "karcher"');
  });
});

describe('flags', () => {
  it('--method, --param, --seed', () => {
    expect(specFromFlags({ method: 'ties' })).toEqual({ method: 'ties', k: 0.2, lambda: 1 });
    expect(specFromFlags({ method: 'ties', topk: '0.3' })).toEqual({ method: 'ties', k: 0.3, lambda: 1 });
    expect(specFromFlags({ method: 'ties', param: ['density=0.3'] })).toMatchObject({
      method: 'mergekit',
      name: 'ties',
    });
    expect(
      specFromFlags({ method: 'della', param: ['density=0.5', 'epsilon=0.1', 'rescale=false'], seed: '9' }),
    ).toMatchObject({
      name: 'della',
      rescale: false,
      seed: 9,
      defaults: { density: 0.5, epsilon: 0.1 },
    });
    expect(() => specFromFlags({ method: 'della', param: ['normalize=yes'] })).toThrow(
      '--param normalize wants true or false',
    );
    expect(() => specFromFlags({ method: 'della', param: ['density'] })).toThrow('--param wants KEY=VALUE');
    expect(() => specFromFlags({ method: 'della', param: ['density=0.5', 'density=0.6'] })).toThrow(
      'given twice',
    );
    expect(() => specFromFlags({ method: 'emr', seed: '1' })).toThrow('emr takes no parameter seed');
  });
});
