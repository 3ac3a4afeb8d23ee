// Plan: the heatmap draws a tensor a task leaves untouched (a LoRA adapter that does not adapt it)
// hatched, not as a 0 % density, with a legend entry saying what it means; the detail line says
// what the sign-conflict share is a share of (all tasks together, the tensor's elements).
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inspectStore, initialInspect } from '../../state/inspect';
import { renderCurrentState } from '../testing/ssr';
import { summaryFixture } from '../testing/summary';
import { Heatmap } from './Heatmap';

beforeEach(() => renderCurrentState(inspectStore));
afterEach(() => vi.restoreAllMocks());

describe('Heatmap', () => {
  it('shows untouched tensors apart from empty masks, with a legend', () => {
    inspectStore.setState({ ...initialInspect, collapsed: { 'layers.0': false } }, true);
    const html = renderToStaticMarkup(<Heatmap result={summaryFixture()} />);
    const cells = [...html.matchAll(/<div role="gridcell"[^>]*>/g)].map((m) => m[0]);
    const untouched = cells.filter((c) => c.includes('data-untouched'));
    expect(untouched).toHaveLength(1);
    expect(untouched[0]).toContain('data-tensor="layers.0.norm.weight"');
    expect(untouched[0]).toContain('data-task="topic"');
    expect(untouched[0]).toContain('class="hm-cell untouched');
    expect(untouched[0]).not.toContain('background');
    expect(untouched[0]).toContain('untouched (τ = 0, no mask)');
    expect(html).toContain('data-testid="legend-untouched"');
    // the touched cells keep their colours
    expect(cells.filter((c) => c.includes('background:rgb'))).toHaveLength(cells.length - 1);
  });

  it('says what the sign-conflict share is a share of', () => {
    inspectStore.setState(initialInspect, true);
    const html = renderToStaticMarkup(<Heatmap result={summaryFixture()} />);
    expect(html).toMatch(/Across all 2 tasks, sign conflicts on\s*[\d.]+ % of the block’s elements/);
    expect(html).toContain('τ disagree in sign');
  });

  it('has no untouched legend when every task touches every tensor', () => {
    const result = summaryFixture();
    const touched = { ...result, tensors: result.tensors.map(({ untouched: _, ...t }) => t) };
    expect(renderToStaticMarkup(<Heatmap result={touched} />)).not.toContain('legend-untouched');
  });
});
