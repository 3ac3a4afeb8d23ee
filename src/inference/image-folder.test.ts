// Plan: a folder of images named by class becomes a labeled set: labels by the task's class names
// (or sorted folder names), every image preprocessed alike, and clear refusals.
import { describe, expect, it } from 'vitest';
import { labeledSetFromImages } from './image-folder';
import type { Preprocessing } from './image';

const p: Preprocessing = {
  width: 1,
  height: 1,
  channels: 1,
  layout: 'NCHW',
  polarity: 'as-is',
  scale: 1,
  mean: [0],
  std: [1],
};
const image = (v: number) => ({
  path: '',
  decode: async () => ({ width: 1, height: 1, data: [v, v, v, 255] }),
});
const at = (path: string, v: number) => ({ ...image(v), path });

describe('labeledSetFromImages', () => {
  it('labels by folder name in the task’s classes, or by sorted folder names', async () => {
    const entries = [
      at('set/7/a.png', 70),
      at('set/3/b.PNG', 30),
      at('set/7/c.jpg', 71),
      at('set/notes.txt', 0),
    ];
    const named = await labeledSetFromImages(entries, p, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect([...named.set.labels]).toEqual([7, 3, 7]);
    expect([...named.set.inputs]).toEqual([70, 30, 71]);
    expect(named.set.sampleShape).toEqual([1, 1, 1]);
    // macOS's ._ companions are skipped; Windows separators name the class folder too.
    const more = await labeledSetFromImages(
      [...entries, at('set/7/._a.png', 0), at('set\\3\\d.png', 33)],
      p,
      ['3', '7'],
    );
    expect([...more.set.labels]).toEqual([1, 0, 1, 0]);
    const sorted = await labeledSetFromImages(entries, p);
    expect(sorted.classes).toEqual(['3', '7']);
    expect([...sorted.set.labels]).toEqual([1, 0, 1]);
  });
  it('refuses folders that are not classes, loose images and undecodable files', async () => {
    await expect(labeledSetFromImages([at('cat/a.png', 0)], p, ['0', '1'])).rejects.toThrow(
      'folders that are not classes of this task: cat (its classes: 0, 1)',
    );
    await expect(labeledSetFromImages([at('a.png', 0)], p)).rejects.toThrow('folder named by their class');
    const broken = { path: '1/x.png', decode: () => Promise.reject(new Error('bad PNG')) };
    await expect(labeledSetFromImages([broken], p)).rejects.toThrow(
      '1/x.png: not an image we can decode (bad PNG)',
    );
    await expect(labeledSetFromImages([at('1/x.txt', 0)], p)).rejects.toThrow('no images');
  });
});
