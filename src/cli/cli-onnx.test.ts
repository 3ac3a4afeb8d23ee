// Plan: merge with ONNX tasks end to end — each task written back as ONNX: the same graph with
// merged initializers, equal to the in-process merge.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { writeOnnx, type OnnxCheckpoint } from '../formats/onnx';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { collectBytes, taskModel } from '../merge/task-model';
import { cliInputs } from './cli-fixtures';
import { OpenFiles, openPath } from './files';
import { runCli } from './testing';

let dir: string;
beforeAll(async () => {
  dir = await cliInputs();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ONNX tasks', () => {
  it('are written back as ONNX: same graph, merged initializers', async () => {
    // A base and three tasks made from a torch-exported ONNX model by perturbing its initializers.
    const files = new OpenFiles();
    const fixture = await openPath('src/formats/onnx/__fixtures__/mlp.onnx', files);
    const onnxDir = join(dir, 'onnx');
    await mkdir(onnxDir, { recursive: true });
    let s = 3;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    for (const name of ['base', 'one', 'two', 'three']) {
      const replacements = new Map();
      for (const e of fixture.tensors.values()) {
        if (e.dtype !== 'F32') continue;
        const v = new Float32Array((await e.data.read(0, e.byteLength)).slice().buffer);
        replacements.set(
          e.name,
          new Uint8Array(v.map((x) => (name === 'base' ? x : x + rnd() * 0.01)).buffer),
        );
      }
      await writeOnnx(fixture as OnnxCheckpoint, replacements, await fileSink(join(onnxDir, `${name}.onnx`)));
    }
    await files.closeAll();
    const out = join(dir, 'out-onnx');
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(onnxDir, 'base.onnx'),
      ...['one', 'two', 'three'].flatMap((t) => ['--task', `${t}=${join(onnxDir, `${t}.onnx`)}`]),
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      'emr-bundle.safetensors',
      'one.onnx',
      'three.onnx',
      'two.onnx',
    ]);
    const check = new OpenFiles();
    const base = await openPath(join(onnxDir, 'base.onnx'), check);
    const tasks = await Promise.all(
      ['one', 'two', 'three'].map(async (name) => ({
        name,
        checkpoint: await openPath(join(onnxDir, `${name}.onnx`), check),
      })),
    );
    const engine = new CpuEngine();
    const result = await runMerge(buildModelSet(base, tasks), methodSpec('emr'), engine);
    const want = await Promise.all(
      taskModel(result, 2, engine).map(async (x) => [x.name, Array.from(await collectBytes(x))]),
    );
    const got = await openPath(join(out, 'three.onnx'), check);
    expect(got.format).toBe('onnx');
    const gotValues = await Promise.all(
      [...got.tensors.values()].map(async (e) => [e.name, Array.from(await e.data.read(0, e.byteLength))]),
    );
    expect(gotValues.sort()).toEqual(want.sort());
    await check.closeAll();
  });
});
