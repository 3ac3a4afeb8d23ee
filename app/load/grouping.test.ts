// Plan: grouping and guessing from names alone — shards go with their index, external data with
// its ONNX model, READMEs are skipped; the base is guessed by its name; task names drop the
// prefix and suffix every task shares and stay unique.
import { describe, expect, it } from 'vitest';
import { indexName, shardName } from '../../src/merge/sharded';
import { groupFiles, guessRoles, looksLikeBase, naturalOrder, stemOf, taskNames } from './grouping';

const files = (...paths: string[]) => paths.map((path) => ({ path }));
const shape = (g: ReturnType<typeof groupFiles<{ path: string }>>) =>
  g.groups.map((x) => [x.primary.path, x.companions.map((c) => c.path)]);

describe('groupFiles', () => {
  it('puts Hugging Face shards with their index, in the folder they share', () => {
    const g = groupFiles(
      files(
        'vit/model-00002-of-00002.safetensors',
        'vit/model.safetensors.index.json',
        'vit/model-00001-of-00002.safetensors',
        'other.safetensors',
      ),
    );
    expect(shape(g)).toEqual([
      [
        'vit/model.safetensors.index.json',
        ['vit/model-00002-of-00002.safetensors', 'vit/model-00001-of-00002.safetensors'],
      ],
      ['other.safetensors', []],
    ]);
  });

  it('puts PyTorch shards with pytorch_model.bin.index.json, and keeps .pt/.ckpt and pytorch_model.bin apart from ONNX data', () => {
    const g = groupFiles(
      files(
        'bert/pytorch_model-00001-of-00002.bin',
        'bert/pytorch_model.bin.index.json',
        'bert/pytorch_model-00002-of-00002.bin',
        'm/model.onnx',
        'm/pytorch_model.bin',
        'm/last.ckpt',
      ),
    );
    expect(shape(g)).toEqual([
      [
        'bert/pytorch_model.bin.index.json',
        ['bert/pytorch_model-00001-of-00002.bin', 'bert/pytorch_model-00002-of-00002.bin'],
      ],
      ['m/model.onnx', []],
      ['m/pytorch_model.bin', []],
      ['m/last.ckpt', []],
    ]);
    expect(stemOf('bert-sst2/pytorch_model.bin')).toBe('bert-sst2');
    expect(stemOf('x/pytorch_model.bin.index.json')).toBe('x');
    expect(stemOf('epoch3.ckpt')).toBe('epoch3');
  });

  it('gives an ONNX model the external data named after it, and a lone model its folder’s data', () => {
    expect(shape(groupFiles(files('a.onnx', 'a.onnx.data', 'b.onnx', 'b.onnx_data')))).toEqual([
      ['a.onnx', ['a.onnx.data']],
      ['b.onnx', ['b.onnx_data']],
    ]);
    expect(shape(groupFiles(files('m/model.onnx', 'm/weights.bin')))).toEqual([
      ['m/model.onnx', ['m/weights.bin']],
    ]);
  });

  it('makes a Hugging Face folder one checkpoint that keeps its config and tokenizer files', () => {
    const g = groupFiles(
      files(
        'bert/README.md',
        'bert/config.json',
        'bert/model.safetensors',
        'bert/tokenizer.json',
        'big/pytorch_model-00001-of-00002.bin',
        'big/pytorch_model.bin.index.json',
        'big/pytorch_model-00002-of-00002.bin',
        'big/config.json',
        'bare/model.safetensors',
        'bare/tokenizer.json',
      ),
    );
    expect(shape(g)).toEqual([
      ['bert/model.safetensors', ['bert/config.json', 'bert/tokenizer.json']],
      [
        'big/pytorch_model.bin.index.json',
        ['big/pytorch_model-00001-of-00002.bin', 'big/pytorch_model-00002-of-00002.bin', 'big/config.json'],
      ],
      ['bare/model.safetensors', []],
    ]);
    // no config.json: not a model folder, its tokenizer is skipped as before
    expect(g.skipped.map((f) => f.path)).toEqual(['bert/README.md', 'bare/tokenizer.json']);
  });

  it('skips files that are plainly not weights, and keeps unknown ones to be refused with a reason', () => {
    const g = groupFiles(files('zoo/README.md', 'zoo/manifest.json', 'zoo/base.safetensors', 'notes.pdf'));
    expect(g.skipped.map((f) => f.path)).toEqual(['zoo/README.md', 'zoo/manifest.json']);
    expect(shape(g)).toEqual([
      ['zoo/base.safetensors', []],
      ['notes.pdf', []],
    ]);
  });
});

