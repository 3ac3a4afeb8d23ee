// Labeled sets of texts: JSON Lines (`{"text": …, "text_pair"?: …, "label": …}`, one object a line)
// or CSV with a header naming the columns text[, text_pair], label (papaparse: quoted fields,
// commas and new lines inside quotes). A label is a class index or a class name of the task.
// A multi-modal line may name an image file instead of, or beside, the text (`"image": "x.png"`).
// Every bad row is refused with the file and its line.
import Papa from 'papaparse';
import type { FeedSet, SetFeed } from './evaluate';
import { LabeledSetError } from './labeled';
import { encodeBatch, type TextSpec, type TextTokenizer } from './text-inputs';

export interface TextRow {
  readonly text: string;
  readonly pair: string | null;
  readonly label: number;
  /** A multi-modal row's image path, relative to the set's file. */
  readonly image?: string;
  /** 1-based line of the file the row starts on. */
  readonly line: number;
}

export interface TextRows {
  readonly file: string;
  readonly rows: readonly TextRow[];
  /** Every row has a text_pair (a pair task), or none has. */
  readonly pair: boolean;
}

/** Is this file name one of ours (JSON Lines or CSV)? */
export function isTextSetFile(name: string): boolean {
  return /\.(jsonl|ndjson|csv)$/i.test(name);
}

/** Parses a JSON Lines or CSV labeled set (chosen by the file name's extension). */
export function parseTextSet(file: string, content: string, classes?: readonly string[]): TextRows {
  const raw = /\.csv$/i.test(file) ? csvRecords(file, content) : jsonlRecords(file, content);
  if (!raw.length) throw new LabeledSetError(`${file}: no rows`);
  const rows = raw.map((r) => row(file, r.line, r.record, classes));
  const pair = rows[0]?.pair !== null;
  const odd = rows.find((r) => (r.pair !== null) !== pair);
  if (odd)
    throw new LabeledSetError(
      `${file}:${odd.line}: ${pair ? 'no text_pair, where the first row has one' : 'a text_pair, where the first row has none'}`,
    );
  return { file, rows, pair };
}

type Record_ = Readonly<Record<string, unknown>>;

