// `merge-studio eval … --json` in a child process: the CLI's table, the reference the page's must equal.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AccuracyTable } from '../../src/inference/table';

export async function cliEvalTable(args: readonly string[]): Promise<AccuracyTable> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['bin/merge-studio.js', 'eval', ...args, '--json'],
    { maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout) as AccuracyTable;
}
