// Plan: JSON Lines and CSV text sets parse to the same rows (labels as indices or class names,
// pairs, quoted CSV fields with commas and new lines, a BOM, CRLF, blank lines); every corrupt,
// truncated or mismatched file is refused with the file and the line of the bad row; a parsed set
// tokenizes to int64 feeds [M, L] whose rows are the tokenizer's own encodings.
import { describe, expect, it } from 'vitest';
import { LabeledSetError } from './labeled';
import { isTextSetFile, parseTextSet, rowImages, tokenizeTextSet } from './labeled-text';
import { loadTokenizer } from './tokenizer';
import { WORDPIECE } from './__fixtures__/wordpiece';

const CLASSES = ['negative', 'positive'];

describe('parseTextSet', () => {
  it('reads JSON Lines with index or class-name labels, skipping blank lines', () => {
    const set = parseTextSet(
      'eval/sentiment.jsonl',
      '{"text": "the cat sat", "label": 1}\r\n\n{"text": "the dog", "label": "negative"}\n',
      CLASSES,
    );
    expect(set.pair).toBe(false);
    expect(set.rows).toEqual([
      { text: 'the cat sat', pair: null, label: 1, line: 1 },
      { text: 'the dog', pair: null, label: 0, line: 3 },
    ]);
  });

  it('reads CSV with a header, quoted fields, commas and new lines inside quotes, and a BOM', () => {
    const csv = '\uFEFFtext,text_pair,label\n"the cat, it sat",the mat,1\n"a\nb",dog,negative\nc,d,0\n';
    const set = parseTextSet('eval/nli.csv', csv, CLASSES);
    expect(set.pair).toBe(true);
    expect(set.rows.map((r) => [r.text, r.pair, r.label, r.line])).toEqual([
      ['the cat, it sat', 'the mat', 1, 2],
      ['a\nb', 'dog', 0, 3],
      ['c', 'd', 0, 5],
    ]);
  });

  it('gives JSONL and CSV of the same rows the same result', () => {
    const a = parseTextSet(
      'a.jsonl',
      '{"text":"x","text_pair":"y","label":0}\n{"text":"z","text_pair":"w","label":1}',
    );
    const b = parseTextSet('b.csv', 'label,text,text_pair\n0,x,y\n1,z,w\n');
    expect(a.rows.map(({ line: _, ...r }) => r)).toEqual(b.rows.map(({ line: _, ...r }) => r));
  });

  it('keeps a multi-modal row’s image path', () => {
    const set = parseTextSet('qa.jsonl', '{"image": "images/0.png", "text": "is it odd?", "label": 1}');
    expect(set.rows[0]).toEqual({ text: 'is it odd?', pair: null, label: 1, image: 'images/0.png', line: 1 });
  });

  const refused = (file: string, content: string, message: string, classes = CLASSES) => {
    expect(() => parseTextSet(file, content, classes)).toThrow(LabeledSetError);
    expect(() => parseTextSet(file, content, classes)).toThrow(message);
  };

  it('refuses corrupt and truncated JSON Lines with the file and line', () => {
    refused('s.jsonl', '{"text": "a", "label": 0}\n{"text": "b", "lab', 's.jsonl:2: not JSON');
    refused('s.jsonl', '{"text": "a", "label": 0}\n[1, 2]\n', 's.jsonl:2: each line must be one JSON object');
    refused('s.jsonl', '{"label": 0}', 's.jsonl:1: no "text"');
    refused('s.jsonl', '{"text": "a"}', 's.jsonl:1: no "label"');
    refused('s.jsonl', '{"text": 3, "label": 0}', 's.jsonl:1: "text" must be a string');
    refused(
      's.jsonl',
      '{"text": "a", "label": "neutral"}',
      's.jsonl:1: label "neutral" is not one of the task\'s classes',
    );
    refused(
      's.jsonl',
      '{"text": "a", "label": 2}',
      's.jsonl:1: label 2 is out of range (the task has 2 classes)',
    );
    refused('s.jsonl', '{"text": "a", "label": -1}', 's.jsonl:1: label "-1" is not one of');
    refused('s.jsonl', '{"text": "a", "label": 0.5}', 's.jsonl:1: label "0.5" is not one of');
    expect(() => parseTextSet('s.jsonl', '{"text": "a", "label": "cat"}')).toThrow(
      's.jsonl:1: label "cat" is a name, and the task has no class names',
    );
    refused('s.jsonl', '\n\n', 's.jsonl: no rows');
  });

  it('refuses a set that mixes single texts and pairs, naming the first odd line', () => {
    refused(
      'p.jsonl',
      '{"text":"a","text_pair":"b","label":0}\n{"text":"c","label":1}',
      'p.jsonl:2: no text_pair, where the first row has one',
    );
    refused(
      'p.csv',
      'text,text_pair,label\na,,0\nb,c,1\n',
      'p.csv:3: a text_pair, where the first row has none',
    );
  });

  it('refuses corrupt and truncated CSV with the file and line', () => {
    refused(
      's.csv',
      'sentence,label\na,0\n',
      's.csv:1: the header has no "text" column (it has sentence, label)',
    );
    refused('s.csv', 'text,label\na,0\nb\n', 's.csv:3: 1 fields where the header has 2');
    refused('s.csv', 'text,label\na,0\nb,1,2\n', 's.csv:3: 3 fields where the header has 2');
    refused('s.csv', 'text,label\na,0\n"b,1\n', 's.csv:3:');
    refused('s.csv', 'text,label\na,cat\n', 's.csv:2: label "cat" is not one of');
  });

  it('recognises its file names', () => {
    expect(['a.jsonl', 'b.CSV', 'c.ndjson'].map(isTextSetFile)).toEqual([true, true, true]);
    expect(['a.json', 'b.safetensors'].map(isTextSetFile)).toEqual([false, false]);
  });
});