function jsonlRecords(file: string, content: string): { line: number; record: Record_ }[] {
  const out: { line: number; record: Record_ }[] = [];
  content.split(/\r?\n/).forEach((text, i) => {
    if (!text.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new LabeledSetError(
        `${file}:${i + 1}: not JSON (${e instanceof Error ? e.message : String(e)}); each line must be one JSON object`,
      );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new LabeledSetError(`${file}:${i + 1}: each line must be one JSON object`);
    out.push({ line: i + 1, record: value as Record_ });
  });
  return out;
}

function csvRecords(file: string, content: string): { line: number; record: Record_ }[] {
  // Line numbers: papaparse gives the cursor (a character offset) after each row.
  const text = content.replace(/^\uFEFF/, '');
  const lineAt = lineCounter(text);
  const rows: { line: number; fields: string[] }[] = [];
  let cursor = 0;
  let error: string | undefined;
  Papa.parse<string[]>(text, {
    delimiter: ',',
    skipEmptyLines: 'greedy',
    step: (r, parser) => {
      const line = lineAt(cursor);
      cursor = r.meta.cursor;
      const problem = r.errors[0];
      if (problem) {
        error = `${file}:${line}: ${problem.message}`;
        parser.abort();
        return;
      }
      rows.push({ line, fields: r.data });
    },
  });
  if (error) throw new LabeledSetError(error);
  const [header, ...data] = rows;
  if (!header) return [];
  const names = header.fields.map((h) => h.trim());
  for (const need of ['text', 'label'])
    if (!names.includes(need) && !(need === 'text' && names.includes('image')))
      throw new LabeledSetError(
        `${file}:1: the header has no "${need}" column (it has ${names.join(', ')}); text[, text_pair], label are expected`,
      );
  return data.map(({ line, fields }) => {
    if (fields.length !== names.length)
      throw new LabeledSetError(
        `${file}:${line}: ${fields.length} fields where the header has ${names.length}`,
      );
    return { line, record: Object.fromEntries(names.map((n, i) => [n, fields[i]])) };
  });
}

/** 1-based line of a character offset (offsets ascending). */
function lineCounter(content: string): (offset: number) => number {
  let at = 0;
  let line = 1;
  return (offset) => {
    for (; at < offset && at < content.length; at++) if (content[at] === '\n') line++;
    // A row starts after the new line that ended the one before.
    return line;
  };
}

function row(file: string, line: number, r: Record_, classes: readonly string[] | undefined): TextRow {
  const where = `${file}:${line}`;
  const str = (key: string): string | null => {
    const v = r[key];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string') throw new LabeledSetError(`${where}: "${key}" must be a string`);
    return v;
  };
  const text = str('text');
  const image = str('image');
  if (text === null && image === null) throw new LabeledSetError(`${where}: no "text"`);
  return {
    text: text ?? '',
    pair: str('text_pair'),
    label: label(where, r.label, classes),
    ...(image !== null ? { image } : {}),
    line,
  };
}

function label(where: string, v: unknown, classes: readonly string[] | undefined): number {
  if (v === undefined || v === null || v === '') throw new LabeledSetError(`${where}: no "label"`);
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : undefined;
  if (s === undefined) throw new LabeledSetError(`${where}: "label" must be a class index or name`);
  let n: number;
  if (/^\d+$/.test(s)) n = Number(s);
  else {
    n = classes?.indexOf(s) ?? -1;
    if (n < 0)
      throw new LabeledSetError(
        classes
          ? `${where}: label "${s}" is not one of the task's classes (${classes.join(', ')})`
          : `${where}: label "${s}" is a name, and the task has no class names; use the class index`,
      );
  }
  if (classes && n >= classes.length)
    throw new LabeledSetError(
      `${where}: label ${n} is out of range (the task has ${classes.length} classes)`,
    );
  return n;
}

/**
 * A text set tokenized for a graph: its int64 inputs [M, maxLength] and the labels; with `image`,
 * a multi-modal set's images ([M, ...sample], from rowImages) go to the graph's float input.
 */
export function tokenizeTextSet(
  set: TextRows,
  tokenizer: TextTokenizer,
  spec: TextSpec,
  image?: { readonly name: string; readonly data: Float32Array; readonly sampleShape: readonly number[] },
): FeedSet {
  const feeds: SetFeed[] = encodeBatch(tokenizer, spec, set.rows).map((f) => ({
    name: f.name,
    data: f.data,
    sampleShape: [spec.maxLength],
  }));
  if (image) feeds.push(image);
  return {
    feeds,
    labels: Int32Array.from(set.rows, (r) => r.label),
    texts: set.rows.map((r) => ({ text: r.text, pair: r.pair })),
  };
}

/**
 * The images a multi-modal set's rows name, as one float tensor [M, ...sample]: each path is
 * resolved against the set file's folder, loaded (decoded and preprocessed by the caller, who has
 * the canvas) and checked to have the first image's shape. A missing image or a row without one
 * is refused with the file and line.
 */
export async function rowImages(
  set: TextRows,
  load: (path: string) => Promise<{ input: Float32Array; dims: readonly number[] }> | undefined,
  onProgress?: (done: number, total: number) => void,
): Promise<{ data: Float32Array; sampleShape: readonly number[] }> {
  const dir = set.file.includes('/') ? set.file.slice(0, set.file.lastIndexOf('/') + 1) : '';
  let data = new Float32Array(0);
  let sampleShape: readonly number[] = [];
  let size = 0;
  for (const [i, row] of set.rows.entries()) {
    const where = `${set.file}:${row.line}`;
    if (!row.image) throw new LabeledSetError(`${where}: no "image", where other rows have one`);
    const path = dir + row.image.replace(/^\.\//, '');
    const pending = load(path);
    if (!pending) throw new LabeledSetError(`${where}: image "${row.image}" is not in the folder`);
    const { input, dims } = await pending;
    if (i === 0) {
      sampleShape = dims.slice(1);
      size = input.length;
      data = new Float32Array(size * set.rows.length);
    } else if (input.length !== size)
      throw new LabeledSetError(
        `${where}: image "${row.image}" gives ${input.length} values, the first ${size}`,
      );
    data.set(input, i * size);
    onProgress?.(i + 1, set.rows.length);
  }
  return { data, sampleShape };
}
