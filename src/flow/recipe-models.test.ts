// Plan: a recipe's models found among loaded files by name — a file's stem, a folder, `org/name`
// against the folder `name/` or `org/name/` (more of the name wins), a Hub label with a revision —
// and refused, naming the recipe's model and the loaded names, where one matches none or two alike;
// the base left out of the models, the first model as the set's base without one, task names from
// the recipe's `name:`, else the card's.
import { describe, expect, it } from 'vitest';
import { readMergekitRecipe } from '../merge/mergekit/recipe';
import { matchRecipe, nameSegments, type LoadedModel } from './recipe-models';

const loaded = (...paths: [string, string][]): LoadedModel[] =>
  paths.map(([path, taskName], i) => ({ id: `c${i}`, path, taskName }));

const TIES = `merge_method: ties
base_model: org/base-model
models:
  - model: org/fine-a
    parameters: {weight: 0.7, density: 0.5}
  - model: ./fine-b.safetensors
    parameters: {weight: [0, 1]}
`;

describe('nameSegments', () => {
  it('names a file by its stem and a folder’s model file by its folder', () => {
    expect(nameSegments('plain.safetensors')).toEqual(['plain']);
    expect(nameSegments('zoo/org/name/model.safetensors')).toEqual(['zoo', 'org', 'name']);
    expect(nameSegments('org/name/model.safetensors.index.json')).toEqual(['org', 'name']);
    expect(nameSegments('hf://org/name@v2/model.safetensors')).toEqual(['org', 'name']);
    expect(nameSegments('../models/./fine-b.safetensors')).toEqual(['models', 'fine-b']);
    expect(nameSegments('org/name@main')).toEqual(['org', 'name']);
  });
});

describe('matchRecipe', () => {
  const job = readMergekitRecipe(TIES, 'ties.yml');

  it('finds the base and each model by folder, file or Hub name, in the recipe’s order', () => {
    const m = matchRecipe(
      'ties.yml',
      job,
      loaded(
        ['fine-b.safetensors', 'b'],
        ['base-model/model.safetensors', ''],
        ['hf://org/fine-a@main/model.safetensors', 'a'],
        ['other.safetensors', 'other'],
      ),
    );
    expect(m).toEqual({
      ok: true,
      baseId: 'c1',
      base: { ref: 'org/base-model', id: 'c1', path: 'base-model/model.safetensors' },
      tasks: [
        { ref: 'org/fine-a', id: 'c2', path: 'hf://org/fine-a@main/model.safetensors', name: 'a' },
        { ref: './fine-b.safetensors', id: 'c0', path: 'fine-b.safetensors', name: 'b' },
      ],
      leftOut: ['other'],
    });
  });

  it('prefers the model matching more of the name; refuses a tie', () => {
    const two = loaded(
      ['base-model.safetensors', ''],
      ['x/fine-a/model.safetensors', 'xa'],
      ['org/fine-a/model.safetensors', 'oa'],
      ['fine-b.safetensors', 'b'],
    );
    const m = matchRecipe('ties.yml', job, two);
    expect(m.ok && m.tasks.map((t) => t.id)).toEqual(['c2', 'c3']);
    const tie = loaded(
      ['base-model.safetensors', ''],
      ['x/fine-a/model.safetensors', 'xa'],
      ['y/fine-a.safetensors', 'ya'],
      ['fine-b.safetensors', 'b'],
    );
    const refused = matchRecipe('ties.yml', job, tie);
    expect(refused).toEqual({
      ok: false,
      message: expect.stringContaining(
        'models[0].model "org/fine-a" matches x/fine-a/model.safetensors and y/fine-a.safetensors alike',
      ),
    });
  });

  it('refuses a model that matches none, naming it and the models loaded', () => {
    const m = matchRecipe('ties.yml', job, loaded(['base.safetensors', ''], ['fine-b.safetensors', 'b']));
    expect(m.ok).toBe(false);
    if (m.ok) return;
    expect(m.message).toContain('ties.yml: base_model "org/base-model" matches none');
    expect(m.message).toContain('models[0].model "org/fine-a" matches none');
    expect(m.message).toContain('of the models loaded (base, fine-b)');
    expect(m.message).not.toContain('fine-b.safetensors" matches');
  });

  it('linear without a base: the first model stands in as the set’s base; names from the recipe', () => {
    const linear = readMergekitRecipe(
      'merge_method: linear\nmodels:\n  - {model: base, name: zero}\n  - plain\n  - {model: ge5, parameters: {weight: 2}}\n',
      'l.yml',
    );
    const m = matchRecipe(
      'l.yml',
      linear,
      loaded(['base.safetensors', ''], ['plain.safetensors', 'plain'], ['ge5.safetensors', 'ge5']),
    );
    expect(m.ok && { baseId: m.baseId, base: m.base, names: m.tasks.map((t) => t.name) }).toEqual({
      baseId: 'c0',
      base: undefined,
      names: ['zero', 'plain', 'ge5'],
    });
  });

  it('refuses a model named twice and two tasks of one name', () => {
    const twice = readMergekitRecipe(
      'merge_method: ties\nbase_model: base\nmodels: [plain, ./plain.safetensors]\n',
      't.yml',
    );
    const files = loaded(
      ['base.safetensors', ''],
      ['plain.safetensors', 'plain'],
      ['ge5.safetensors', 'ge5'],
    );
    expect(matchRecipe('t.yml', twice, files)).toEqual({
      ok: false,
      message: 't.yml: plain.safetensors is named twice among the models to merge.',
    });
    const clash = readMergekitRecipe(
      'merge_method: ties\nbase_model: base\nmodels: [{model: plain, name: x}, {model: ge5, name: X}]\n',
      't.yml',
    );
    expect(matchRecipe('t.yml', clash, files)).toEqual({
      ok: false,
      message: 't.yml: two models would both be the task "X"; give them a name: in the recipe.',
    });
  });
});
