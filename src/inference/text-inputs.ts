// What a graph that takes text is fed, without the tokenizer library (which the studio's worker
// loads only when a tokenizer is attached): which inputs are the token ids, mask and segment ids,
// the sequence length, and texts packed as int64 batches by a tokenizer.

/** What to feed the graph: its input names and the sequence length every text is brought to. */
export interface TextSpec {
  /** Every encoding is truncated and padded to this many tokens. */
  readonly maxLength: number;
  readonly names: {
    readonly ids: string;
    readonly mask: string | null;
    /** Segment ids (0 for the first text, 1 for the pair), for graphs that take them. */
    readonly typeIds?: string | null;
  };
}

/** One text (or pair) as the graph sees it, and the pieces it was cut into. */
export interface TextEncoding {
  readonly ids: readonly number[];
  readonly mask: readonly number[];
  readonly typeIds: readonly number[];
  /** Token strings, special tokens included, padding left out. */
  readonly tokens: readonly string[];
  /** True when tokens were cut off to fit maxLength. */
  readonly truncated: boolean;
}

export interface TextTokenizer {
  /** The file it was read from, for messages. */
  readonly file: string;
  /** model_max_length of tokenizer_config.json, or the tokenizer.json's truncation length, if any. */
  readonly modelMaxLength: number | null;
  readonly padId: number;
  encode(text: string, pair: string | null, maxLength: number): TextEncoding;
}

/** A batch of texts as int64 tensors [count, maxLength] for the graph's ids, mask and type inputs. */
export function encodeBatch(
  tokenizer: TextTokenizer,
  spec: TextSpec,
  rows: readonly { readonly text: string; readonly pair?: string | null }[],
): { name: string; data: BigInt64Array; dims: [number, number] }[] {
  const L = spec.maxLength;
  const ids = new BigInt64Array(rows.length * L);
  const mask = new BigInt64Array(rows.length * L);
  const types = new BigInt64Array(rows.length * L);
  rows.forEach((r, i) => {
    const e = tokenizer.encode(r.text, r.pair ?? null, L);
    for (let j = 0; j < L; j++) {
      ids[i * L + j] = BigInt(e.ids[j] as number);
      mask[i * L + j] = BigInt(e.mask[j] as number);
      types[i * L + j] = BigInt(e.typeIds[j] as number);
    }
  });
  const dims: [number, number] = [rows.length, L];
  return [
    { name: spec.names.ids, data: ids, dims },
    ...(spec.names.mask ? [{ name: spec.names.mask, data: mask, dims }] : []),
    ...(spec.names.typeIds ? [{ name: spec.names.typeIds, data: types, dims }] : []),
  ];
}

/** Names a graph's text inputs by convention: int64 inputs called *ids*, *mask*, *type*. */
export function textInputsOf(
  inputs: readonly { readonly name: string; readonly elemType: string | null }[],
): TextSpec['names'] | null {
  const ints = inputs.filter((i) => i.elemType === 'I64');
  const type = ints.find((i) => /token_?type/i.test(i.name));
  const mask = ints.find((i) => /mask/i.test(i.name));
  const ids = ints.find((i) => i !== type && i !== mask && /ids|input|tokens/i.test(i.name));
  if (!ids) return null;
  return { ids: ids.name, mask: mask?.name ?? null, typeIds: type?.name ?? null };
}

/** Sequence length when neither the caller, the tokenizer's config nor the graph gives one. */
export const DEFAULT_MAX_LENGTH = 128;

/**
 * The text inputs of a graph and the sequence length, the same for the studio and the CLI: names
 * as given, else by convention (textInputsOf); length as given, else the graph's fixed sequence
 * dimension, else the tokenizer config's model_max_length, else DEFAULT_MAX_LENGTH. Null for a
 * graph that takes no text.
 */
export function textSpecFor(
  inputs: readonly {
    readonly name: string;
    readonly elemType: string | null;
    readonly shape: readonly (number | string | null)[] | null;
  }[],
  given: {
    readonly maxLength?: number | undefined;
    readonly names?:
      { readonly ids: string; readonly mask?: string | null; readonly typeIds?: string | null } | undefined;
    readonly tokenizer?: TextTokenizer | undefined;
  } = {},
): TextSpec | null {
  const found = textInputsOf(inputs);
  if (!found) return null;
  const names = given.names
    ? { ids: given.names.ids, mask: given.names.mask ?? null, typeIds: given.names.typeIds ?? null }
    : found;
  const fixed = inputs.find((i) => i.name === names.ids)?.shape?.[1];
  // A graph with a fixed sequence length takes no other; otherwise the tokenizer's own limit.
  const maxLength =
    given.maxLength ??
    (typeof fixed === 'number' && fixed > 0 ? fixed : undefined) ??
    given.tokenizer?.modelMaxLength ??
    DEFAULT_MAX_LENGTH;
  return { maxLength, names };
}
