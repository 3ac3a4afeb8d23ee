// Plan: the page offers to choose λ for exactly the kept results whose choice is open — TALL masks
// or Consensus merged here with λ_t or α at its default, over the tasks of the result on screen, and
// not chosen once already — and never for a method with nothing to choose, a value set, a result
// restored from a bundle, or a result of other tasks.
import { describe, expect, it } from 'vitest';
import type { MergeSummary } from '../../src/flow/summary';
import { anyMethodSpec } from '../../src/merge/methods';
import { choosableResults } from './choose';
import type { KeptResult } from './merge';

let ids = 0;
const kept = (
  method: string,
  params: Record<string, unknown> = {},
  { source = 'merge', tasks = ['a', 'b'] }: { source?: 'merge' | 'bundle'; tasks?: string[] } = {},
): KeptResult => ({
  inputs: '',
  summary: {
    id: ++ids,
    spec: anyMethodSpec(method, params),
    source,
    tasks: tasks.map((name) => ({ name })),
  } as unknown as MergeSummary,
});

describe('choosableResults', () => {
  it('offers TALL masks and Consensus with a λ_t or α at its default, over the tasks on screen', () => {
    const tall = kept('tall_mask');
    const consensusAlpha = kept('consensus_ta', { tall_lambda: 0.4 });
    const consensusMasks = kept('consensus_ties', { lambda: 0.7 });
    const offered = [tall, consensusAlpha, consensusMasks];
    const refused = [
      kept('tall_mask', { lambda: 0.4 }),
      kept('consensus_ta', { lambda: 0.7, tall_lambda: [0.3, 0.5] }),
      kept('t_switch'),
      kept('emr'),
      kept('tall_mask', {}, { source: 'bundle' }),
      kept('tall_mask', {}, { tasks: ['a', 'c'] }),
    ];
    const screen = tall.summary;
    expect(choosableResults([...offered, ...refused], screen, {})).toEqual(offered);
    // chosen once: not again
    expect(choosableResults(offered, screen, { [tall.summary.id]: { lines: [] } })).toEqual(offered.slice(1));
    expect(choosableResults(offered, undefined, {})).toEqual([]);
  });
});
