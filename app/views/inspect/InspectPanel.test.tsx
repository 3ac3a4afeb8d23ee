// Plan: Inspect shows the mask heatmap, the mask viewer and the depth chart for every mask method
// (EMR, TALL masks, Consensus, T-Switch), with a caption that says what a cell counts for that
// method (Consensus: one shared mask, rows equal; T-Switch: keep bits) and the sign conflicts and
// |τ| histograms only where they have data (EMR); TSV-C keeps its low-rank view, a one-model method
// its note.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { anyMethodSpec } from '../../../src/merge/methods';
import { initialInspect, inspectStore } from '../../state/inspect';
import { initialMerge, mergeStore } from '../../state/merge';
import { renderCurrentState } from '../testing/ssr';
import { summaryFixture } from '../testing/summary';
import { InspectPanel } from './InspectPanel';

beforeEach(() => {
  renderCurrentState(inspectStore);
  renderCurrentState(mergeStore);
  inspectStore.setState({ ...initialInspect, tensor: 'layers.0.q.weight' }, true);
});
afterEach(() => {
  mergeStore.setState(initialMerge, true);
  vi.restoreAllMocks();
});

function inspect(method: string, params: Record<string, unknown> = {}): string {
  const base = summaryFixture();
  const emr = method === 'emr';
  // a per-task method's summary: no election, so no conflict rate
  const tensors = emr ? base.tensors : base.tensors.map((t) => ({ ...t, conflictRate: Number.NaN }));
  mergeStore.setState({ result: { ...base, spec: anyMethodSpec(method, params), tensors } });
  return renderToStaticMarkup(<InspectPanel />);
}

describe('InspectPanel', () => {
  it.each([
    ['emr', 'whose mask bit is on: where the task agrees in sign'],
    ['tall_mask', 'the task’s TALL mask keeps'],
    ['consensus_ta', 'Every task shares this one mask, so each row’s cells are equal.'],
    ['consensus_ties', 'Every task shares this one mask, so each row’s cells are equal.'],
    ['t_switch', 'each task keeps (its keep bits)'],
  ])('%s: the heatmap, the mask viewer and the depth chart, captioned for the method', (method, caption) => {
    const html = inspect(method);
    expect(html).toContain('data-testid="heatmap"');
    expect(html).toContain('data-testid="mask-viewer"');
    expect(html).toContain('Density by depth');
    expect(html).toContain(caption);
    expect(html).not.toContain('data-testid="lowrank"');
    // sign conflicts and the |τ| histograms come from EMR's election and values only
    const emr = method === 'emr';
    expect(html.includes('data-testid="conflict-detail"')).toBe(emr);
    expect(html.includes('>Sign conflicts</option>')).toBe(emr);
    expect(html.includes('Magnitudes')).toBe(emr);
    expect(html.includes('Masks belong to')).toBe(false);
  });

  it('a sort by sign conflicts left from an EMR result falls back to model order for another method', () => {
    inspectStore.setState({ sort: 'conflict' });
    expect(inspect('t_switch')).toContain('<option value="model" selected="">');
    expect(inspect('emr')).toContain('<option value="conflict" selected="">');
  });

  it('TSV-C keeps its low-rank view and says it has no mask; a one-model method its note', () => {
    const tsvc = inspect('tsv_c');
    expect(tsvc).not.toContain('data-testid="heatmap"');
    expect(tsvc).not.toContain('data-testid="mask-viewer"');
    expect(tsvc).toContain('TSV-C keeps no mask');
    const ta = inspect('ta');
    expect(ta).not.toContain('data-testid="heatmap"');
    expect(ta).toContain('this method made one merged model for all tasks');
  });
});
