// `merge`'s arguments: the job (a YAML file, or --base/--task/--method flags) and its settings.
import { totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { FormatError } from '../../formats/errors';
import { DEFAULT_SHARD_BYTES } from '../../merge/sharded';
import type { OpenFiles } from '../files';
import { jobFromYaml, numberFlag, parseTaskFlag, specFromFlags, UsageError, type MergeJob } from '../job';
import { checkTaskNames } from '../out-paths';
import { say } from '../print';

export interface MergeArgs {
  readonly job: MergeJob;
  readonly outDir: string;
  readonly shardBytes: number;
  readonly budgetBytes: number | undefined;
  readonly spillOverBytes: number;
  readonly engine: string | undefined;
  readonly noBundle: boolean;
  readonly json: boolean;
}

export async function mergeArgs(argv: string[], files: OpenFiles): Promise<MergeArgs> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      base: { type: 'string' },
      task: { type: 'string', multiple: true },
      method: { type: 'string' },
      lambda: { type: 'string' },
      topk: { type: 'string' },
      rescale: { type: 'string' },
      seed: { type: 'string' },
      param: { type: 'string', multiple: true },
      out: { type: 'string' },
      budget: { type: 'string' },
      'spill-over': { type: 'string' },
      engine: { type: 'string' },
      'no-bundle': { type: 'boolean' },
      'shard-size': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.out) throw new UsageError('merge needs --out DIR');
  let job: MergeJob;
  if (positionals.length === 1) {
    if (
      values.base ||
      values.task ||
      values.method ||
      values.lambda ||
      values.topk ||
      values.rescale ||
      values.param
    ) {
      throw new UsageError('give the merge either as a YAML file or as flags, not both');
    }
    const file = positionals[0] as string;
    job = jobFromYaml(
      await files
        .readText(file)
        .catch((e: unknown) =>
          Promise.reject(e instanceof FormatError ? e : new UsageError(`${file}: cannot read it`)),
        ),
      file,
      numberFlag('seed', values.seed),
    );
  } else if (positionals.length > 1) {
    throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  } else {
    if (!values.base) throw new UsageError('merge needs --base FILE (or a YAML config)');
    job = {
      base: values.base,
      tasks: (values.task ?? []).map(parseTaskFlag),
      method: specFromFlags(values),
    };
  }
  checkTaskNames(job.tasks.map((t) => t.name));
  for (const note of job.notes ?? []) say(note);
  const shardGb = numberFlag('shard-size', values['shard-size']);
  if (shardGb !== undefined && !(shardGb > 0))
    throw new UsageError('--shard-size wants a positive number of GB');
  const budgetMb = numberFlag('budget', values.budget);
  // τ_uni and the masks stay in memory up to a quarter of it, and go to a scratch file beyond.
  const spillMb = numberFlag('spill-over', values['spill-over']);
  if (spillMb !== undefined && !(spillMb >= 0))
    throw new UsageError('--spill-over wants a number of MB (0: always spill)');
  return {
    job,
    outDir: values.out,
    shardBytes: shardGb === undefined ? DEFAULT_SHARD_BYTES : shardGb * 1e9,
    budgetBytes: budgetMb === undefined ? undefined : Math.max(1, budgetMb) * 2 ** 20,
    spillOverBytes: spillMb === undefined ? totalmem() / 4 : spillMb * 2 ** 20,
    engine: values.engine,
    noBundle: values['no-bundle'] === true,
    json: values.json === true,
  };
}
