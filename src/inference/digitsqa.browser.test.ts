// Plan: the embedded digits-qa zoo (a graph with an image input AND a question's token inputs) as
// the studio runs it, in Chromium: each task's safetensors set with one tensor per graph input
// (pixels, input_ids, attention_mask) + labels runs on onnxruntime-web (wasm) and reproduces the
// individual accuracy the manifest records; the task shipped as PNG images + JSON Lines questions
// goes through the page's path (PNG decoded by the browser, preprocessed as the manifest's image
// input says, rowImages, the questions tokenized) and gives the same answers as the same rows of
// the safetensors set (the PNGs hold the pixels rounded to 8 bits: all but a few answers agree).
import { describe, expect, it } from 'vitest';
import { openOnnx } from '../formats/onnx';
import { openSafetensors } from '../formats/safetensors';
import { blobSource } from '../formats/source';
import { argmax, predict, type FeedSet } from './evaluate';
import { preprocess, preprocessingFromManifest } from './image';
import { readLabeledSet } from './labeled';
import { parseTextSet, rowImages, tokenizeTextSet } from './labeled-text';
import { createSession } from './ort';
import { textSpecFor } from './text-inputs';
import { loadTokenizer } from './tokenizer';

const ZOO = '/zoo/digits-qa/';

interface Manifest {
  inputs: (
    | { kind: 'image'; name: string; shape: (number | string | null)[] }
    | { kind: 'text'; tokenizer: string; tokenizerConfig: string; maxLength: number }
  )[];
  tasks: {
    id: string;
    onnx: string;
    eval: string;
    evalImages?: string;
    classes: string[];
    individualAccuracy: number;
  }[];
}

async function fetchOk(path: string): Promise<Response> {
  const res = await fetch(ZOO + path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res;
}

const manifest = (await (await fetchOk('manifest.json')).json()) as Manifest;
const text = manifest.inputs.find((i) => i.kind === 'text');
const image = manifest.inputs.find((i) => i.kind === 'image');
if (!text || !image) throw new Error('digits-qa: an image and a text input are expected');
const tokenizer = loadTokenizer(
  { file: text.tokenizer, text: await (await fetchOk(text.tokenizer)).text() },
  { file: text.tokenizerConfig, text: await (await fetchOk(text.tokenizerConfig)).text() },
);

async function decode(blob: Blob): Promise<ImageData> {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2-D canvas');
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

describe('digits-qa zoo', () => {
  for (const task of manifest.tasks) {
    it(`${task.id}: a set with one tensor per input reproduces the recorded accuracy`, async () => {
      const model = new Uint8Array(await (await fetchOk(task.onnx)).arrayBuffer());
      const set = await readLabeledSet(
        await openSafetensors(blobSource(await (await fetchOk(task.eval)).blob(), task.eval)),
      );
      expect('feeds' in set && set.feeds.map((f) => f.name).sort()).toEqual([
        'attention_mask',
        'input_ids',
        'pixels',
      ]);
      const session = await createSession(model, { provider: 'wasm' });
      const { logits, classes } = await predict(session, { ...(set as FeedSet), count: set.labels.length });
      await session.release();
      let right = 0;
      for (let i = 0; i < set.labels.length; i++)
        if (argmax(logits, i * classes, classes) === Number(set.labels[i])) right++;
      expect(right / set.labels.length).toBeCloseTo(task.individualAccuracy, 6);
    });
  }

  const withImages = manifest.tasks.find((t) => t.evalImages);
  it('PNG images + JSONL questions answer as the safetensors set does', async () => {
    if (!withImages?.evalImages) throw new Error('digits-qa ships no task as images + JSONL');
    const model = new Uint8Array(await (await fetchOk(withImages.onnx)).arrayBuffer());
    const graph = await openOnnx(blobSource(new Blob([model]), withImages.onnx));
    const rows = parseTextSet(
      withImages.evalImages,
      await (await fetchOk(withImages.evalImages)).text(),
      withImages.classes,
    );
    const p = preprocessingFromManifest({ input: image }, withImages.id);
    const images = await rowImages(rows, (path) =>
      fetchOk(path)
        .then((r) => r.blob())
        .then(decode)
        .then((d) => preprocess(d, p)),
    );
    const spec = textSpecFor(graph.inputs, { tokenizer });
    if (!spec) throw new Error('the graph takes no text');
    const fromPng = tokenizeTextSet(rows, tokenizer, spec, { name: image.name, ...images });
    const reference = (await readLabeledSet(
      await openSafetensors(blobSource(await (await fetchOk(withImages.eval)).blob(), withImages.eval)),
    )) as FeedSet;
    const session = await createSession(model, { provider: 'wasm' });
    const a = await predict(session, { ...fromPng, count: rows.rows.length });
    const b = await predict(session, { ...reference, count: rows.rows.length });
    await session.release();
    let same = 0;
    for (let i = 0; i < rows.rows.length; i++)
      if (argmax(a.logits, i * a.classes, a.classes) === argmax(b.logits, i * b.classes, b.classes)) same++;
    expect(Array.from(fromPng.labels)).toEqual(
      Array.from(reference.labels).slice(0, rows.rows.length).map(Number),
    );
    expect(same / rows.rows.length).toBeGreaterThanOrEqual(0.96);
  });
});
