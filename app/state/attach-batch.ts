// ui1: several labeled sets at once ("For: every task"), each given to the task it is named
// after (app/load/eval-match), with a line per set saying where it went or why it was refused.
import { matchImageFolders, matchSetFiles } from '../load/eval-match';
import type { PathedFile } from '../worker/service';
import { inferStore, type AttachLine, type InferState } from './infer';
import { attachImageFolder, attachLabeled, refreshSetup } from './infer-actions';

/**
 * Labeled-set files for a task, or for every task ('*', or several files at once): matched
 * to the tasks by name (app/load/eval-match), each attached, and a line per file saying where it
 * went or why it was refused.
 */
export async function attachLabeledFiles(files: readonly PathedFile[], target: string): Promise<void> {
  const [only] = files;
  if (only && files.length === 1 && target !== '*') return attachLabeled(only, target);
  const tasks = inferStore.getState().setup?.tasks.map((t) => t.name) ?? [];
  const { matched, refused } = matchSetFiles(files, tasks);
  const lines: AttachLine[] = [];
  for (const m of matched) {
    const [file] = m.files;
    if (!file) continue;
    await attachLabeled(file, m.task, false);
    lines.push(lineOf(inferStore.getState().attachMessage, `${m.source} → ${m.task}`));
  }
  await finishBatch(lines, refused);
}

/** A folder of image folders by class, one per task (or one task's own), matched by name. */
export async function attachImageFolders(files: readonly PathedFile[], target: string): Promise<void> {
  const tasks = inferStore.getState().setup?.tasks.map((t) => t.name) ?? [];
  if (target !== '*') return attachImageFolder(files, target);
  const { matched, refused } = matchImageFolders(files, tasks, (f, path) => ({ ...f, path }));
  const lines: AttachLine[] = [];
  for (const m of matched) {
    await attachImageFolder(m.files, m.task, false);
    lines.push(lineOf(inferStore.getState().attachMessage, `${m.source} → ${m.task}`));
  }
  await finishBatch(lines, refused);
}

const lineOf = (message: InferState['attachMessage'], success: string): AttachLine =>
  message?.ok === false ? { ok: false, text: message.text } : { ok: true, text: success };

async function finishBatch(
  lines: AttachLine[],
  refused: readonly { source: string; reason: string }[],
): Promise<void> {
  lines.push(...refused.map((r) => ({ ok: false, text: `${r.source}: refused, ${r.reason}.` })));
  const attached = lines.filter((l) => l.ok).length;
  inferStore.setState({
    attachMessage: {
      ok: attached > 0 && lines.every((l) => l.ok),
      text: `${attached} labeled set${attached === 1 ? '' : 's'} attached by task name${lines.length > attached ? `, ${lines.length - attached} refused` : ''}:`,
      lines,
    },
  });
  await refreshSetup();
}
