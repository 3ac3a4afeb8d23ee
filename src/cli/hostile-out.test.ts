// Plan: issue #14, part A, continued (./hostile.test.ts) — task names that would leave --out, a link
// planted at the old predictable temporary name (never followed), two task names that are one file
// on a case-insensitive disk, and hostile bundles given to apply (refused naming the bundle, no
// output).
import { lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { openSafetensors, writeSafetensors } from '../formats/safetensors';
import { readTensor } from '../formats/tensor';
import { OpenFiles } from './files';
import { hostileInputs } from './hostile-fixtures';
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

describe('nothing written outside --out', () => {
  it.each([
    ['../../escaped', /contains a path separator/],
    ['emr-bundle', /reserved for the bundle's file/],
    ['', /is empty/],
    ['..', /path separator|folder reference/],
    ['.hidden', /starts with "\."/],
    ['con', /reserved device name on Windows/],
    ['a\u0007b', /control character/],
    ['x:y', /which Windows refuses/],
  ])('a YAML task named %j is refused before anything is read', async (name, message) => {
    const root = join(dir, `yaml-${Buffer.from(name).toString('hex')}`);
    await mkdir(join(root, 'deep', 'er'), { recursive: true });
    const job = join(root, 'deep', 'er', 'job.yml');
    await writeFile(
      job,
      `merge_method: emr\nbase_model: ${base()}\nmodels:\n  - {model: ${taskA()}, name: ${JSON.stringify(name)}}\n  - {model: ${taskB()}, name: other}\n`,
    );
    const r = await runCli(['merge', job, '--out', join(root, 'deep', 'er', 'out')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(await readdir(root)).toEqual(['deep']);
    expect((await readdir(join(root, 'deep', 'er'))).sort()).toEqual(['job.yml']);
  });

  it('a link planted at the old temporary name is never followed', async () => {
    const out = join(dir, 'planted');
    await mkdir(out);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'untouched');
    for (const name of [
      '.a.safetensors.partial',
      '.b.safetensors.partial',
      '.emr-bundle.safetensors.partial',
    ])
      await symlink(victim, join(out, name));
    const r = await runCli([
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
    ]);
    expect(r.code, r.err).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    const a = await openSafetensors(await new OpenFiles().open(join(out, 'a.safetensors')));
    expect([...a.tensors.keys()]).toEqual(['w', 'head']);
    expect((await readdir(out)).filter((n) => n.endsWith('.partial')).sort()).toEqual([
      '.a.safetensors.partial',
      '.b.safetensors.partial',
      '.emr-bundle.safetensors.partial',
    ]); // only the planted links, left alone
  });

  it('two task names that are one file on a case-insensitive disk: refused', async () => {
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      `Same=${taskA()}`,
      '--task',
      `same=${taskB()}`,
      '--out',
      join(dir, 'never'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('would be one file on a case-insensitive disk');
  });
});

describe('hostile bundles given to apply', () => {
  it.each([
    ['null', 'null', /the bundle's manifest: the manifest is null/],
    ['lambda "abc"', 'LAMBDA', /lambda "abc" is not a finite number/],
    [
      'tasks missing',
      '{"version":"1","method":{"method":"emr","rescale":"global"},"includesTaskSpecific":true,"shared":[]}',
      /tasks is undefined, not a list/,
    ],
  ])('%s: exit 1, the bundle named, no output', async (_, manifest, message) => {
    const out = join(dir, 'for-hostile-apply');
    await rm(out, { recursive: true, force: true });
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
    const good = await openSafetensors(await new OpenFiles().open(join(out, 'emr-bundle.safetensors')));
    const text =
      manifest === 'LAMBDA'
        ? (good.metadata.get('manifest') as string).replace(/"lambda":[^,]+/, '"lambda":"abc"')
        : manifest;
    const hostile = join(dir, 'hostile-bundle.safetensors');
    await writeSafetensors(
      await fileSink(hostile),
      await Promise.all(
        [...good.tensors.values()].map(async (e) => ({
          name: e.name,
          dtype: e.dtype,
          shape: e.shape,
          bytes: await readTensor(e),
        })),
      ),
      { format: 'merge-studio/emr-bundle', manifest: text },
    );
    const target = join(dir, 'applied.safetensors');
    const r = await runCli(['apply', '--bundle', hostile, '--base', base(), '--task', 'a', '--out', target]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${hostile}: `);
    expect(r.err).toMatch(message);
    expect(await lstat(target).catch(() => undefined)).toBeUndefined();
  });
});
