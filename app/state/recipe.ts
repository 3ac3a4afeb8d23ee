// An imported mergekit recipe: read by the CLI's parser (src/merge/mergekit/recipe.ts), its models
// found among the loaded files by name (src/flow/recipe-models.ts), and merged instead of the form
// while it is imported — its method and every parameter as written (per-model values, gradients,
// filters, dtype), the models in its order — so the result is the one `merge-studio merge
// recipe.yml` gives for the same files, and the export carries the text as mergekit_config.yml.
import { matchRecipe, type LoadedModel, type RecipeMatch } from '../../src/flow/recipe-models';
import { readMergekitRecipe } from '../../src/merge/mergekit/recipe';
import { minTasksFor, type AnyMethodSpec } from '../../src/merge/methods';
import type { Selection } from '../worker/protocol';
import type { FilesState } from './files';
import { mergeStore, type ImportedRecipe } from './merge';

/** A file the load step's drop takes as a recipe: a .yml or .yaml dropped as itself, not inside a folder. */
export const isRecipeFile = (path: string): boolean => !/[/\\]/.test(path) && /\.ya?ml$/i.test(path);

/** The checkpoints a recipe may name: every readable model loaded (not a bundle, not a copy). */
export function loadedModels(checkpoints: FilesState['checkpoints']): LoadedModel[] {
  return checkpoints
    .filter((c) => c.status === 'ready' && c.role !== 'bundle' && !c.duplicateOf)
    .map((c) => ({ id: c.id, path: c.label, taskName: c.role === 'task' ? c.taskName : '' }));
}

export function recipeMatchOf(checkpoints: FilesState['checkpoints'], recipe: ImportedRecipe): RecipeMatch {
  return matchRecipe(recipe.file, recipe.job, loadedModels(checkpoints));
}

/** What Merge runs for the recipe: the worker's selection and the spec, or why it cannot. */
export function recipePlan(
  files: FilesState,
  recipe: ImportedRecipe,
): { selection: Selection; spec: AnyMethodSpec } | { error: string } {
  if (files.checkpoints.some((c) => c.status === 'opening')) return { error: 'Reading headers…' };
  const match = recipeMatchOf(files.checkpoints, recipe);
  if (!match.ok) return { error: match.message };
  const spec = recipe.job.method;
  const least = minTasksFor(spec);
  if (match.tasks.length < least)
    return {
      error: `${recipe.file}: this method needs at least ${least} models besides the base; the recipe names ${match.tasks.length}.`,
    };
  return {
    selection: {
      baseId: match.baseId,
      tasks: match.tasks.map((t) => ({ id: t.id, name: t.name })),
      recipe: recipe.text,
    },
    spec,
  };
}

/** Reads a recipe's text; its problem (the parser's, naming the key) stays beside the import control. */
export function importRecipeText(file: string, text: string): void {
  try {
    const job = readMergekitRecipe(text, file);
    mergeStore.setState({ recipe: { file, text, job }, recipeError: undefined });
  } catch (e) {
    mergeStore.setState({ recipeError: e instanceof Error ? e.message : String(e) });
  }
}

export async function importRecipeFile(file: Blob, name: string): Promise<void> {
  let text: string;
  try {
    text = await file.text();
  } catch (e) {
    mergeStore.setState({ recipeError: `${name}: could not be read (${String(e)})` });
    return;
  }
  importRecipeText(name, text);
}

/** Back to the method form. */
export function dropRecipe(): void {
  mergeStore.setState({ recipe: undefined, recipeError: undefined });
}
