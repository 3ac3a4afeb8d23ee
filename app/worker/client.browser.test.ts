// Plan: the studio worker behind app/worker/client.ts, in real Chromium, dying — closed from
// inside (the page learns it only through its Web Lock life line, as after a crash) or terminated.
// A call in flight fails at once with StudioWorkerDiedError instead of waiting forever; the next
// call starts a fresh worker with the same files opened again; a call that needs the result (an
// export) gets the last merge made again, byte for byte; a merge retried gives the same λ.
import { proxy } from 'comlink';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/formats/safetensors';
import { MemorySink } from '../../src/formats/sink';
import { methodSpec } from '../../src/merge/methods';
import { killStudioWorker, studioWorker, StudioWorkerDiedError } from './client';

async function model(seed: number): Promise<Blob> {
  let s = seed + 1;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31 - 0.5);
  const values = Float32Array.from(
    { length: 1 << 16 },
    (_, i) => Math.sin(i) * 0.1 + (seed ? rand() * 0.01 : 0),
  );
  const sink = new MemorySink();
  await writeSafetensors(sink, [
    { name: 'w', dtype: 'F32', shape: [256, 256], bytes: new Uint8Array(values.buffer) },
  ]);
  return new Blob([sink.bytes()]);
}

const selection = { baseId: 'base', tasks: ['a', 'b', 'c'].map((id) => ({ id, name: id })) };

async function exported(): Promise<Uint8Array> {
  const e = await studioWorker().export({ kind: 'task', task: 1 }, { kind: 'blob' });
  if (!e.ok || !e.blob) throw new Error('no export');
  return new Uint8Array(await e.blob.arrayBuffer());
}

describe('the studio worker dying', () => {
  it('fails the calls in flight, and a fresh worker takes over with the same files and result', async () => {
    const worker = studioWorker();
    for (const [i, id] of ['base', 'a', 'b', 'c'].entries())
      expect((await worker.open(id, { path: `${id}.safetensors`, file: await model(i) }, [])).ok).toBe(true);
    const first = await worker.merge(
      selection,
      methodSpec('emr'),
      'cpu',
      proxy(() => {}),
    );
    if (!first.ok) throw new Error(first.message);
    const bytes = await exported();

    // Closed from inside while idle: the next call never reaches it, and fails at once.
    killStudioWorker('close');
    await expect(exported()).rejects.toBeInstanceOf(StudioWorkerDiedError);
    // A fresh worker: files opened again and the merge made again before the export.
    expect(await exported()).toEqual(bytes);

    // Mid-merge (a few-KiB budget: thousands of chunks), closed from inside.
    await worker.setBudget(4096);
    let started!: () => void;
    const progressed = new Promise<void>((resolve) => (started = resolve));
    const slow = worker.merge(
      selection,
      methodSpec('emr'),
      'cpu',
      proxy(() => started()),
    );
    await progressed;
    killStudioWorker('close');
    const error = await slow.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioWorkerDiedError);
    expect((error as Error).message).toMatch(/^The studio's worker stopped \(it was closed or crashed\)/);

    // The retry: a fresh worker, the same λ; the export still the first merge's bytes.
    await worker.setBudget(undefined);
    const again = await worker.merge(
      selection,
      methodSpec('emr'),
      'cpu',
      proxy(() => {}),
    );
    if (!again.ok) throw new Error(again.message);
    expect(again.summary.tasks.map((t) => t.lambda)).toEqual(first.summary.tasks.map((t) => t.lambda));
    expect(again.summary.id).not.toBe(first.summary.id);
    expect(await exported()).toEqual(bytes);

    // Terminated by the page mid-call.
    const pending = worker.merge(
      selection,
      methodSpec('ta'),
      'cpu',
      proxy(() => {}),
    );
    killStudioWorker('terminate');
    await expect(pending).rejects.toBeInstanceOf(StudioWorkerDiedError);
    expect(await exported()).toEqual(bytes);
  });
});
