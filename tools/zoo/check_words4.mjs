// Checks a text zoo written by make_words4.py (public/zoo/words-4) or make_digitsqa.py
// (public/zoo/digits-qa) from the JavaScript side:
//  1. @huggingface/tokenizers reads tokenizer.json + tokenizer_config.json and gives, for every
//     evaluation example (text and pair), exactly the ids the Python side trained and evaluated with
//     (eval/token-ids.json);
//  2. ONNX Runtime (onnxruntime-web's WebAssembly backend, in Node) runs every task's graph on its
//     evaluation set, padded to maxLength, and gets the accuracy manifest.json records.
// Usage: node tools/zoo/check_words4.mjs [ZOO_DIR]     (default public/zoo/words-4)
// TOKENIZERS=/path/to/tokenizers.mjs picks another copy of the library (e.g. one installed in /tmp).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = resolve(process.argv[2] ?? 'public/zoo/words-4');
const lib = process.env.TOKENIZERS
  ? await import(pathToFileURL(resolve(process.env.TOKENIZERS)).href)
  : await import('@huggingface/tokenizers');
const read = (f) => readFileSync(join(dir, f), 'utf8');
const manifest = JSON.parse(read('manifest.json'));
// words-4: one text input; digits-qa: an image and a text input.
const text = manifest.input ?? manifest.inputs.find((i) => i.kind === 'text');
const image = manifest.inputs?.find((i) => i.kind === 'image');
const tok = new lib.Tokenizer(JSON.parse(read(text.tokenizer)), JSON.parse(read(text.tokenizerConfig)));
const want = JSON.parse(read('eval/token-ids.json'));
const L = text.maxLength;

/** The tensors of a safetensors file (F32 and I64 only). */
function safetensors(file) {
  const buf = readFileSync(join(dir, file));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = h.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    const copy = new Uint8Array(bytes).buffer;
    out[name] = {
      shape: h.shape,
      data: h.dtype === 'I64' ? new BigInt64Array(copy) : new Float32Array(copy),
    };
  }
  return out;
}

/** Per task: the texts (and pairs) of its evaluation set and the labels. */
function examples(task) {
  if (!image)
    return read(task.eval)
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  const questions = JSON.parse(read('eval/questions.json'))[task.id];
  const labels = safetensors(task.eval).labels.data;
  return questions.map((q, i) => ({ text: q, label: Number(labels[i]) }));
}

let failures = 0;
let compared = 0;
const sets = {};
for (const task of manifest.tasks) {
  const rows = examples(task);
  sets[task.id] = rows;
  rows.forEach((row, i) => {
    const got = tok.encode(row.text, { text_pair: row.text_pair ?? null }).ids;
    compared++;
    if (JSON.stringify(got) !== JSON.stringify(want[task.id][i])) {
      failures++;
      if (failures <= 5)
        console.error(
          `${task.id}[${i}] ${JSON.stringify(row)}: JS ${JSON.stringify(got)} != Python ${JSON.stringify(want[task.id][i])}`,
        );
    }
  });
}
console.log(`tokenizer: ${compared - failures}/${compared} evaluation examples give the Python ids`);

const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
let accFailures = 0;
for (const task of manifest.tasks) {
  const rows = sets[task.id];
  const session = await ort.InferenceSession.create(readFileSync(join(dir, task.onnx)), {
    executionProviders: ['wasm'],
  });
  const ids = new BigInt64Array(rows.length * L);
  const mask = new BigInt64Array(rows.length * L);
  rows.forEach((row, i) => {
    const e = tok.encode(row.text, { text_pair: row.text_pair ?? null }).ids;
    e.forEach((id, j) => {
      ids[i * L + j] = BigInt(id);
      mask[i * L + j] = 1n;
    });
  });
  const feeds = {
    [text.names.ids]: new ort.Tensor('int64', ids, [rows.length, L]),
    [text.names.mask]: new ort.Tensor('int64', mask, [rows.length, L]),
  };
  if (image) {
    const px = safetensors(task.eval).pixels;
    feeds[image.name] = new ort.Tensor('float32', px.data, px.shape);
  }
  const out = await session.run(feeds);
  const logits = out[manifest.output.name].data;
  const C = task.classes.length;
  let correct = 0;
  rows.forEach((row, i) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
    if (best === row.label) correct++;
  });
  const acc = correct / rows.length;
  const ok = Math.abs(acc - task.individualAccuracy) < 1e-6;
  if (!ok) accFailures++;
  console.log(
    `${task.id}: ONNX Runtime accuracy ${acc.toFixed(6)}, manifest ${task.individualAccuracy} ${ok ? 'ok' : 'MISMATCH'}`,
  );
}
if (failures || accFailures) process.exit(1);
