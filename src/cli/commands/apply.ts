// merge-studio apply: one task's model from an EMR bundle (or a per-task method's artefact) and its base, written by the one writer.
import { parseArgs } from 'node:util';
import { openSafetensors } from '../../formats/safetensors';
import { createNodeCpuEngine } from '../../merge/cpu/node-engine';
import { taskIndex } from '../../merge/task-model';
import { writeTaskModel } from '../../flow/write-task';
import { atomicOutput, openPath, type OpenFiles } from '../files';
import { UsageError } from '../job';
import { checkpointFiles, refuseClobbering } from '../out-paths';
import { openAnyBundle } from '../pertask';
import { out } from '../print';

export async function apply(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bundle: { type: 'string' },
      base: { type: 'string' },
      task: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.bundle || !values.base || !values.task || !values.out)
    throw new UsageError('apply needs --bundle FILE --base FILE --task NAME --out FILE');
  const bundle = await openSafetensors(await files.open(values.bundle));
  const base = await openPath(values.base, files);
  const result = await openAnyBundle(bundle, base);
  await refuseClobbering(
    [{ path: values.out, what: `the model of task ${JSON.stringify(values.task)}` }],
    [...checkpointFiles(bundle), ...checkpointFiles(base)],
  );
  const engine = files.adopt(createNodeCpuEngine());
  const file = await atomicOutput(values.out, signal);
  try {
    const t = taskIndex(result, values.task);
    // --out names the one file: never shards here, whatever the model's size.
    await writeTaskModel(result, t, engine, { shardBytes: Infinity }, async () => file.sink);
    await file.commit();
  } catch (e) {
    await file.discard();
    if (e instanceof RangeError) throw new UsageError(`--task: ${e.message}`);
    throw e;
  }
  out(`${values.task} → ${values.out}\n`);
}
