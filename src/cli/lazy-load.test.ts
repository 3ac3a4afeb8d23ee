// What a command loads is measured from outside: the CLI runs in a child process with a module
// hook that records every module it resolves, and the test reads those files. A safetensors merge
// must never load the ONNX reader and writer (protobufjs and the ONNX schema: ~30 ms of every
// start-up, src/formats/open.ts); an ONNX file must (the control, so the check can fail). Built
// chunks (dist-cli/) keep esbuild's `// node_modules/protobufjs/…` comments; sources import it by name.
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInputs } from './cli-fixtures';

const BIN = fileURLToPath(new URL('../../bin/merge-studio.js', import.meta.url));
const ONNX = fileURLToPath(new URL('../formats/onnx/__fixtures__/mlp.onnx', import.meta.url));

// Registered before the CLI's own code: logs each resolved file URL to $MS_LOADED_LOG.
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.startsWith('file:')) appendFileSync(process.env.MS_LOADED_LOG, r.url + '\\n');
  return r;
}`;

let dir: string;
let hook: string;
beforeAll(async () => {
  dir = await cliInputs();
  hook = join(dir, 'log-modules.mjs');
  const hooks = `data:text/javascript,${encodeURIComponent(HOOKS)}`;
  await writeFile(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(hooks)});\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the CLI in a child process; returns its exit code and the files of the modules it loaded. */
async function loadedBy(
  args: string[],
  log: string,
): Promise<{ code: number | null; files: string[]; err: string }> {
  const child = spawn(process.execPath, ['--import', hook, BIN, ...args], {
    env: { ...process.env, MS_LOADED_LOG: log },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const urls = new Set((await readFile(log, 'utf8')).split('\n').filter(Boolean));
  return { code, files: [...urls].map((u) => fileURLToPath(u)), err };
}

/** protobufjs bundled into a chunk, or imported by a source file. */
const PROTOBUF = /node_modules\/protobufjs\/|from ['"]protobufjs/;

/** The files whose text matches `re`. */
const holding = async (files: string[], re: RegExp) =>
  (await Promise.all(files.map(async (f) => (re.test(await readFile(f, 'utf8')) ? f : undefined)))).filter(
    (f) => f !== undefined,
  );

describe('modules a command loads', () => {
  it('a safetensors merge loads no ONNX code', async () => {
    const tasks = ['alpha', 'beta', 'gamma'].flatMap((t) => [
      '--task',
      `${t}=${join(dir, `${t}.safetensors`)}`,
    ]);
    const run = await loadedBy(
      [
        'merge',
        '--base',
        join(dir, 'base.safetensors'),
        ...tasks,
        '--engine',
        'cpu',
        '--out',
        join(dir, 'out'),
      ],
      join(dir, 'merge.log'),
    );
    expect(run.err).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    // The hook saw the command's own code (a name in src/cli/commands/merge.ts, kept by the bundle).
    expect(await holding(run.files, /TASKS_WRITTEN_AT_ONCE/)).not.toEqual([]);
    expect(await holding(run.files, PROTOBUF)).toEqual([]);
  }, 60_000);

  it('an ONNX file does load it (the control)', async () => {
    const run = await loadedBy(['inspect', ONNX], join(dir, 'inspect.log'));
    expect(run.code).toBe(0);
    expect(await holding(run.files, PROTOBUF)).not.toEqual([]);
  }, 60_000);
});
