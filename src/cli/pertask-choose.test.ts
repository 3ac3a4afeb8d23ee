// Plan: the one choice of TALL masks' λ_t and Consensus' α on labeled sets (src/flow/pertask-eval.ts
// choosePerTask), which the CLI's eval rows and the studio's "Choose λ on the labeled sets" both run,
// on two digits-8 tasks (their first 100 labeled samples): a value at its default is chosen and one
// set is kept ("as set"); the progress counts every task model scored; and the line the studio shows
// is, word for word, the one `merge-studio eval --methods tall_mask` writes to stderr.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxCheckpoint } from '../formats/onnx';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { choosable, choiceRuns, choosePerTask } from '../flow/pertask-eval';
import { readLabeledSet } from '../inference/labeled';
import { createSession } from '../inference/ort';
import { CpuEngine } from '../merge/cpu/engine';
import { buildModelSet, type ModelSet } from '../merge/model-set';
import { CONSENSUS_ALPHA_GRID } from '../merge/pertask/select';
import { perTaskSpec, TALL_LAMBDA_GRID } from '../merge/pertask/spec';
import type { LabeledSet } from '../inference/evaluate';
import { OpenFiles, openPath } from './files';
import { runCli } from './testing';

const ZOO = 'public/zoo/digits-8';
const TASKS = ['plain', 'inverted'];
let dir: string;
let files: OpenFiles;
let set: ModelSet;
let labeled: LabeledSet[];
let paths: string[];

/** The first 100 samples of a zoo eval set (inputs [300, 1, 8, 8] F32, labels I64): a faster test. */
async function firstSamples(task: string): Promise<string> {
  const c = await openPath(join(ZOO, 'eval', `${task}.safetensors`), files);
  const [inputs, labels] = ['inputs', 'labels'].map((k) => [...c.tensors.values()].find((e) => e.name === k));
  if (!inputs || !labels) throw new Error(`${task}: no inputs/labels`);
  const path = join(dir, `${task}-eval.safetensors`);
  await writeSafetensors(await fileSink(path), [
    { name: 'inputs', dtype: 'F32', shape: [100, 1, 8, 8], bytes: await inputs.data.read(0, 100 * 64 * 4) },
    { name: 'labels', dtype: 'I64', shape: [100], bytes: await labels.data.read(0, 100 * 8) },
  ]);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-choose-'));
  files = new OpenFiles();
  paths = await Promise.all(TASKS.map(firstSamples));
  const base = await openPath(join(ZOO, 'base.onnx'), files);
  const tasks = await Promise.all(
    TASKS.map(async (name) => ({ name, checkpoint: await openPath(join(ZOO, `${name}.onnx`), files) })),
  );
  set = buildModelSet(base, tasks);
  labeled = await Promise.all(paths.map(async (p) => readLabeledSet(await openPath(p, files))));
});
afterAll(async () => {
  await files.closeAll();
  await rm(dir, { recursive: true, force: true });
});

const input = (onProgress?: (done: number, total: number) => void) => ({
  set,
  engine: new CpuEngine(),
  labeled,
  graphOf: (t: number) => set.tasks[t]?.checkpoint as OnnxCheckpoint,
  createSession: (model: Uint8Array) => createSession(model, { provider: 'wasm' as const }),
  signal: new AbortController().signal,
  ...(onProgress ? { onProgress } : {}),
});

describe('choosePerTask: λ_t and α chosen on the labeled sets', () => {
  it('chooses what is at its default and keeps what is set', () => {
    expect(choosable(perTaskSpec('tall_mask'))).toEqual({ tallLambda: true, alpha: false });
    expect(choosable(perTaskSpec('tall_mask', { lambda: 0.4 }))).toEqual({ tallLambda: false, alpha: false });
    expect(choosable(perTaskSpec('tall_mask', { lambda: [1, 1] }))).toEqual({
      tallLambda: false,
      alpha: false,
    });
    expect(choosable(perTaskSpec('consensus_ta'))).toEqual({ tallLambda: true, alpha: true });
    expect(choosable(perTaskSpec('consensus_ties', { lambda: 0.5 }))).toEqual({
      tallLambda: true,
      alpha: false,
    });
    expect(choosable(perTaskSpec('consensus_ta', { tall_lambda: 0.3 }))).toEqual({
      tallLambda: false,
      alpha: true,
    });
    expect(choosable(perTaskSpec('t_switch'))).toEqual({ tallLambda: false, alpha: false });
    expect(choiceRuns(perTaskSpec('consensus_ta'), { tallLambda: true, alpha: true }, 8)).toBe(
      8 * (5 + 1 + 10),
    );
  });

  it('TALL masks: the λ_t that won per task, the CLI’s own stderr line, every model scored counted', async () => {
    const ticks: [number, number][] = [];
    const choice = await choosePerTask(
      perTaskSpec('tall_mask'),
      input((d, t) => ticks.push([d, t])),
    );
    const total = TALL_LAMBDA_GRID.length * TASKS.length;
    expect(ticks).toEqual(Array.from({ length: total }, (_, i) => [i + 1, total]));
    expect(choice.tallLambda?.grid).toEqual(TALL_LAMBDA_GRID);
    expect(choice.tallLambda?.chosen).toHaveLength(2);
    choice.tallLambda?.chosen.forEach((l) => expect(TALL_LAMBDA_GRID).toContain(l));
    expect(choice.result.spec).toEqual({
      method: 'tall_mask',
      tallBase: 'task_arithmetic',
      lambda: choice.tallLambda?.chosen,
    });
    expect(choice.alpha).toBeUndefined();
    const cli = await runCli([
      'eval',
      '--base',
      join(ZOO, 'base.onnx'),
      ...TASKS.flatMap((t, i) => ['--task', `${t}=${join(ZOO, `${t}.onnx`)}`, '--eval', `${t}=${paths[i]}`]),
      ...['--methods', 'tall_mask', '--no-route', '--json'],
    ]);
    expect(cli.code).toBe(0);
    expect(cli.err).toBe(`merge-studio: ${choice.lines[0]}\n`);
  }, 300_000);

  it('Consensus with its masks’ λ_t set: α alone is chosen, over the individual models’ accuracy', async () => {
    let last: [number, number] | undefined;
    const spec = perTaskSpec('consensus_ta', { tall_lambda: 0.4 });
    const choice = await choosePerTask(
      spec,
      input((d, t) => (last = [d, t])),
    );
    const total = TASKS.length * (1 + CONSENSUS_ALPHA_GRID.length);
    expect(last).toEqual([total, total]);
    expect(choice.tallLambda).toBeUndefined();
    expect(CONSENSUS_ALPHA_GRID).toContain(choice.alpha?.chosen);
    expect(choice.result.spec).toMatchObject({ tallLambda: 0.4, lambda: choice.alpha?.chosen, k: 2 });
    expect(choice.lines).toEqual([
      `consensus_ta: α chosen on the labeled sets from {0.1, …, 1}: ${choice.alpha?.chosen}`,
    ]);
  }, 300_000);
});
