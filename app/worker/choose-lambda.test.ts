// Plan: "Choose λ on the labeled sets" driven through the worker's service in Node, with
// onnxruntime-web (wasm) as in the page, on two digits-8 tasks opened as their .onnx files (their
// own graphs) with the zoo's labeled sets: TALL masks at its defaults gets λ_t per task from the
// grid; Consensus TA with α set keeps it ("as set") and gets its masks' λ_t; the chosen results
// stand in for the kept ones (the switcher, Inspect's densities and mask image, Evaluate's labels), a result with nothing left
// to choose is refused, a new merge of the method lets the chosen one go under the page's id, and a
// cancelled choice leaves the kept results as they were.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeMethod } from '../../src/merge/methods';
import { perTaskSpec, TALL_LAMBDA_GRID } from '../../src/merge/pertask/spec';
import { CONSENSUS_ALPHA_GRID } from '../../src/merge/pertask/select';
import type { LambdaProgress } from './choose-protocol';
import type { MergeSummary } from './protocol';
import { StudioService, type PathedFile } from './service';

const ZOO = 'public/zoo/digits-8';
const TASKS = ['plain', 'inverted'];
const zooFile = async (path: string): Promise<PathedFile> => ({
  path,
  file: new Blob([await readFile(join(ZOO, path))]),
});
const selection = { baseId: 'base', tasks: TASKS.map((id) => ({ id, name: id })) };

let service: StudioService;
async function merged(method: 'tall_mask' | 'consensus_ta', params = {}): Promise<MergeSummary> {
  const outcome = await service.merge(selection, perTaskSpec(method, params), 'cpu', () => {});
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.summary;
}

beforeAll(async () => {
  service = new StudioService();
  await service.open('base', await zooFile('base.onnx'), []);
  for (const t of TASKS) {
    await service.open(t, await zooFile(`${t}.onnx`), []);
    await service.open(`eval-${t}`, await zooFile(`eval/${t}.safetensors`), []);
    expect(await service.attachLabeled(`eval-${t}`, t)).toEqual({ ok: true });
  }
}, 60_000);

describe('choosing λ on the labeled sets in the studio worker', () => {
  it('chooses what is at its default, keeps what is set, and the chosen results stand in for the kept ones', async () => {
    const tall = await merged('tall_mask');
    const consensus = await merged('consensus_ta', { lambda: 0.5 });
    const progress: LambdaProgress[] = [];
    const outcome = await service.chooseLambdas({ ids: [tall.id, consensus.id], provider: 'wasm' }, (p) =>
      progress.push(p),
    );
    if (!outcome.ok) throw new Error(outcome.message);
    const [t, c] = outcome.chosen;
    const total = 2 * TALL_LAMBDA_GRID.length * TASKS.length;
    expect(progress.at(-1)).toEqual({ done: total, total, id: consensus.id });
    expect(t?.replaces).toBe(tall.id);
    expect(t?.tallLambda?.grid).toEqual(TALL_LAMBDA_GRID);
    t?.tallLambda?.chosen.forEach((l) => expect(TALL_LAMBDA_GRID).toContain(l));
    expect(t?.summary.spec).toEqual({ ...tall.spec, lambda: t?.tallLambda?.chosen });
    expect(t?.summary.tasks.map((s) => s.perTask?.lambda)).toEqual(t?.tallLambda?.chosen);
    expect(t?.lines).toEqual([
      `tall_mask: λ_t chosen on the labeled sets from {0.2, 0.3, 0.4, 0.5, 0.6}: ${TASKS.map((n, i) => `${n} ${t?.tallLambda?.chosen[i]}`).join(', ')}`,
    ]);
    // α was set: kept as it is; only the masks' λ_t are chosen.
    expect(c?.alpha).toBeUndefined();
    expect(c?.summary.spec).toMatchObject({ lambda: 0.5, tallLambda: c?.tallLambda?.chosen });
    expect(c?.lines).toHaveLength(1);

    // The consensus result was on screen: its chosen one is now, under the new id.
    expect(service.inferenceSetup()?.heldId).toBe(c?.summary.id);
    const labels = service.inferenceSetup()?.columns.map((col) => col.label);
    expect(labels).toContain(describeMethod(c?.summary.spec as MergeSummary['spec']));
    expect(labels).toContain(describeMethod(t?.summary.spec as MergeSummary['spec']));
    const table = await service.evaluate(
      { columns: [`kept:${t?.summary.id as number}`], routed: false, provider: 'wasm' },
      () => {},
    );
    if (!table.ok) throw new Error(table.message);
    expect(table.report.rows.map((r) => r.method)).toEqual([
      describeMethod(t?.summary.spec as MergeSummary['spec']),
    ]);
    expect((await service.chooseResult(t?.summary.id as number)).summary).toEqual(t?.summary);
    expect((await service.chooseResult(tall.id)).summary).toEqual(t?.summary);
    // Inspect reads the chosen masks: λ_t ≤ 0.6 < 1 keeps more of each task's weights.
    t?.summary.tasks.forEach((task, i) =>
      expect(task.perTask?.density).toBeGreaterThan(tall.tasks[i]?.perTask?.density as number),
    );
    const tensor = t?.summary.tensors[0]?.name as string;
    const image = await service.maskImage({ tensor, task: 0, mode: 'mask', maxCells: 4096 });
    expect(image?.rows).toBeGreaterThan(0);

    // Nothing left to choose on a chosen result.
    const again = await service.chooseLambdas({ ids: [t?.summary.id as number], provider: 'wasm' }, () => {});
    expect(again).toMatchObject({
      ok: false,
      cancelled: false,
      message: expect.stringContaining('nothing left'),
    });

    // A new merge of TALL masks lets the chosen one go, by the id the page knows it by.
    const outcome2 = await service.merge(selection, perTaskSpec('tall_mask'), 'cpu', () => {});
    expect(outcome2).toMatchObject({ ok: true, dropped: [t?.summary.id] });
    expect(service.inferenceSetup()?.columns.map((col) => col.label)).not.toContain(
      describeMethod(t?.summary.spec as MergeSummary['spec']),
    );
  }, 300_000);

  it('a cancelled choice says so and leaves the kept results as they were', async () => {
    const consensus = await merged('consensus_ta');
    const running = service.chooseLambdas({ ids: [consensus.id], provider: 'wasm' }, () => {});
    service.cancelChoose();
    expect(await running).toMatchObject({ ok: false, cancelled: true });
    expect((await service.chooseResult(consensus.id)).summary).toEqual(consensus);
    expect(service.inferenceSetup()?.heldId).toBe(consensus.id);
    expect(CONSENSUS_ALPHA_GRID).toHaveLength(10);
  }, 120_000);
});
