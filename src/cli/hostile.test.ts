// Plan: what outside reviewers tried on the command line (issue #14, part A), each case on real
// files in a temp folder (./hostile-fixtures) — a FIFO where a checkpoint or config should be
// (refused at once, never blocking), and outputs that would replace inputs or each other (refused
// before any work, naming both paths, inputs byte for byte unchanged). Paths that leave --out and
// hostile bundles: ./hostile-out.test.ts; runs that must go through or stop cleanly:
// ./hostile-runs.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenFiles } from './files';
import { hostileInputs, snapshot } from './hostile-fixtures';
import { runCli } from './testing';

let dir: string;
let inputs: string;
beforeAll(async () => {
  ({ dir, inputs } = await hostileInputs());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const base = () => join(inputs, 'base.safetensors');
const taskA = () => join(inputs, 'a.safetensors');
const taskB = () => join(inputs, 'b.safetensors');

describe('hangs', () => {
  it('a FIFO named model.safetensors, as a checkpoint, a folder entry, a YAML job or adapter config: refused at once', async () => {
    const fifos = join(dir, 'fifo');
    await mkdir(join(fifos, 'adapter'), { recursive: true });
    execFileSync('mkfifo', [
      join(fifos, 'model.safetensors'),
      join(fifos, 'job.yml'),
      join(fifos, 'adapter', 'adapter_config.json'),
    ]);
    // Before: open() waited for a writer forever, and Ctrl-C could not stop it.
    const inspect = await runCli(['inspect', join(fifos, 'model.safetensors')]);
    expect(inspect.code).toBe(1);
    expect(inspect.err).toContain(
      `${join(fifos, 'model.safetensors')}: a named pipe (FIFO), not a regular file`,
    );
    const folder = await runCli(['inspect', fifos]);
    expect(folder.err).toContain('a named pipe (FIFO)');
    const yaml = await runCli(['merge', join(fifos, 'job.yml'), '--out', join(dir, 'never')]);
    expect(yaml.code).toBe(1);
    expect(yaml.err).toContain(`${join(fifos, 'job.yml')}: a named pipe (FIFO)`);
    const adapter = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      `a=${taskA()}`,
      '--task',
      `x=${join(fifos, 'adapter')}`,
      '--out',
      join(dir, 'never'),
    ]);
    expect(adapter.code).toBe(1);
    expect(adapter.err).toContain('adapter_config.json: a named pipe (FIFO)');
    const files = new OpenFiles();
    await expect(files.readText(join(fifos, 'job.yml'))).rejects.toThrow(/not a regular file/);
    await files.closeAll();
  });
});

describe('inputs never overwritten', () => {
  it('--out at the folder holding the inputs: refused before any work, naming both paths', async () => {
    const before = await snapshot(inputs);
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      taskA(),
      '--task',
      taskB(),
      '--out',
      inputs,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${join(inputs, 'a.safetensors')} (the model of task "a") would replace the input ${taskA()}`,
    );
    expect(await snapshot(inputs)).toEqual(before);
  });

  it('a task named base with --out at the base’s folder: refused; through a link to the folder too', async () => {
    const before = await snapshot(inputs);
    await symlink(inputs, join(dir, 'link-to-in'));
    for (const out of [inputs, join(dir, 'link-to-in')]) {
      const r = await runCli([
        'merge',
        '--base',
        base(),
        '--task',
        `base=${taskA()}`,
        '--task',
        `b2=${taskB()}`,
        '--out',
        out,
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /base\.safetensors \(the model of task "base"\) would replace the input .*base\.safetensors/,
      );
    }
    expect(await snapshot(inputs)).toEqual(before);
  });

  it('an output that is a hard link to an input: refused', async () => {
    const out = join(dir, 'hard');
    await mkdir(out);
    execFileSync('ln', [taskA(), join(out, 'x.safetensors')]);
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      `x=${taskA()}`,
      '--task',
      `y=${taskB()}`,
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`would replace the input ${taskA()}`);
  });

  it('apply --out at the bundle or the base: refused, the bundle intact', async () => {
    const out = join(dir, 'for-apply');
    expect(
      (
        await runCli([
          'merge',
          '--base',
          base(),
          '--task',
          taskA(),
          '--task',
          taskB(),
          '--engine',
          'cpu',
          '--out',
          out,
        ])
      ).code,
    ).toBe(0);
    const bundle = join(out, 'emr-bundle.safetensors');
    const bytes = await readFile(bundle);
    for (const target of [bundle, base()]) {
      const r = await runCli(['apply', '--bundle', bundle, '--base', base(), '--task', 'a', '--out', target]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`would replace the input ${target}`);
    }
    expect(await readFile(bundle)).toEqual(bytes);
  });
});
