// Plan: sets given for every task at once go to the task they are named after — by file name as
// the demo zoos lay out eval/, or by folder — and what matches no task (or a task twice) is refused
// by name; image folders split per task folder, with paths from the task folder on.
import { describe, expect, it } from 'vitest';
import { matchImageFolders, matchSetFiles } from './eval-match';

const files = (...paths: string[]) => paths.map((path) => ({ path }));
const TASKS = ['plain', 'rotated', 'samelang'];

describe('matchSetFiles', () => {
  it('matches eval/<task>.<ext> and <task>/<file> to the tasks, refusing the rest by name', () => {
    const m = matchSetFiles(
      files(
        'eval/plain.safetensors',
        'eval/Rotated/set.safetensors',
        'eval/samelang.csv',
        'eval/samelang.jsonl',
        'eval/mnist.safetensors',
        'eval/README.md',
      ),
      TASKS,
    );
    expect(m.matched.map((x) => [x.task, x.source])).toEqual([
      ['plain', 'eval/plain.safetensors'],
      ['rotated', 'eval/Rotated/set.safetensors'],
      ['samelang', 'eval/samelang.csv'],
    ]);
    expect(m.refused).toEqual([
      { source: 'eval/samelang.jsonl', reason: 'samelang already has eval/samelang.csv' },
      {
        source: 'eval/mnist.safetensors',
        reason: 'no task is named "mnist" (the tasks: plain, rotated, samelang)',
      },
      { source: 'eval/README.md', reason: 'not a labeled set (.safetensors, .jsonl, .csv)' },
    ]);
  });
});

describe('matchImageFolders', () => {
  const rewrite = (f: { path: string }, path: string) => ({ path });
  it('splits ROOT/TASK/CLASS/x.png per task, paths from the task folder on', () => {
    const m = matchImageFolders(
      files('sets/plain/0/a.png', 'sets/plain/1/b.png', 'sets/rotated/3/c.png', 'sets/svhn/0/d.png'),
      TASKS,
      rewrite,
    );
    expect(m.matched).toEqual([
      { task: 'plain', source: 'sets/plain/', files: files('plain/0/a.png', 'plain/1/b.png') },
      { task: 'rotated', source: 'sets/rotated/', files: files('rotated/3/c.png') },
    ]);
    expect(m.refused).toEqual([
      { source: 'sets/svhn/', reason: 'no task is named "svhn" (the tasks: plain, rotated, samelang)' },
    ]);
  });
  it('takes a picked folder named after a task as that task own', () => {
    const m = matchImageFolders(files('plain/0/a.png', 'plain/7/b.png'), TASKS, rewrite);
    expect(m.matched.map((x) => [x.task, x.source, x.files.length])).toEqual([['plain', 'plain/', 2]]);
  });
});
