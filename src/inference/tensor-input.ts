// Fitting a tensor from a file to a graph input: the same shape, the shape of one sample (a batch
// dimension of 1 is added), or a batch of samples; symbolic dimensions match any size.

export type InputShape = readonly (number | string | null)[] | null;

/** A graph input as the session describes it; `type` is onnxruntime's element type when known. */
export interface GraphInput {
  readonly name: string;
  readonly shape: InputShape;
  readonly type?: string;
}

const fits = (want: number | string | null | undefined, got: number | undefined) =>
  got !== undefined && (typeof want !== 'number' || want === got);

const show = (shape: readonly (number | string | null)[]) => `[${shape.map((d) => d ?? '?').join(', ')}]`;

// onnxruntime-web says 'float32'; ONNX and onnxruntime-node say 'float' or 'tensor(float)'.
const FLOAT32 = new Set(['float32', 'float', 'tensor(float)']);

/** The dims to run `dims` with under `input`, or why they do not fit. */
export function fitInput(
  input: GraphInput,
  dims: readonly number[],
): { dims: number[] } | { problem: string } {
  if (input.type !== undefined && !FLOAT32.has(input.type))
    return { problem: `input ${input.name} takes ${input.type}; a tensor file is fed as float32` };
  const want = input.shape;
  if (want === null) return { dims: [...dims] }; // the graph does not say: run it as it is
  if (dims.length === want.length && want.every((w, i) => fits(w, dims[i]))) return { dims: [...dims] };
  if (dims.length === want.length - 1 && want.slice(1).every((w, i) => fits(w, dims[i])) && fits(want[0], 1))
    return { dims: [1, ...dims] };
  return { problem: `input ${input.name} wants ${show(want)}; the file has [${dims.join(', ')}]` };
}

/**
 * A tensor read from a file (a .npy array, a safetensors tensor widened to float32) as the input's
 * data and dims, or why it cannot be: its values must be as many as its shape says.
 */
export function fitTensor(
  input: GraphInput,
  tensor: { readonly data: Float32Array; readonly shape: readonly number[] },
): { input: Float32Array; dims: number[] } | { problem: string } {
  const count = tensor.shape.reduce((a, d) => a * d, 1);
  if (count !== tensor.data.length)
    return {
      problem: `shape [${tensor.shape.join(', ')}] is ${count} values; the tensor has ${tensor.data.length}`,
    };
  const fit = fitInput(input, tensor.shape);
  return 'problem' in fit ? fit : { input: tensor.data, dims: fit.dims };
}
