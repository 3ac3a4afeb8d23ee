// An imported mergekit recipe's models found among the files loaded in the studio, by name: the
// CLI reads a recipe's `model: org/name` as a path beside the recipe or a Hub repo
// (src/cli/job.ts); the studio has no folder beside the recipe, only the files the user added, so a
// name matches a loaded model whose path ends the same way — its model name (modelName, the name
// the export writes into mergekit_config.yml), its file or its folder. `org/name` finds the folder
// `name/` as well as `org/name/`; where two loaded models match, the one matching more of the name
// wins, and a tie is refused rather than guessed. Hub revisions (`@v2`) are not compared.
import type { RecipeJob, RecipeModel } from '../merge/mergekit/recipe';
import { modelName } from './model-folder';

/** A checkpoint loaded in the studio that a recipe may name. */
export interface LoadedModel {
  readonly id: string;
  /** Its primary file's path as loaded (inside a dropped folder, or a Hub file's `hf://` label). */
  readonly path: string;
  /** The task name on its card ('' where it is no task). */
  readonly taskName: string;
}

export interface MatchedModel {
  /** The name the recipe gives. */
  readonly ref: string;
  readonly id: string;
  readonly path: string;
}

export type RecipeMatch =
  | {
      readonly ok: true;
      /** The set's base: the recipe's base_model, or its first model where it names none (as the CLI). */
      readonly baseId: string;
      readonly base: MatchedModel | undefined;
      /** The models merged, in the recipe's order, with the task names their outputs take. */
      readonly tasks: readonly (MatchedModel & { readonly name: string })[];
      /** Loaded tasks the recipe does not name: not merged. */
      readonly leftOut: readonly string[];
    }
  | { readonly ok: false; readonly message: string };

/** A path's name segments, the last one its model name; `hf://`, revisions and `.`/`..` dropped. */
export function nameSegments(path: string): string[] {
  const parts = path
    .replace(/^hf:\/\//, '')
    .split(/[/\\]+/)
    .filter((p) => p !== '' && p !== '.' && p !== '..')
    .map((p) => p.replace(/@[^@]*$/, ''));
  if (parts.length === 0) return [];
  const name = modelName(parts.join('/'));
  const last = parts.length - 1;
  // A folder's model file ("org/name/model.safetensors") is named by its folder.
  return name === parts[last - 1] && name !== parts[last]
    ? parts.slice(0, last)
    : [...parts.slice(0, last), name];
}

/** How many trailing name segments two paths share (0: none, not even the model name). */
function shared(ref: readonly string[], loaded: readonly string[]): number {
  let n = 0;
  while (n < ref.length && n < loaded.length && ref[ref.length - 1 - n] === loaded[loaded.length - 1 - n])
    n++;
  return n;
}

type Found = { ok: true; model: LoadedModel } | { ok: false; why: string };

function find(ref: string, loaded: readonly LoadedModel[]): Found {
  const want = nameSegments(ref);
  const scored = loaded.map((m) => ({ m, n: shared(want, nameSegments(m.path)) }));
  const best = Math.max(0, ...scored.map((s) => s.n));
  const top = scored.filter((s) => s.n === best && best > 0);
  if (top.length === 1) return { ok: true, model: (top[0] as (typeof top)[number]).m };
  if (top.length === 0) return { ok: false, why: `"${ref}" matches none` };
  return { ok: false, why: `"${ref}" matches ${top.map((s) => s.m.path).join(' and ')} alike` };
}

/**
 * The recipe's models among those loaded, or why not: every model it names that matches none (or
 * several) is listed, with the names of the models loaded; nothing is merged then.
 */
export function matchRecipe(file: string, job: RecipeJob, loaded: readonly LoadedModel[]): RecipeMatch {
  const problems: string[] = [];
  const match = (m: RecipeModel): MatchedModel | undefined => {
    const found = find(m.ref, loaded);
    if (found.ok) return { ref: m.ref, id: found.model.id, path: found.model.path };
    problems.push(`${m.where} ${found.why}`);
    return undefined;
  };
  const base = job.base && match(job.base);
  const models = job.models.map((m) => ({ m, found: match(m) }));
  if (problems.length) {
    const names = loaded.map((m) => modelName(m.path));
    return {
      ok: false,
      message: `${file}: ${problems.join('; ')} of the models loaded (${names.length ? names.join(', ') : 'none yet'}). Add the model, or name it in the recipe as its file or folder is named.`,
    };
  }
  const byId = new Map(loaded.map((m) => [m.id, m]));
  const tasks = models.map(({ m, found }) => {
    const f = found as MatchedModel;
    const card = byId.get(f.id)?.taskName.trim();
    // The recipe's `name:` (as the CLI), else the card's task name, else the model's own name.
    return { ...f, name: m.name ?? (card || modelName(f.path)) };
  });
  const twice = tasks.find((t, i) => tasks.findIndex((o) => o.id === t.id) !== i);
  if (twice)
    return { ok: false, message: `${file}: ${twice.path} is named twice among the models to merge.` };
  const key = (name: string) => name.normalize('NFC').toLowerCase();
  const clash = tasks.find((t, i) => tasks.findIndex((o) => key(o.name) === key(t.name)) !== i);
  if (clash)
    return {
      ok: false,
      message: `${file}: two models would both be the task "${clash.name}"; give them a name: in the recipe.`,
    };
  const merged = new Set([...tasks.map((t) => t.id), base?.id]);
  const leftOut = loaded.filter((m) => m.taskName.trim() && !merged.has(m.id)).map((m) => m.taskName.trim());
  const first = tasks[0] as MatchedModel;
  return { ok: true, baseId: base?.id ?? first.id, base, tasks, leftOut };
}