describe('tokenizeTextSet', () => {
  it('gives int64 feeds [M, L] equal to the tokenizer’s encodings, with the labels and texts', () => {
    const tokenizer = loadTokenizer({ file: 'tokenizer.json', text: JSON.stringify(WORDPIECE) });
    const rows = parseTextSet('s.csv', 'text,text_pair,label\nthe cat,the dog,1\nsat,mat,0\n');
    const set = tokenizeTextSet(rows, tokenizer, {
      maxLength: 6,
      names: { ids: 'input_ids', mask: 'attention_mask' },
    });
    expect(set.feeds.map((f) => [f.name, f.sampleShape])).toEqual([
      ['input_ids', [6]],
      ['attention_mask', [6]],
    ]);
    const ids = [...(set.feeds[0]?.data ?? [])].map(Number);
    expect(ids.slice(0, 6)).toEqual(tokenizer.encode('the cat', 'the dog', 6).ids);
    expect(ids.slice(6)).toEqual(tokenizer.encode('sat', 'mat', 6).ids);
    expect(Array.from(set.labels)).toEqual([1, 0]);
    expect(set.texts).toEqual([
      { text: 'the cat', pair: 'the dog' },
      { text: 'sat', pair: 'mat' },
    ]);
  });
});

describe('rowImages', () => {
  const set = parseTextSet(
    'qa/set.jsonl',
    '{"image": "./images/a.png", "text": "odd?", "label": 1}\n{"image": "images/b.png", "text": "even?", "label": 0}',
  );
  const image = (v: number) => Promise.resolve({ input: Float32Array.of(v, v + 1), dims: [1, 1, 1, 2] });

  it('loads each row’s image beside the set file into one tensor, and feeds it with the texts', async () => {
    const seen: string[] = [];
    const images = await rowImages(set, (path) => {
      seen.push(path);
      return image(path.endsWith('a.png') ? 1 : 5);
    });
    expect(seen).toEqual(['qa/images/a.png', 'qa/images/b.png']);
    expect([...images.data]).toEqual([1, 2, 5, 6]);
    expect(images.sampleShape).toEqual([1, 1, 2]);
    const tokenizer = loadTokenizer({ file: 'tokenizer.json', text: JSON.stringify(WORDPIECE) });
    const fed = tokenizeTextSet(
      set,
      tokenizer,
      { maxLength: 4, names: { ids: 'ids', mask: null } },
      {
        name: 'pixels',
        ...images,
      },
    );
    expect(fed.feeds.map((f) => [f.name, f.sampleShape])).toEqual([
      ['ids', [4]],
      ['pixels', [1, 1, 2]],
    ]);
  });

  it('refuses a missing image, a row without one, and images of another size, by line', async () => {
    await expect(rowImages(set, (p) => (p.endsWith('a.png') ? image(1) : undefined))).rejects.toThrow(
      'qa/set.jsonl:2: image "images/b.png" is not in the folder',
    );
    const mixed = parseTextSet(
      'm.jsonl',
      '{"image": "a.png", "text": "x", "label": 0}\n{"text": "y", "label": 0}',
    );
    await expect(rowImages(mixed, () => image(1))).rejects.toThrow('m.jsonl:2: no "image"');
    let n = 0;
    await expect(
      rowImages(set, () => (n++ ? Promise.resolve({ input: new Float32Array(3), dims: [1, 3] }) : image(1))),
    ).rejects.toThrow('qa/set.jsonl:2: image "images/b.png" gives 3 values, the first 2');
  });
});
