// Plan: the embedded words-4 text zoo as the studio runs it, in Chromium: the tokenizer (our
// loadTokenizer over @huggingface/tokenizers) gives, for every evaluation text and pair, exactly
// the ids the zoo's Python trained and evaluated with (eval/token-ids.json), padded with [PAD] and
// a 0 mask to maxLength; the JSONL sets (and the pair task's CSV, which must read the same) tokenize
// to int64 feeds; and each task's ONNX graph run by onnxruntime-web on wasm on them reproduces the
// individual accuracy the manifest records.
import { describe, expect, it } from 'vitest';
import { openOnnx } from '../formats/onnx';
import { blobSource } from '../formats/source';
import { accuracy } from './evaluate';
import { parseTextSet, tokenizeTextSet } from './labeled-text';
import { createSession } from './ort';
import { textSpecFor } from './text-inputs';
import { loadTokenizer } from './tokenizer';

const ZOO = '/zoo/words-4/';

interface Manifest {
  input: {
    tokenizer: string;
    tokenizerConfig: string;
    maxLength: number;
    names: { ids: string; mask: string };
  };
  tasks: {
    id: string;
    onnx: string;
    eval: string;
    evalCsv?: string;
    classes: string[];
    individualAccuracy: number;
  }[];
}

async function text(path: string): Promise<string> {
  const res = await fetch(ZOO + path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.text();
}

const manifest = JSON.parse(await text('manifest.json')) as Manifest;
const tokenizer = loadTokenizer(
  { file: manifest.input.tokenizer, text: await text(manifest.input.tokenizer) },
  { file: manifest.input.tokenizerConfig, text: await text(manifest.input.tokenizerConfig) },
);
const L = manifest.input.maxLength;

describe('words-4 zoo', () => {
  it('the tokenizer gives the ids the zoo was trained and evaluated with', async () => {
    const want = JSON.parse(await text('eval/token-ids.json')) as Record<string, number[][]>;
    expect(tokenizer.modelMaxLength).toBe(L);
    for (const task of manifest.tasks) {
      const set = parseTextSet(task.eval, await text(task.eval), task.classes);
      expect(set.rows.length).toBe(want[task.id]?.length);
      set.rows.forEach((row, i) => {
        const e = tokenizer.encode(row.text, row.pair, L);
        const ids = want[task.id]?.[i] ?? [];
        expect(e.ids, `${task.id}[${i}]`).toEqual([
          ...ids,
          ...new Array<number>(L - ids.length).fill(tokenizer.padId),
        ]);
        expect(e.mask.reduce((a, b) => a + b, 0)).toBe(ids.length);
        expect(e.truncated).toBe(false);
      });
    }
  });

  it('the pair task’s CSV reads as its JSONL does', async () => {
    for (const task of manifest.tasks.filter((t) => t.evalCsv)) {
      const csv = parseTextSet(task.evalCsv as string, await text(task.evalCsv as string), task.classes);
      const jsonl = parseTextSet(task.eval, await text(task.eval), task.classes);
      expect(csv.rows.map(({ line: _, ...r }) => r)).toEqual(jsonl.rows.map(({ line: _, ...r }) => r));
    }
  });

  for (const task of manifest.tasks) {
    it(`${task.id}: onnxruntime-web on wasm reproduces the recorded accuracy`, async () => {
      const res = await fetch(ZOO + task.onnx);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const graph = await openOnnx(blobSource(new Blob([bytes]), task.onnx));
      const spec = textSpecFor(graph.inputs, { maxLength: L, tokenizer });
      expect(spec?.names).toEqual({ ids: 'input_ids', mask: 'attention_mask', typeIds: null });
      const set = tokenizeTextSet(
        parseTextSet(task.eval, await text(task.eval), task.classes),
        tokenizer,
        spec!,
      );
      const session = await createSession(bytes, { provider: 'wasm' });
      const result = await accuracy(session, set, { batchSize: 64 });
      await session.release();
      expect(result.accuracy).toBeCloseTo(task.individualAccuracy, 6);
    });
  }
});
