// Fitting a tensor from a file to a graph input: the same shape, the shape of one sample (a batch
// dimension of 1 is added), or a batch of samples; symbolic dimensions match any size.

export type InputShape = readonly (number | string | null)[] | null;

const fits = (want: number | string | null | undefined, got: number | undefined) =>
  got !== undefined && (typeof want !== 'number' || want === got);

const show = (shape: readonly (number | string | null)[]) => `[${shape.map((d) => d ?? '?').join(', ')}]`;

/** The dims to run `dims` with under `input`, or why they do not fit. */
export function fitInput(
  input: { readonly name: string; readonly shape: InputShape },
  dims: readonly number[],
): { dims: number[] } | { problem: string } {
  const want = input.shape;
  if (want === null) return { dims: [...dims] }; // the graph does not say: run it as it is
  if (dims.length === want.length && want.every((w, i) => fits(w, dims[i]))) return { dims: [...dims] };
  if (dims.length === want.length - 1 && want.slice(1).every((w, i) => fits(w, dims[i])) && fits(want[0], 1))
    return { dims: [1, ...dims] };
  return { problem: `input ${input.name} wants ${show(want)}; the file has [${dims.join(', ')}]` };
}
