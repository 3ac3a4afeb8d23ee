// What inference runs on besides the models: the graphs the user gave (by task, or '*' for every
// task), the labeled sets (tensors, feeds, or texts tokenized for the task's graph when they run),
// and the tokenizer. Samples of a labeled set come from here too.
import type { OnnxCheckpoint } from '../../src/formats/onnx';
import type { Checkpoint } from '../../src/formats/tensor';
import type { LabeledSet } from '../../src/inference/evaluate';
import { readLabeledSet } from '../../src/inference/labeled';
import { parseTextSet, tokenizeTextSet, type TextRows } from '../../src/inference/labeled-text';
import type { Feed } from '../../src/inference/ort';
import { textSpecFor, type TextSpec, type TextTokenizer } from '../../src/inference/text-inputs';
import { errorMessage } from './cancellable';
import type { AttachOutcome, PathedFile, RowImages, SampleOutcome, TextOptions } from './protocol';

export interface GivenGraph {
  readonly checkpoint: OnnxCheckpoint;
  readonly file: string;
}

export class InferenceInputs {
  /** Graphs given by the user, by task name ('*' = every task without its own). */
  readonly graphs = new Map<string, GivenGraph>();
  readonly labeled = new Map<string, { set: LabeledSet; file: string }>();
  /** Labeled sets of texts, by task: tokenized for the task's graph when they run. */
  readonly textSets = new Map<string, TextRows & { images?: RowImages }>();
  tokenizer:
    { tokenizer: TextTokenizer; file: string; config: string | null; options: TextOptions } | undefined;

  /** Uses an opened ONNX checkpoint as the graph of a task (or of every task: '*'). */
  attachGraph(checkpoint: Checkpoint | undefined, id: string, task: string): AttachOutcome {
    if (!checkpoint) return { ok: false, message: 'That file is not open.' };
    if (checkpoint.format !== 'onnx')
      return { ok: false, message: `${checkpoint.files[0]}: a graph must be an .onnx file.` };
    this.graphs.set(task, { checkpoint: checkpoint as OnnxCheckpoint, file: checkpoint.files[0] ?? id });
    return { ok: true };
  }

