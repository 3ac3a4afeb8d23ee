// Plan: the page's side of an imported recipe, without a worker: a parse error stays beside the
// control and leaves a recipe imported before in place; the plan is the worker's selection (the
// recipe's models in its order, its text along) or why not (headers still being read, a model
// missing, too few models for the method); a changed recipe makes the result on screen out of date;
// only a .yml dropped as a file of its own is taken for a recipe.
import { beforeEach, describe, expect, it } from 'vitest';
import { initialFiles, type FilesState, type LoadedCheckpoint } from './files';
import { initialMerge, mergeStore } from './merge';
import { dropRecipe, importRecipeText, isRecipeFile, recipePlan } from './recipe';
import { mergeInputs } from './stale';

const card = (
  id: string,
  label: string,
  role: 'base' | 'task',
  status: LoadedCheckpoint['status'] = 'ready',
) =>
  ({
    id,
    label,
    paths: [label],
    status,
    role,
    taskName: role === 'task' ? label.replace(/\..*$/, '') : '',
  }) as const;

const files = (...checkpoints: LoadedCheckpoint[]): FilesState => ({ ...initialFiles, checkpoints });
const LOADED = files(
  card('b', 'base.safetensors', 'base'),
  card('p', 'plain.safetensors', 'task'),
  card('g', 'ge5.safetensors', 'task'),
);
const TIES =
  'merge_method: ties\nbase_model: base\nmodels:\n  - model: ge5\n    parameters: {weight: [0, 1]}\n  - plain\n';

beforeEach(() => mergeStore.setState(initialMerge, true));

describe('an imported recipe on the page', () => {
  it('keeps the parser’s error beside the control, and the recipe imported before', () => {
    importRecipeText('good.yml', TIES);
    importRecipeText('bad.yml', 'merge_method: ties\nbase_model: base\nmodels: [a]\nparamters: {}\n');
    expect(mergeStore.getState().recipeError).toContain('bad.yml: unknown key "paramters"');
    expect(mergeStore.getState().recipe?.file).toBe('good.yml');
    dropRecipe();
    expect(mergeStore.getState()).toMatchObject({ recipe: undefined, recipeError: undefined });
  });

  it('plans the worker’s selection in the recipe’s order, or says why not', () => {
    importRecipeText('r.yml', TIES);
    const recipe = mergeStore.getState().recipe;
    if (!recipe) throw new Error('imported');
    expect(recipePlan(LOADED, recipe)).toEqual({
      selection: {
        baseId: 'b',
        tasks: [
          { id: 'g', name: 'ge5' },
          { id: 'p', name: 'plain' },
        ],
        recipe: TIES,
      },
      spec: recipe.job.method,
    });
    const opening = files(...LOADED.checkpoints, card('x', 'x.safetensors', 'task', 'opening'));
    expect(recipePlan(opening, recipe)).toEqual({ error: 'Reading headers…' });
    expect(recipePlan(files(card('b', 'base.safetensors', 'base')), recipe)).toEqual({
      error: expect.stringContaining('r.yml: models[0].model "ge5" matches none'),
    });
    importRecipeText('one.yml', 'merge_method: ties\nbase_model: base\nmodels: [plain]\n');
    const one = mergeStore.getState().recipe;
    expect(one && recipePlan(LOADED, one)).toEqual({
      error: 'one.yml: this method needs at least 2 models besides the base; the recipe names 1.',
    });
    importRecipeText(
      'slerp.yml',
      'merge_method: slerp\nbase_model: base\nmodels: [base, plain]\nparameters: {t: 0.3}\n',
    );
    const slerp = mergeStore.getState().recipe;
    expect(slerp && 'selection' in recipePlan(LOADED, slerp)).toBe(true);
  });

  it('a changed recipe (or none) is another merge’s input', () => {
    importRecipeText('r.yml', TIES);
    const before = mergeInputs(LOADED, mergeStore.getState(), 'merge');
    importRecipeText('r.yml', TIES.replace('[0, 1]', '[0, 0.5]'));
    expect(mergeInputs(LOADED, mergeStore.getState(), 'merge')).not.toBe(before);
    dropRecipe();
    expect(mergeInputs(LOADED, mergeStore.getState(), 'merge')).not.toBe(before);
  });

  it('takes a .yml dropped as itself for a recipe, not one inside a folder', () => {
    expect(isRecipeFile('merge.yml')).toBe(true);
    expect(isRecipeFile('Recipe.YAML')).toBe(true);
    expect(isRecipeFile('merged-model/mergekit_config.yml')).toBe(false);
    expect(isRecipeFile('model.safetensors')).toBe(false);
  });
});
