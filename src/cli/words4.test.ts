// Plan: the words-4 text zoo (a base and 4 PEFT LoRA adapters) through `merge-studio eval`: the
// adapters are merged with every method, each task's merged model runs in its ONNX graph on its
// labeled texts (JSONL, and the pair task's CSV), tokenized with the tokenizer.json found beside the
// graph; the table reaches the individual accuracies and the merged accuracies the zoo's training
// script computed independently in torch (manifest.reference), to 0.5 %. Text input problems are
// refused in one line naming the file: no tokenizer, a corrupt set, a set of texts for an image graph.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccuracyTable } from '../inference/table';
import { runCli } from './testing';

const ZOO = 'public/zoo/words-4';

interface Manifest {
  base: { safetensors: string };
  tasks: {
    id: string;
    onnx: string;
    adapter: string;
    eval: string;
    evalCsv?: string;
    individualAccuracy: number;
  }[];
  reference: { methods: Record<string, { accuracy: Record<string, number> }> };
}

const manifest = JSON.parse(await readFile(join(ZOO, 'manifest.json'), 'utf8')) as Manifest;
const flags = (sets: (t: Manifest['tasks'][number]) => string = (t) => join(ZOO, t.evalCsv ?? t.eval)) => [
  'eval',
  '--base',
  join(ZOO, manifest.base.safetensors),
  ...manifest.tasks.flatMap((t) => [
    '--task',
    `${t.id}=${join(ZOO, t.adapter)}`,
    '--graph',
    `${t.id}=${join(ZOO, t.onnx)}`,
    '--eval',
    `${t.id}=${sets(t)}`,
  ]),
];
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-words4-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('words-4 zoo through merge-studio eval', () => {
  it('merges the LoRA adapters and reaches the accuracies the zoo recorded', async () => {
    const r = await runCli([...flags(), '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const table = JSON.parse(r.out) as AccuracyTable;
    expect(table.tasks).toEqual(manifest.tasks.map((t) => t.id));
    const row = (prefix: string) => table.rows.find((x) => x.method.startsWith(prefix))?.accuracy ?? [];
    manifest.tasks.forEach((t, i) => expect(row('Individual')[i]).toBeCloseTo(t.individualAccuracy, 6));
    const rows: Record<string, string> = {
      avg: 'Weight averaging',
      ta: 'Task Arithmetic',
      ties: 'TIES',
      emr: 'EMR-Merging',
    };
    for (const [method, prefix] of Object.entries(rows)) {
      const want = manifest.reference.methods[method]?.accuracy ?? {};
      manifest.tasks.forEach((t, i) =>
        expect(Math.abs((row(prefix)[i] ?? -1) - (want[t.id] ?? 2)), `${method} ${t.id}`).toBeLessThanOrEqual(
          0.005,
        ),
      );
    }
  }, 180_000);

  it('refuses text input problems in one line naming the file', async () => {
    const first = manifest.tasks[0] as Manifest['tasks'][number];
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text": "a house", "label": 0}\n{"text": "der hund", "lab');
    const r = await runCli(flags((t) => (t.id === first.id ? bad : join(ZOO, t.eval))));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: not JSON`));

    const noTok = await runCli([...flags(), '--tokenizer', join(dir, 'missing.json')]);
    expect(noTok.code).toBe(2);
    expect(noTok.err).toContain('there is none at');

    const badTok = join(dir, 'tokenizer.json');
    await writeFile(badTok, '{"version": "1.0"}');
    const wrong = await runCli([...flags(), '--tokenizer', badTok]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`${badTok}: no "model" section`);
  }, 60_000);
});