  /** Uses an opened safetensors file (`inputs` + `labels`) as a task's labeled set. */
  async attachLabeled(checkpoint: Checkpoint | undefined, id: string, task: string): Promise<AttachOutcome> {
    if (!checkpoint) return { ok: false, message: 'That file is not open.' };
    try {
      this.labeled.set(task, { set: await readLabeledSet(checkpoint), file: checkpoint.files[0] ?? id });
      return { ok: true };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** A labeled set built in the page (e.g. from a folder of images named by class). */
  attachLabeledSet(task: string, set: LabeledSet, file: string): void {
    this.textSets.delete(task);
    this.labeled.set(task, { set, file });
  }

  /**
   * A tokenizer.json (and its tokenizer_config.json, told apart by name) for every task whose graph
   * takes text; `options` (the demo's manifest) may fix the sequence length and input names.
   */
  async attachTokenizer(files: readonly PathedFile[], options: TextOptions = {}): Promise<AttachOutcome> {
    const isConfig = (f: PathedFile) => /tokenizer_config\.json$/i.test(f.path);
    const json = files.find((f) => !isConfig(f) && /\.json$/i.test(f.path));
    const config = files.find(isConfig);
    if (!json)
      return {
        ok: false,
        message: `${files.map((f) => f.path).join(', ')}: a tokenizer is a tokenizer.json (with its tokenizer_config.json)`,
      };
    try {
      // The tokenizer library is loaded on first use only: a session without text never pays for it.
      const { loadTokenizer } = await import('../../src/inference/tokenizer');
      const tokenizer = loadTokenizer(
        { file: json.path, text: await json.file.text() },
        config ? { file: config.path, text: await config.file.text() } : null,
      );
      this.tokenizer = { tokenizer, file: json.path, config: config?.path ?? null, options };
      return { ok: true };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** A multi-modal set: texts (JSONL / CSV rows naming images) and the images the page read. */
  attachTextImages(task: string, rows: TextRows, images: RowImages): void {
    this.labeled.delete(task);
    this.textSets.set(task, { ...rows, images });
  }

  /** A JSON Lines or CSV file of labeled texts as a task's labeled set. */
  async attachLabeledText(
    task: string,
    file: PathedFile,
    classes?: readonly string[],
  ): Promise<AttachOutcome> {
    try {
      const rows = parseTextSet(file.path, await file.file.text(), classes);
      this.labeled.delete(task);
      this.textSets.set(task, rows);
      return { ok: true };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** ui1: forgets every graph, labeled set and the tokenizer (Clear all). */
  clear(): void {
    this.graphs.clear();
    this.labeled.clear();
    this.textSets.clear();
    this.tokenizer = undefined;
  }

  /** The text inputs of a graph and the sequence length (textSpecFor); null: no text. */
  textSpecOf(graph: GivenGraph | undefined): TextSpec | null {
    if (!graph) return null;
    return textSpecFor(graph.checkpoint.inputs, {
      maxLength: this.tokenizer?.options.maxLength,
      names: this.tokenizer?.options.names,
      tokenizer: this.tokenizer?.tokenizer,
    });
  }

  /**
   * A run that fails on tokens names the tokenizer: token ids past a model's vocabulary (another
   * model's tokenizer.json) fail inside onnxruntime with a message about indices, not files.
   */
  withTokenizer(e: unknown, tokenized: boolean): unknown {
    if (!tokenized || !this.tokenizer) return e;
    return new Error(
      `${errorMessage(e)} — with the tokens of ${this.tokenizer.file}: is it this model's tokenizer?`,
      { cause: e },
    );
  }

  /** The tokenizer, or an error that says to add one. */
  needTokenizer(task: string): TextTokenizer {
    if (!this.tokenizer)
      throw new Error(`${task}'s graph takes text: add its tokenizer.json (with tokenizer_config.json).`);
    return this.tokenizer.tokenizer;
  }

  /** A task's labeled set as its graph runs it: a text set is tokenized for the graph here. */
  labeledOf(task: string, graph: GivenGraph | undefined): LabeledSet | undefined {
    const texts = this.textSets.get(task);
    if (!texts) return this.labeled.get(task)?.set;
    const spec = this.textSpecOf(graph);
    if (!spec) throw new Error(`${texts.file} holds texts, but ${task}'s graph takes no text input.`);
    const float = graph?.checkpoint.inputs.find((i) => i.elemType !== 'I64');
    if (float && !texts.images)
      throw new Error(`${task}'s graph also takes ${float.name}: its labeled set must name an image a row.`);
    return tokenizeTextSet(
      texts,
      this.needTokenizer(task),
      spec,
      float && texts.images ? { name: float.name, ...texts.images } : undefined,
    );
  }

  /** Sample `index` of a task's labeled set, as a batch of one. */
  sample(task: string, index: number): SampleOutcome {
    const wrap = (count: number) => ((Math.trunc(index) % count) + count) % count;
    const texts = this.textSets.get(task);
    if (texts) {
      const i = wrap(texts.rows.length);
      const row = texts.rows[i] as TextRows['rows'][number];
      const images = texts.images;
      const size = images?.sampleShape.reduce((a, b) => a * b, 1) ?? 0;
      return {
        ok: true,
        index: i,
        count: texts.rows.length,
        label: row.label,
        text: { text: row.text, pair: row.pair },
        ...(images
          ? { input: images.data.slice(i * size, (i + 1) * size), dims: [1, ...images.sampleShape] }
          : {}),
      };
    }
    const labeled = this.labeled.get(task);
    if (!labeled) return { ok: false, message: `No labeled set for ${task}.` };
    const { set } = labeled;
    const count = set.labels.length;
    const i = wrap(count);
    if ('feeds' in set)
      return {
        ok: true,
        index: i,
        count,
        label: Number(set.labels[i]),
        feeds: set.feeds.map((f) => {
          const size = f.sampleShape.reduce((a, b) => a * b, 1);
          return {
            name: f.name,
            data: f.data.slice(i * size, (i + 1) * size),
            dims: [1, ...f.sampleShape],
          } as Feed;
        }),
      };
    const size = set.sampleShape.reduce((a, b) => a * b, 1);
    return {
      ok: true,
      index: i,
      count,
      label: Number(set.labels[i]),
      input: set.inputs.slice(i * size, (i + 1) * size),
      dims: [1, ...set.sampleShape],
    };
  }
}
