// A tensor file the user picked, as an input of the graph: a .npy array, or a safetensors file
// whose tensor is named like the input (or is its only float tensor).
import { parseNpy } from '../../../src/inference/npy';
import { fitInput, type InputShape } from '../../../src/inference/tensor-input';

export async function readTensorFile(
  file: File,
  input: { readonly name: string; readonly shape: InputShape },
): Promise<{ input: Float32Array; dims: number[]; caption: string }> {
  let data: Float32Array;
  let shape: readonly number[];
  let caption = file.name;
  if (file.name.toLowerCase().endsWith('.npy')) {
    ({ data, shape } = parseNpy(new Uint8Array(await file.arrayBuffer()), file.name));
  } else {
    // The readers load only when a safetensors file is picked: the page's first load stays small.
    const [{ openCheckpoint }, { blobSource }, { readTensor, tensorName }, { widenToF32 }] =
      await Promise.all([
        import('../../../src/formats/open'),
        import('../../../src/formats/source'),
        import('../../../src/formats/tensor'),
        import('../../../src/formats/dtype'),
      ]);
    const checkpoint = await openCheckpoint(blobSource(file, file.name));
    const floats = [...checkpoint.tensors.values()].filter((t) => ['F32', 'F16', 'BF16'].includes(t.dtype));
    const entry =
      checkpoint.tensors.get(tensorName(input.name)) ?? (floats.length === 1 ? floats[0] : undefined);
    if (!entry)
      throw new Error(
        `${file.name}: no tensor named ${input.name}, and ${floats.length} float tensors to choose from (${floats
          .slice(0, 5)
          .map((t) => t.name)
          .join(', ')})`,
      );
    if (!['F32', 'F16', 'BF16'].includes(entry.dtype))
      throw new Error(`${file.name}: ${entry.name} is ${entry.dtype}, not a float tensor`);
    data = widenToF32(await readTensor(entry), entry.dtype as 'F32' | 'F16' | 'BF16');
    shape = entry.shape;
    caption = `${file.name} · ${entry.name}`;
  }
  const fit = fitInput(input, shape);
  if ('problem' in fit) throw new Error(`${file.name}: ${fit.problem}`);
  return { input: data, dims: fit.dims, caption };
}
