// merge-studio inspect: each file's tensors from its headers, and with a base and two tasks or more,
// what a merge of them would share and leave out.
import { buildModelSet } from '../../merge/model-set';
import { openPath, type OpenFiles } from '../files';
import { parseTaskFlag, UsageError } from '../job';
import { alignmentListing, checkpointListing, out } from '../print';

export async function inspect(argv: string[], signal: AbortSignal, files: OpenFiles): Promise<void> {
  if (!argv.length) throw new UsageError('inspect needs at least one FILE');
  const checkpoints = await Promise.all(
    argv.map(async (p) => ({ path: p, checkpoint: await openPath(p, files) })),
  );
  for (const { path, checkpoint } of checkpoints) {
    signal.throwIfAborted();
    out(checkpointListing(path, checkpoint));
  }
  if (checkpoints.length >= 3) {
    const [base, ...tasks] = checkpoints as [(typeof checkpoints)[number], ...typeof checkpoints];
    // Informational: the alignment as it stands, with no task refused (merge refuses; see src/flow/checks.ts).
    const set = buildModelSet(
      base.checkpoint,
      tasks.map((t) => ({ name: parseTaskFlag(t.path).name, checkpoint: t.checkpoint })),
    );
    out(alignmentListing(base.path, set));
  }
}
