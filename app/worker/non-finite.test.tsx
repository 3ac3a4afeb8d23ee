// Plan: the studio's merge summary carries the NaN/±∞ counts of the weights it read — per model and
// per shared tensor, with the warning line — only when there were some, for every method; the
// Inspect view's NonFinite block shows that line and the non-zero counts, and nothing otherwise.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/formats/safetensors';
import { MemorySink } from '../../src/formats/sink';
import { methodSpec, type MethodName } from '../../src/merge/methods';
import { NonFinite } from '../views/inspect/NonFinite';
import { StudioService } from './service';

async function model(values: Record<string, Float32Array>): Promise<Blob> {
  const sink = new MemorySink();
  await writeSafetensors(
    sink,
    Object.entries(values).map(([name, v]) => ({
      name,
      dtype: 'F32' as const,
      shape: [v.length],
      bytes: new Uint8Array(v.buffer),
    })),
  );
  return new Blob([sink.bytes()]);
}

async function service(poisoned: boolean): Promise<StudioService> {
  const w = Float32Array.from({ length: 200 }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: 10 }, (_, i) => Math.cos(i));
  const base = w.slice();
  if (poisoned) base[7] = Number.NaN;
  const bad = w.map((x) => x + 0.01);
  if (poisoned) bad.fill(-Infinity, 50, 55);
  const s = new StudioService();
  const files = {
    base: await model({ w: base, b }),
    a: await model({ w: w.map((x) => x - 0.02), b: b.map((x) => x + 0.01) }),
    bad: await model({ w: bad, b: b.map((x) => x - 0.01) }),
  };
  for (const [id, file] of Object.entries(files))
    expect((await s.open(id, { path: `${id}.safetensors`, file }, [])).ok).toBe(true);
  return s;
}

const selection = { baseId: 'base', tasks: ['a', 'bad'].map((id) => ({ id, name: id })) };

describe('NaN/±∞ in the studio’s merge summary and Inspect view', () => {
  for (const method of ['emr', 'ta', 'ties', 'avg'] as MethodName[]) {
    it(`${method}: counted per model and tensor, shown with the warning line`, async () => {
      const s = await service(true);
      const outcome = await s.merge(selection, methodSpec(method), 'cpu', () => {});
      if (!outcome.ok) throw new Error(outcome.message);
      const nf = outcome.summary.nonFinite;
      expect(nf).toEqual({
        base: 1,
        tasks: [0, 5],
        tensors: [{ name: 'w', base: 1, tasks: [0, 5] }],
        warning:
          'NaN/±∞ in the weights (merged as the formulas say): base 1, bad 5 — in 1 of 2 shared tensors',
      });
      const html = renderToStaticMarkup(<NonFinite result={outcome.summary} />);
      expect(html).toContain(nf?.warning);
      expect(html).toContain('<th scope="col">base</th><th scope="col">bad</th>'); // task a has none
      expect(html).toContain('<th scope="row">w</th><td>1</td><td>5</td>');
    });
  }

  it('none read: no counts, nothing shown', async () => {
    const s = await service(false);
    const outcome = await s.merge(selection, methodSpec('emr'), 'cpu', () => {});
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.summary.nonFinite).toBeUndefined();
    expect(renderToStaticMarkup(<NonFinite result={outcome.summary} />)).toBe('');
  });
});
