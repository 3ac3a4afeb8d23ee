// Plan: the recipe parser on its own, text in and job out, no files: mergekit's example recipes give
// the models as named (the base left out but for linear), their per-model settings (gradients,
// filters) and dtype; mergekit's evaluate_setting on hand-computed cases; and what a recipe may not
// do, refused with the key named. Running the examples over real files is src/cli/mergekit-examples.test.ts.
import { describe, expect, it } from 'vitest';
import { GRADIENT_SLERP, LINEAR, TIES } from '../testing/mergekit-examples';
import { readMergekitRecipe, RecipeError } from './recipe';
import { depthOf, evaluateSetting } from './settings';

const read = (text: string) => readMergekitRecipe(text, 'r.yml');

describe("mergekit's example recipes, read", () => {
  it('examples/ties.yml: a base outside the models, per-model gradients and a filter, float16', () => {
    const job = read(TIES);
    expect(job.base).toEqual({ ref: 'TheBloke/Llama-2-13B-fp16', where: 'base_model' });
    expect(job.models.map((m) => [m.ref, m.where])).toEqual([
      ['psmathur/orca_mini_v3_13b', 'models[0].model'],
      ['garage-bAInd/Platypus2-13B', 'models[1].model'],
      ['WizardLM/WizardMath-13B-V1.0', 'models[2].model'],
    ]);
    const m = job.method;
    if (m.method !== 'mergekit') throw new Error('a mergekit spec');
    expect(m.name).toBe('ties');
    expect(m.outDtype).toBe('F16');
    expect(m.settings?.models[0]?.['density']).toEqual([1, 0.7, 0.1]);
    expect(m.settings?.models[2]?.['weight']).toEqual([{ filter: 'mlp', value: 0.5 }, { value: 0 }]);
    expect(m.settings?.global['int8_mask']).toBe(true);
    expect(job.notes).toEqual([]);
  });

  it('examples/linear.yml: no base, every model weighed', () => {
    const job = read(LINEAR);
    expect(job.base).toBeUndefined();
    expect(job.models.map((m) => m.ref)).toEqual([
      'psmathur/orca_mini_v3_13b',
      'WizardLM/WizardLM-13B-V1.2',
      'garage-bAInd/Platypus2-13B',
    ]);
    if (job.method.method !== 'mergekit') throw new Error('a mergekit spec');
    expect(job.method.models?.map((p) => p.weight)).toEqual([1, 0.3, 0.5]);
    expect(job.method.settings).toBeUndefined(); // plain numbers: no per-tensor settings
  });

  it('examples/gradient-slerp.yml: one slice, the base left out of the models, t by filter and depth', () => {
    const job = read(GRADIENT_SLERP);
    expect(job.base?.ref).toBe('psmathur/orca_mini_v3_13b');
    expect(job.models).toEqual([
      { ref: 'garage-bAInd/Platypus2-13B', name: undefined, where: 'slices[0].sources[1].model' },
    ]);
    if (job.method.method !== 'mergekit') throw new Error('a mergekit spec');
    expect(job.method.layerRange).toEqual([0, 40]);
    expect(job.method.settings?.global['t']).toHaveLength(3);
  });

  it('a model given by name only, and a name: for the task', () => {
    const job = read('merge_method: ties\nbase_model: b\nmodels:\n  - a\n  - {model: c, name: cee}\n');
    expect(job.models).toEqual([
      { ref: 'a', where: 'models[0]' },
      { ref: 'c', where: 'models[1].model', name: 'cee' },
    ]);
  });
});

describe('mergekit settings and what a recipe may not do', () => {
  it('evaluate_setting: gradients, first matching filter, none matching (hand-computed)', () => {
    expect(evaluateSetting('x', [0, 1], 0.25)).toBe(0.25);
    expect(evaluateSetting('x', [1, 0.7, 0.1], 1)).toBe(0.1);
    expect(evaluateSetting('x', [2, 4, 8], 0.75)).toBe(6); // scaled 1.5: halfway from 4 to 8
    const cond = [
      { filter: 'mlp', value: 1 },
      { filter: 'attn', value: [0, 1] },
    ];
    expect(evaluateSetting('layers.1.mlp.w', cond, 0.5)).toBe(1);
    expect(evaluateSetting('layers.1.self_attn.w', cond, 0.5)).toBe(0.5);
    expect(evaluateSetting('norm.weight', cond, 0.5)).toBeUndefined();
    expect(evaluateSetting('norm.weight', [...cond, { value: 7 }], 0.5)).toBe(7);
    expect(depthOf('model.layers.3.mlp.w', 4)).toBe(1);
    expect(depthOf('model.embed_tokens.weight', 4)).toBe(0);
    expect(depthOf('transformer.h.0.attn.w', 1)).toBe(1);
  });

  it('refuses bad YAML, other methods, multi-slice merges, modules, tokenizer, unknown keys; notes tokenizer_source', () => {
    const bad = (text: string, message: string) => {
      expect(() => read(text)).toThrow(RecipeError);
      expect(() => read(text)).toThrow(message);
    };
    const src = (a: number, b: number) =>
      `{sources: [{model: x/a, layer_range: [${a}, ${b}]}, {model: x/b, layer_range: [${a}, ${b}]}]}`;
    bad('merge_method: [linear\n', 'r.yml: not valid YAML');
    bad('- just a list\n', 'r.yml: expected a mapping');
    bad('merge_method: emr\nmodels: [a, b]\n', `merge_method "emr" is not one of mergekit's`);
    bad('models: [a, b]\n', 'merge_method is missing');
    bad(
      `merge_method: slerp\nbase_model: x/a\nparameters: {t: 0.5}\nslices: [${src(0, 20)}, ${src(20, 40)}]\n`,
      'multi-slice merges',
    );
    bad(`merge_method: linear\nmodules: {}\n`, '"modules"');
    bad(`merge_method: linear\nmodels: [x/a]\ntokenizer: {source: union}\n`, '"tokenizer"');
    bad(`merge_method: linear\nmodels: [x/a]\nmerge_metod: ties\n`, 'unknown key "merge_metod"');
    bad(
      `merge_method: ties\nbase_model: b\nmodels: [{model: a, parameters: {wieght: 1}}]\n`,
      'r.yml: models[0].parameters: unknown key "wieght"',
    );
    bad(`merge_method: ties\nmodels: [x/a, x/b]\n`, 'ties needs base_model');
    bad(`merge_method: linear\nmodels: [x/a]\ndtype: float8\n`, 'dtype "float8"');
    bad(`merge_method: ties\nbase_model: b\nmodels: [b]\n`, 'no model to merge besides the base');
    const job = read(
      `merge_method: linear\nmodels: [x/a, x/b]\ntokenizer_source: union\nchat_template: chatml\n`,
    );
    expect(job.notes).toHaveLength(2);
    expect(job.notes[0]).toContain('tokenizer_source ignored');
  });
});
