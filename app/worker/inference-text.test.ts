// Plan: a graph that takes an image AND a text (src/inference/__fixtures__/multimodal: pixels
// [b,1,2,2] + input_ids/attention_mask [b,6]; logits = flat(pixels)·P + masked-mean(E[ids])·T + b)
// driven through the worker's service in Node with onnxruntime-web (wasm), as in the page: two
// safetensors tasks merged, the graph attached for both. The setup names its text inputs and
// length; a run asks for the tokenizer until it is attached and for the image beside the text; the
// individual column equals the formula computed here from the task's own weights; a set with one
// tensor per input, and a JSONL set whose rows carry images, both run and score; the text set
// without images is refused with why.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/formats/safetensors';
import { MemorySink } from '../../src/formats/sink';
import { WORDPIECE } from '../../src/inference/__fixtures__/wordpiece';
import { parseTextSet } from '../../src/inference/labeled-text';
import { loadTokenizer } from '../../src/inference/tokenizer';
import { methodSpec } from '../../src/merge/methods';
import { StudioService, type PathedFile } from './service';

const DIR = 'src/inference/__fixtures__/multimodal';
const L = 6;
const file = async (name: string): Promise<PathedFile> => ({
  path: name,
  file: new Blob([await readFile(join(DIR, name))]),
});

/** The fixture's float tensors, read plainly (header + little-endian F32), as the oracle's weights. */
async function weightsOf(name: string): Promise<Record<string, Float32Array>> {
  const bytes = await readFile(join(DIR, name));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString()) as Record<
    string,
    { data_offsets: number[] }
  >;
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(header)) {
    const [a, b] = v.data_offsets as [number, number];
    out[k] = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + a, bytes.byteOffset + 8 + n + b));
  }
  return out;
}

const tokenizer = loadTokenizer({ file: 'tokenizer.json', text: JSON.stringify(WORDPIECE) });

/** The graph's formula in f64 for one sample. */
function expected(w: Record<string, Float32Array>, pixels: ArrayLike<number>, text: string): number[] {
  const e = tokenizer.encode(text, null, L);
  const [P, E, T, bias] = ['pixel.weight', 'embed.weight', 'text.weight', 'head.bias'].map(
    (k) => w[k] as Float32Array,
  ) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const C = bias.length;
  const D = T.length / C;
  const pooled = new Array<number>(D).fill(0);
  const count = e.mask.reduce((a, b) => a + b, 0);
  e.ids.forEach((id, j) => {
    for (let d = 0; d < D; d++)
      pooled[d] = (pooled[d] as number) + (e.mask[j] as number) * (E[id * D + d] as number);
  });
  return Array.from({ length: C }, (_, c) => {
    let v = bias[c] as number;
    for (let i = 0; i < 4; i++) v += (pixels[i] as number) * (P[i * C + c] as number);
    for (let d = 0; d < D; d++) v += ((pooled[d] as number) / count) * (T[d * C + c] as number);
    return v;
  });
}

const TEXTS = ['the cat sat', 'the dog', 'mat on the mat', 'cats'];
const PIXELS = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));

let service: StudioService;
beforeAll(async () => {
  service = new StudioService();
  await service.open('base', await file('base.safetensors'), []);
  for (const t of ['a', 'b']) await service.open(t, await file(`${t}.safetensors`), []);
  const outcome = await service.merge(
    { baseId: 'base', tasks: ['a', 'b'].map((t) => ({ id: t, name: t })) },
    methodSpec('emr'),
    'cpu',
    () => {},
  );
  expect(outcome.ok).toBe(true);
  await service.open('graph', await file('graph.onnx'), []);
  expect(service.attachGraph('graph', '*')).toEqual({ ok: true });
}, 60_000);