describe('guessing', () => {
  it.each([
    ['base.safetensors', true],
    ['vit-b32-pretrained.safetensors', true],
    ['clip_zeroshot.onnx', true],
    ['pre-trained/model.safetensors', true], // a Hugging Face folder is named by its folder
    ['Llama-2-7b-base/model.safetensors.index.json', true],
    ['base-runs/mnist.safetensors', false], // a folder of tasks is not a base
    ['model-pre-trained.onnx', true],
    ['database.safetensors', false],
    ['mnist.safetensors', false],
  ])('%s looks like a base: %s', (path, expected) => {
    expect(looksLikeBase(path)).toBe(expected);
  });

  it('makes the first base-looking file the base and the rest tasks', () => {
    expect(guessRoles(['a.safetensors', 'base.safetensors', 'zeroshot.safetensors'])).toEqual([
      'task',
      'base',
      'task',
    ]);
    expect(guessRoles(['a.safetensors', 'b.safetensors'])).toEqual(['task', 'task']);
  });

  it('names a Hugging Face model.safetensors after its folder', () => {
    expect(stemOf('vit-mnist/model.safetensors')).toBe('vit-mnist');
    expect(stemOf('x/model.safetensors.index.json')).toBe('x');
    expect(stemOf('svhn.onnx')).toBe('svhn');
  });

  it('drops the prefix and suffix all tasks share, at separators', () => {
    expect(taskNames(['vit-b32-mnist-ft.safetensors', 'vit-b32-svhn-ft.safetensors'])).toEqual([
      'mnist',
      'svhn',
    ]);
    expect(taskNames(['plain.safetensors', 'rotated.safetensors'])).toEqual(['plain', 'rotated']);
    expect(taskNames(['task_a.onnx'])).toEqual(['task_a']);
  });

  it('keeps names unique', () => {
    expect(taskNames(['a/mnist.safetensors', 'b/mnist.safetensors'])).toEqual(['mnist', 'mnist-2']);
  });
});

describe('shards written by the studio', () => {
  it('group back into one checkpoint when dropped as a folder', () => {
    const files = [indexName('mnist'), shardName('mnist', 1, 2), shardName('mnist', 0, 2)].map((path) => ({
      path: `out/${path}`,
    }));
    const { groups } = groupFiles(files);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.primary.path).toBe('out/mnist.safetensors.index.json');
    expect(groups[0]?.companions).toHaveLength(2);
  });
});

describe('naturalOrder', () => {
  it('puts the base first, then the rest in natural order (a2 before a10)', () => {
    const g = groupFiles(
      files('m/task10.safetensors', 'm/task2.safetensors', 'm/base.safetensors', 'm/task1.safetensors'),
    );
    expect(naturalOrder(g.groups).map((x) => x.primary.path)).toEqual([
      'm/base.safetensors',
      'm/task1.safetensors',
      'm/task2.safetensors',
      'm/task10.safetensors',
    ]);
  });

  it('keeps files picked one by one in their order, the base first', () => {
    const g = groupFiles(files('task10.safetensors', 'base.safetensors', 'task2.safetensors'));
    expect(naturalOrder(g.groups).map((x) => x.primary.path)).toEqual([
      'base.safetensors',
      'task10.safetensors',
      'task2.safetensors',
    ]);
  });
});
