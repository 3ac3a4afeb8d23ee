// Plan: a dropped folder is walked through webkitGetAsEntry — nested folders, more entries than
// one readEntries call returns, hidden files skipped — and each file keeps its path; a drop
// without entries falls back to the plain file list.
import { describe, expect, it } from 'vitest';
import { filesFromDrop } from './dropped';

type Entry = { name: string; isFile: boolean; isDirectory: boolean } & Record<string, unknown>;

const fileEntry = (name: string): Entry => ({
  name,
  isFile: true,
  isDirectory: false,
  file: (ok: (f: File) => void) => ok(new File([name], name)),
});

/** A directory whose reader hands out at most two entries per call, as browsers batch them. */
const dirEntry = (name: string, children: Entry[]): Entry => ({
  name,
  isFile: false,
  isDirectory: true,
  createReader: () => {
    let at = 0;
    return {
      readEntries: (ok: (e: Entry[]) => void) => {
        ok(children.slice(at, at + 2));
        at += 2;
      },
    };
  },
});

const drop = (entries: (Entry | null)[], files: File[] = []) =>
  ({
    items: entries.map((e) => ({ kind: 'file', webkitGetAsEntry: () => e })),
    files,
  }) as unknown as DataTransfer;

describe('filesFromDrop', () => {
  it('walks dropped folders and keeps each file’s path', async () => {
    const folder = dirEntry('vit', [
      fileEntry('model.safetensors.index.json'),
      fileEntry('.DS_Store'),
      fileEntry('model-00001-of-00002.safetensors'),
      dirEntry('sub', [fileEntry('x.onnx')]),
      fileEntry('model-00002-of-00002.safetensors'),
    ]);
    const files = await filesFromDrop(drop([folder, fileEntry('base.safetensors')]));
    expect(files.map((f) => f.path)).toEqual([
      'vit/model.safetensors.index.json',
      'vit/model-00001-of-00002.safetensors',
      'vit/sub/x.onnx',
      'vit/model-00002-of-00002.safetensors',
      'base.safetensors',
    ]);
  });

  it('falls back to the file list when the browser gives no entries', async () => {
    const files = await filesFromDrop(drop([null], [new File(['a'], 'a.safetensors')]));
    expect(files.map((f) => f.path)).toEqual(['a.safetensors']);
  });
});
