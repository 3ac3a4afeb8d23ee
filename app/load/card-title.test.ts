// Plan: a card is titled by its file's name, or by its folder when the file's name is a generic
// one that every model of its kind shares (a PEFT adapter's, a Hugging Face model's).
import { describe, expect, it } from 'vitest';
import { cardTitle } from './card-title';

describe('cardTitle', () => {
  it.each([
    ['lang/adapter_model.safetensors', 'lang'],
    ['adapters/topic/adapter_model.safetensors', 'topic'],
    ['vit-base/model.safetensors', 'vit-base'],
    ['llama/model.safetensors.index.json', 'llama'],
    ['bert/model.onnx', 'bert'],
    ['base.safetensors', 'base.safetensors'],
    ['zoo/plain.safetensors', 'plain.safetensors'],
    ['adapter_model.safetensors', 'adapter_model.safetensors'],
    ['lang/adapter_model.bin', 'adapter_model.bin'],
  ])('%s → %s', (path, title) => expect(cardTitle(path)).toBe(title));
});
