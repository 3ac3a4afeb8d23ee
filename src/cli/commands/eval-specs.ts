// `eval --methods`'s rows: every name `merge --method` takes, with the method flags parsed by the
// same code as merge's (../job.ts). Each flag applies to the listed methods that take its key; a key
// no listed method takes is refused, so a typo never silently leaves a row at its defaults.
import { methodParameterNames, minTasksFor, type AnyMethodSpec } from '../../merge/methods';
import { checkSlerpSet } from '../../merge/mergekit/slerp-run';
import { isPerTaskMethod } from '../../merge/pertask/spec';
import { methodByName, paramsFromFlags, UsageError, type MethodFlags } from '../job';

/** What a method takes in eval: the per-task methods' λ is chosen on the labeled sets (src/flow/pertask-eval.ts). */
function evalParameterNames(name: string, params: Record<string, unknown>): readonly string[] {
  const names = methodParameterNames(name).filter(
    (k) => !(isPerTaskMethod(name) && name !== 't_switch' && (k === 'lambda' || k === 'tall_lambda')),
  );
  // `--rescale MODE` is EMR's rescaler; `--param rescale=true|false` mergekit's L1 rescale.
  const rescale = params['rescale'];
  if (rescale === undefined || (typeof rescale === 'string') === (name === 'emr')) return names;
  return names.filter((k) => k !== 'rescale');
}

/** The flag a parameter came from, for messages. */
function flagOf(key: string, value: unknown): string {
  if (key === 'k') return '--topk';
  if (key === 'lambda' || key === 'seed' || (key === 'rescale' && typeof value === 'string'))
    return `--${key}`;
  return `--param ${key}`;
}

/** The methods' specs in the order listed, checked against the number of tasks. */
export function evalSpecs(
  names: readonly string[],
  flags: Omit<MethodFlags, 'method'>,
  numTasks: number,
): AnyMethodSpec[] {
  const params = paramsFromFlags(flags);
  const given = Object.keys(params).filter((k) => params[k] !== undefined);
  const used = new Set<string>();
  const specs = names.map((name) => {
    const takes = evalParameterNames(name, params);
    const own = Object.fromEntries(given.filter((k) => takes.includes(k)).map((k) => [k, params[k]]));
    Object.keys(own).forEach((k) => used.add(k));
    const spec = methodByName(name, own);
    try {
      if (spec.method === 'mergekit') checkSlerpSet(spec, numTasks);
      if (numTasks < minTasksFor(spec))
        throw new RangeError(`${name} needs at least ${minTasksFor(spec)} tasks; eval has ${numTasks}`);
    } catch (e) {
      throw new UsageError(`--methods ${name}: ${(e as Error).message}`);
    }
    return spec;
  });
  const unused = given.filter((k) => !used.has(k));
  if (unused.length) {
    const chosen =
      unused.some((k) => k === 'lambda' || k === 'tall_lambda') &&
      names.some((n) => isPerTaskMethod(n) && n !== 't_switch' && n !== 'tsv_c');
    throw new UsageError(
      `${unused.map((k) => flagOf(k, params[k])).join(', ')}: no method in --methods ${names.join(',')} takes ${unused.join(', ')}${chosen ? " (tall_mask's and consensus_*'s λ are chosen on the labeled sets)" : ''}`,
    );
  }
  return specs;
}
