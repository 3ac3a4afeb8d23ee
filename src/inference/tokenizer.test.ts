// Plan: a BERT-style WordPiece tokenizer.json written here (vocabulary of 12) gives the ids worked
// out by hand — lower-casing, ## sub-words, [UNK], [CLS] … [SEP] and the pair template with its
// segment ids; truncation (longest first, the pair on a tie) keeps the special tokens; padding
// fills ids with the pad id and the mask with 0; a batch is int64 [n, L]. Files that are not
// tokenizers are refused with their name. Graph inputs are recognised by name and int64 type.
import { describe, expect, it } from 'vitest';
import { WORDPIECE } from './__fixtures__/wordpiece';
import { encodeBatch, textInputsOf } from './text-inputs';
import { loadTokenizer, TokenizerError } from './tokenizer';

const CONFIG = { model_max_length: 8, pad_token: '[PAD]', unk_token: '[UNK]', do_lower_case: true };

const load = (config: object | null = CONFIG) =>
  loadTokenizer(
    { file: 'tokenizer.json', text: JSON.stringify(WORDPIECE) },
    config ? { file: 'tokenizer_config.json', text: JSON.stringify(config) } : null,
  );

describe('loadTokenizer', () => {
  it('encodes one text: lower case, sub-words, [CLS] … [SEP], padded to the length', () => {
    const e = load().encode('The cats sat.', null, 10);
    expect(e.tokens).toEqual(['[CLS]', 'the', 'cat', '##s', 'sat', '.', '[SEP]']);
    expect(e.ids).toEqual([2, 4, 5, 7, 6, 11, 3, 0, 0, 0]);
    expect(e.mask).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(e.truncated).toBe(false);
  });

  it('gives [UNK] for a word outside the vocabulary', () => {
    expect(load().encode('the zebra', null, 4).ids).toEqual([2, 4, 1, 3]);
  });

  it('encodes a pair with segment ids from the template', () => {
    const e = load().encode('the cat', 'the dog', 8);
    expect(e.ids).toEqual([2, 4, 5, 3, 4, 8, 3, 0]);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 1, 1, 1, 0]);
    expect(e.mask).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it('truncates the longer text first, the pair on a tie, and keeps the special tokens', () => {
    const t = load();
    const single = t.encode('the cat sat on the mat', null, 5);
    expect(single.tokens).toEqual(['[CLS]', 'the', 'cat', 'sat', '[SEP]']);
    expect(single.truncated).toBe(true);
    // A: the cat sat on (4), B: the dog (2); 9 − 3 specials = 6 fits; at 7, 4 tokens remain: 2 + 2.
    expect(t.encode('the cat sat on', 'the dog', 9).tokens).toEqual([
      '[CLS]',
      'the',
      'cat',
      'sat',
      'on',
      '[SEP]',
      'the',
      'dog',
      '[SEP]',
    ]);
    expect(t.encode('the cat sat on', 'the dog', 7).tokens).toEqual([
      '[CLS]',
      'the',
      'cat',
      '[SEP]',
      'the',
      'dog',
      '[SEP]',
    ]);
    // A tie (2 and 2) with one too many: the pair loses its last token.
    expect(t.encode('the cat', 'the dog', 6).tokens).toEqual([
      '[CLS]',
      'the',
      'cat',
      '[SEP]',
      'the',
      '[SEP]',
    ]);
    expect(() => t.encode('the', 'cat', 2)).toThrow(TokenizerError);
  });

  it('takes model_max_length and the pad id from the config, else from tokenizer.json', () => {
    expect(load().modelMaxLength).toBe(8);
    expect(load({ model_max_length: 1e30 }).modelMaxLength).toBeNull();
    const padded = loadTokenizer({
      file: 't.json',
      text: JSON.stringify({ ...WORDPIECE, padding: { pad_id: 3 }, truncation: { max_length: 16 } }),
    });
    expect(padded.padId).toBe(3);
    expect(padded.modelMaxLength).toBe(16);
    expect(load(null).padId).toBe(0);
  });

  it('refuses files that are not tokenizers, naming the file', () => {
    const bad = (text: string) => () => loadTokenizer({ file: 'words/tokenizer.json', text });
    expect(bad('{"model": ')).toThrow(/words\/tokenizer\.json: not JSON/);
    expect(bad('[1, 2]')).toThrow(/words\/tokenizer\.json: a JSON object/);
    expect(bad('{"version": "1.0"}')).toThrow(/words\/tokenizer\.json: no "model" section/);
    expect(bad(JSON.stringify({ ...WORDPIECE, model: { type: 'Nonsense' } }))).toThrow(
      /words\/tokenizer\.json: the tokenizer could not be built/,
    );
    expect(() =>
      loadTokenizer(
        { file: 'tokenizer.json', text: JSON.stringify(WORDPIECE) },
        { file: 'words/tokenizer_config.json', text: 'nope' },
      ),
    ).toThrow(/words\/tokenizer_config\.json: not JSON/);
  });
});

describe('encodeBatch', () => {
  it('packs texts as int64 [n, L] for the ids, mask and segment inputs the spec names', () => {
    const feeds = encodeBatch(
      load(),
      { maxLength: 5, names: { ids: 'input_ids', mask: 'attention_mask', typeIds: 'token_type_ids' } },
      [{ text: 'the cat' }, { text: 'dog', pair: 'mat' }],
    );
    expect(feeds.map((f) => f.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(feeds[0]?.dims).toEqual([2, 5]);
    expect([...(feeds[0]?.data ?? [])].map(Number)).toEqual([2, 4, 5, 3, 0, 2, 8, 3, 10, 3]);
    expect([...(feeds[1]?.data ?? [])].map(Number)).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
    expect([...(feeds[2]?.data ?? [])].map(Number)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(
      encodeBatch(load(), { maxLength: 4, names: { ids: 'ids', mask: null } }, [{ text: 'a' }]).map(
        (f) => f.name,
      ),
    ).toEqual(['ids']);
  });
});

describe('textInputsOf', () => {
  it('finds int64 ids, mask and segment inputs by name', () => {
    expect(
      textInputsOf([
        { name: 'input_ids', elemType: 'I64' },
        { name: 'attention_mask', elemType: 'I64' },
      ]),
    ).toEqual({ ids: 'input_ids', mask: 'attention_mask', typeIds: null });
    expect(
      textInputsOf([
        { name: 'pixels', elemType: 'F32' },
        { name: 'input_ids', elemType: 'I64' },
        { name: 'token_type_ids', elemType: 'I64' },
      ]),
    ).toEqual({ ids: 'input_ids', mask: null, typeIds: 'token_type_ids' });
    expect(textInputsOf([{ name: 'pixels', elemType: 'F32' }])).toBeNull();
    expect(textInputsOf([{ name: 'input_ids', elemType: 'F32' }])).toBeNull();
  });
});
