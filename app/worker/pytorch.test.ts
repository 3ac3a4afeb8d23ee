// Plan: the studio's worker on PyTorch checkpoints (src/formats/pytorch/__fixtures__/merge: a base
// and two tasks as .bin, as the tar of torch < 0.4, as legacy pickles and as sharded index folders, with safetensors twins): each opens as a 'pytorch' card; the merge summary
// marks the tasks as written as safetensors (the export list's label reads it); a task's export is the
// same bytes as the export of the same merge of the twins.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { methodSpec } from '../../src/merge/methods';
import { StudioService } from './service';

const FIXTURES = new URL('../../src/formats/pytorch/__fixtures__/merge/', import.meta.url).pathname;
const selection = { baseId: 'base', tasks: ['task_a', 'task_b'].map((id) => ({ id, name: id })) };

async function merged(ext: string) {
  const s = new StudioService();
  for (const id of ['base', 'task_a', 'task_b']) {
    // the same models in the tar format of torch < 0.4, as legacy pickles, and as a sharded index with its shards
    const rel =
      ext === 'tar'
        ? `tar/${id}.pt`
        : ext === 'legacy'
          ? `legacy/${id}.bin`
          : ext === 'sharded'
            ? `sharded/${id}/pytorch_model.bin.index.json`
            : `${id}.${ext}`;
    const pathed = async (r: string) => ({ path: r, file: new Blob([await readFile(join(FIXTURES, r))]) });
    const shards =
      ext === 'sharded'
        ? await Promise.all([1, 2].map((k) => pathed(`sharded/${id}/pytorch_model-0000${k}-of-00002.bin`)))
        : [];
    const opened = await s.open(id, await pathed(rel), shards);
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.summary.format).toBe(ext === 'safetensors' ? 'safetensors' : 'pytorch');
  }
  const outcome = await s.merge(selection, methodSpec('emr'), 'cpu', () => {});
  if (!outcome.ok) throw new Error(outcome.message);
  const exported = await s.export({ kind: 'task', task: 0 }, { kind: 'blob' });
  if (!exported.ok || !('blob' in exported)) throw new Error('no export');
  return { summary: outcome.summary, bytes: new Uint8Array(await exported.blob.arrayBuffer()) };
}

describe('PyTorch checkpoints in the studio', () => {
  it('merge, say "written as safetensors", and export what the safetensors twins export', async () => {
    const bin = await merged('bin');
    expect(bin.summary.tasks.map((t) => [t.format, t.fromPytorch])).toEqual([
      ['safetensors', true],
      ['safetensors', true],
    ]);
    const st = await merged('safetensors');
    expect(st.summary.tasks.every((t) => t.fromPytorch === undefined)).toBe(true);
    expect(bin.bytes.byteLength).toBeGreaterThan(0);
    expect(Buffer.compare(bin.bytes, st.bytes)).toBe(0);
    for (const layout of ['tar', 'legacy', 'sharded']) {
      const other = await merged(layout);
      expect(other.summary.tasks.every((t) => t.fromPytorch)).toBe(true);
      expect(Buffer.compare(other.bytes, st.bytes), layout).toBe(0);
    }
  });
});
