// The title a file card shows. A Hugging Face or PEFT folder holds files of generic names
// (adapter_model.safetensors, model.safetensors, model.onnx…), so four adapters would be four cards
// titled "adapter_model.safetensors": such a file is titled by its folder, which names the model.

const GENERIC = /^(adapter_model|model|pytorch_model)(\.safetensors(\.index\.json)?|\.onnx|\.index\.json)$/i;

export function cardTitle(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const name = parts[parts.length - 1] ?? path;
  const folder = parts[parts.length - 2];
  return GENERIC.test(name) && folder !== undefined ? folder : name;
}