describe('a graph that takes an image and a text', () => {
  it('names its text inputs, and asks for the tokenizer and the image', async () => {
    const setup = service.inferenceSetup();
    expect(setup?.tasks[0]?.text).toEqual({
      ids: 'input_ids',
      mask: 'attention_mask',
      typeIds: null,
      maxLength: L,
    });
    expect(setup?.tasks[0]?.floatInput).toBe('pixels');
    expect(setup?.tokenizer).toBeNull();
    const req = { task: 0, columns: ['individual'] as const, provider: 'wasm' as const };
    const text = { text: 'the cat', pair: null };
    expect(
      await service.infer({ ...req, text, input: PIXELS.slice(0, 4), dims: [1, 1, 2, 2] }),
    ).toMatchObject({
      ok: false,
      message: expect.stringContaining('add its tokenizer.json'),
    });
    const bad = await service.attachTokenizer([{ path: 'x/tokenizer.json', file: new Blob(['{']) }]);
    expect(bad).toMatchObject({ ok: false, message: expect.stringContaining('x/tokenizer.json: not JSON') });
    const good = await service.attachTokenizer([
      { path: 'tok/tokenizer.json', file: new Blob([JSON.stringify(WORDPIECE)]) },
      { path: 'tok/tokenizer_config.json', file: new Blob(['{"model_max_length": 99}']) },
    ]);
    expect(good).toEqual({ ok: true });
    // The graph's fixed length wins over the config's.
    expect(service.inferenceSetup()?.tasks[0]?.text?.maxLength).toBe(L);
    expect(await service.infer({ ...req, text })).toMatchObject({
      ok: false,
      message: expect.stringContaining('also takes pixels'),
    });
  });

  it('runs both inputs; the individual column is the graph’s formula on the task’s own weights', async () => {
    const w = await weightsOf('a.safetensors');
    const out = await service.infer({
      task: 0,
      text: { text: 'The cats sat', pair: null },
      input: PIXELS.slice(0, 4),
      dims: [1, 1, 2, 2],
      columns: ['individual', 'emr'],
      provider: 'wasm',
    });
    if (!out.ok) throw new Error(out.message);
    expect(out.tokens).toEqual(['[CLS]', 'the', 'cat', '##s', 'sat', '[SEP]']);
    expect(out.truncated).toBe(false);
    const want = expected(w, PIXELS.slice(0, 4), 'The cats sat');
    [...(out.outputs[0]?.values ?? [])].forEach((v, c) => expect(v).toBeCloseTo(want[c] as number, 5));
    expect([...(out.outputs[1]?.values ?? [])]).not.toEqual([...(out.outputs[0]?.values ?? [])]);
  });

  it('names the tokenizer when its ids do not fit the model (another model’s tokenizer)', async () => {
    const vocab = { ...WORDPIECE.model.vocab, zebra: 50 };
    const other = { ...WORDPIECE, model: { ...WORDPIECE.model, vocab } };
    expect(
      await service.attachTokenizer([
        { path: 'other/tokenizer.json', file: new Blob([JSON.stringify(other)]) },
      ]),
    ).toEqual({ ok: true });
    const out = await service.infer({
      task: 0,
      text: { text: 'zebra', pair: null },
      input: PIXELS.slice(0, 4),
      dims: [1, 1, 2, 2],
      columns: ['individual'],
      provider: 'wasm',
    });
    expect(out).toMatchObject({
      ok: false,
      message: expect.stringContaining(
        "with the tokens of other/tokenizer.json: is it this model's tokenizer?",
      ),
    });
    await service.attachTokenizer([
      { path: 'tok/tokenizer.json', file: new Blob([JSON.stringify(WORDPIECE)]) },
    ]);
  });

  it('scores a set with one tensor per input, and a JSONL set whose rows carry images', async () => {
    const ids = new BigInt64Array(4 * L);
    const mask = new BigInt64Array(4 * L);
    TEXTS.forEach((t, i) => {
      const e = tokenizer.encode(t, null, L);
      e.ids.forEach((id, j) => (ids[i * L + j] = BigInt(id)));
      e.mask.forEach((m, j) => (mask[i * L + j] = BigInt(m)));
    });
    const w = await weightsOf('a.safetensors');
    const argmax = (v: number[]) => v.indexOf(Math.max(...v));
    // Labels: the individual model's own answers on samples 0 and 1, another class on 2 and 3.
    const answers = TEXTS.map((t, i) => argmax(expected(w, PIXELS.subarray(i * 4, i * 4 + 4), t)));
    const labels = answers.map((a, i) => (i < 2 ? a : (a + 1) % 3));
    const sink = new MemorySink();
    const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    await writeSafetensors(sink, [
      { name: 'pixels', dtype: 'F32', shape: [4, 1, 2, 2], bytes: bytes(PIXELS) },
      { name: 'input_ids', dtype: 'I64', shape: [4, L], bytes: bytes(ids) },
      { name: 'attention_mask', dtype: 'I64', shape: [4, L], bytes: bytes(mask) },
      { name: 'labels', dtype: 'I64', shape: [4], bytes: bytes(BigInt64Array.from(labels, BigInt)) },
    ]);
    for (const t of ['a', 'b']) {
      await service.open(`set-${t}`, { path: 'qa.safetensors', file: new Blob([sink.bytes()]) }, []);
      expect(await service.attachLabeled(`set-${t}`, t)).toEqual({ ok: true });
    }
    expect(service.inferenceSetup()?.tasks[0]?.labeled).toMatchObject({ kind: 'feeds', count: 4 });
    const sample = service.sample('a', 1);
    if (!sample.ok || !sample.feeds) throw new Error('a sample of feeds is expected');
    expect(sample.feeds.map((f) => [f.name, f.dims])).toEqual([
      ['pixels', [1, 1, 2, 2]],
      ['input_ids', [1, L]],
      ['attention_mask', [1, L]],
    ]);
    const run = await service.infer({
      task: 0,
      feeds: sample.feeds,
      columns: ['individual'],
      provider: 'wasm',
    });
    if (!run.ok) throw new Error(run.message);
    expect(argmax([...(run.outputs[0]?.values ?? [])])).toBe(answers[1]);
    const req = { columns: ['individual', 'emr'] as const, routed: false, provider: 'wasm' as const };
    const fromFeeds = await service.evaluate({ ...req, columns: [...req.columns] }, () => {});
    if (!fromFeeds.ok) throw new Error(fromFeeds.message);
    expect(fromFeeds.report.rows[0]?.accuracy[0]).toBe(0.5);

    // The same rows as JSONL naming images: refused without them, scored the same with them.
    const jsonl = TEXTS.map((t, i) =>
      JSON.stringify({ image: `img/${i}.png`, text: t, label: labels[i] }),
    ).join('\n');
    for (const t of ['a', 'b'])
      expect(await service.attachLabeledText(t, { path: 'qa/set.jsonl', file: new Blob([jsonl]) })).toEqual({
        ok: true,
      });
    expect(await service.evaluate({ ...req, columns: [...req.columns] }, () => {})).toMatchObject({
      ok: false,
      message: expect.stringContaining('also takes pixels: its labeled set must name an image a row'),
    });
    const rows = parseTextSet('qa/set.jsonl', jsonl);
    for (const t of ['a', 'b']) service.attachTextImages(t, rows, { data: PIXELS, sampleShape: [1, 2, 2] });
    const textSample = service.sample('a', 2);
    expect(textSample).toMatchObject({ ok: true, text: { text: TEXTS[2], pair: null }, dims: [1, 1, 2, 2] });
    const fromText = await service.evaluate({ ...req, columns: [...req.columns] }, () => {});
    if (!fromText.ok) throw new Error(fromText.message);
    expect(fromText.report.rows).toEqual(fromFeeds.report.rows);
  });
});
