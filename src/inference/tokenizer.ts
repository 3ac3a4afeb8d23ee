// Text into a classifier's int64 inputs: a Hugging Face tokenizer.json (+ tokenizer_config.json)
// read by @huggingface/tokenizers (pure JS, no eval: it runs under the studio's CSP, in the worker
// and in Node), then truncation, padding and the attention mask, which that library leaves to its
// caller. Truncation of a pair is "longest first" as transformers' tokenizers do it: one token at
// a time off the longer text (the second on a tie), so the special tokens always fit.
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer } from './text-inputs';

export type { TextEncoding, TextSpec, TextTokenizer } from './text-inputs';

export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
}

type Json = Record<string, unknown>;

function parseJson(text: string, file: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TokenizerError(`${file}: a JSON object is expected`);
  return value as Json;
}

const tokenText = (t: unknown): string | undefined =>
  typeof t === 'string'
    ? t
    : typeof t === 'object' && t !== null && typeof (t as Json).content === 'string'
      ? ((t as Json).content as string)
      : undefined;

/**
 * Reads a tokenizer.json and its tokenizer_config.json (either may be absent: `null`). Refuses, with
 * the file's name, what is not a tokenizer: not JSON, no `model`, a model type the library lacks.
 */
export function loadTokenizer(
  json: { readonly file: string; readonly text: string },
  config: { readonly file: string; readonly text: string } | null = null,
): TextTokenizer {
  const tj = parseJson(json.text, json.file);
  const cj = config ? parseJson(config.text, config.file) : {};
  const model = tj.model as Json | undefined;
  if (typeof model !== 'object' || model === null)
    throw new TokenizerError(`${json.file}: no "model" section; is this a Hugging Face tokenizer.json?`);
  // The library reads these as arrays and objects; a missing one is an empty list / no stage.
  const full: Json = {
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    added_tokens: [],
    ...tj,
  };
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(full, cj);
  } catch (e) {
    throw new TokenizerError(
      `${json.file}: the tokenizer could not be built (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const idOf = (t: string | undefined) => (t === undefined ? undefined : tok.token_to_id(t));
  const unkId =
    idOf(tokenText(cj.unk_token)) ?? idOf(typeof model.unk_token === 'string' ? model.unk_token : undefined);
  const padding = tj.padding as Json | null | undefined;
  const padId =
    idOf(tokenText(cj.pad_token)) ??
    (typeof padding?.pad_id === 'number' ? padding.pad_id : undefined) ??
    idOf('[PAD]') ??
    idOf('<pad>') ??
    0;
  const truncation = tj.truncation as Json | null | undefined;
  const configured = typeof cj.model_max_length === 'number' ? cj.model_max_length : undefined;
  // transformers writes a huge sentinel (1e30) when the model sets no limit.
  const modelMaxLength =
    configured !== undefined && configured < 1e6
      ? configured
      : typeof truncation?.max_length === 'number'
        ? truncation.max_length
        : null;
  const post = (a: string[], b: string[] | null): { tokens: string[]; token_type_ids?: number[] } => {
    if (!tok.post_processor) return { tokens: [...a, ...(b ?? [])] };
    const r = tok.post_processor(a, b, true);
    // ByteLevel's post-processor hands the pair back separately instead of joining it.
    return r.tokens_pair && r.tokens.length === a.length ? { tokens: [...r.tokens, ...r.tokens_pair] } : r;
  };
  const specials = { single: post([], null).tokens.length, pair: post([], []).tokens.length };

  return {
    file: json.file,
    modelMaxLength,
    padId,
    encode(text, pair, maxLength) {
      const a = tok.tokenize(text);
      const b = pair === null ? null : tok.tokenize(pair);
      const budget = maxLength - (b ? specials.pair : specials.single);
      if (budget < 0)
        throw new TokenizerError(
          `${json.file}: a sequence length of ${maxLength} cannot hold the tokenizer's special tokens`,
        );
      let truncated = false;
      while (a.length + (b?.length ?? 0) > budget) {
        truncated = true;
        if (b && b.length >= a.length) b.pop();
        else a.pop();
      }
      const out = post(a, b);
      const ids = out.tokens.map((t) => {
        const id = tok.token_to_id(t) ?? unkId;
        if (id === undefined)
          throw new TokenizerError(
            `${json.file}: "${t}" is not in the vocabulary and there is no unknown token`,
          );
        return id;
      });
      const typeIds =
        out.token_type_ids ?? out.tokens.map((_, i) => (b && i >= out.tokens.length - b.length ? 1 : 0));
      const pad = maxLength - ids.length;
      return {
        ids: [...ids, ...new Array<number>(pad).fill(padId)],
        mask: [...new Array<number>(ids.length).fill(1), ...new Array<number>(pad).fill(0)],
        typeIds: [...typeIds, ...new Array<number>(pad).fill(0)],
        tokens: out.tokens,
        truncated,
      };
    },
  };
}
