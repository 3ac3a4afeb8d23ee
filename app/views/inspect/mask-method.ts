// What Inspect's heatmap and mask viewer say for each method that keeps masks: what a mask bit
// means, what the "sign" pane draws, and what has no meaning there (sign conflicts outside EMR).
import type { ViewMode } from '../../worker/protocol';

export type MaskKind = 'emr' | 'tall' | 'consensus' | 'switch';

/** The mask methods: EMR, TALL masks, Consensus (TA or TIES), T-Switch; undefined for the others. */
export function maskKind(spec: { readonly method: string }): MaskKind | undefined {
  switch (spec.method) {
    case 'emr':
      return 'emr';
    case 'tall_mask':
      return 'tall';
    case 'consensus_ta':
    case 'consensus_ties':
      return 'consensus';
    case 't_switch':
      return 'switch';
    default:
      return undefined;
  }
}

/** The heatmap's caption: what one cell's share counts. */
export const CELL_MEANS: Record<MaskKind, string> = {
  emr: 'Share of each tensor’s elements whose mask bit is on: where the task agrees in sign with the unified task vector.',
  tall:
    'Share of each tensor’s elements the task’s TALL mask keeps: where its own τₜ outweighs λₜ·|τ_MTL − τₜ|, ' +
    'so its model takes τ_MTL there and the base elsewhere.',
  consensus:
    'Share of each tensor’s elements the consensus mask keeps (where at least k tasks’ TALL masks are on). ' +
    'Every task shares this one mask, so each row’s cells are equal.',
  switch:
    'Share of each tensor’s elements each task keeps (its keep bits): its binarised task vector is ± one ' +
    'scalar per tensor there, 0 elsewhere.',
};

/** The sign pane's title. */
export const SIGN_TITLE: Record<MaskKind, string> = {
  emr: 'Sign of τ_uni',
  tall: 'Sign of τ_MTL',
  consensus: 'Sign of τ_MTL',
  switch: 'Sign bits (where kept)',
};

/** A pane's legend, by what it draws. */
export function legendFor(kind: MaskKind, mode: ViewMode, numTasks: number): string {
  if (mode === 'agreement') return `dark: no task’s bit on · yellow: all ${numTasks} on`;
  if (mode === 'sign')
    return kind === 'switch'
      ? 'red: kept, positive · blue: kept, negative · grey: dropped'
      : `red: ${kind === 'emr' ? 'τ_uni' : 'τ_MTL'} > 0 · blue: < 0 · grey: 0`;
  switch (kind) {
    case 'emr':
      return 'yellow: on (the task agrees with τ_uni’s sign) · purple: off';
    case 'tall':
      return 'yellow: on (the task takes τ_MTL there) · purple: off';
    case 'consensus':
      return 'yellow: on (kept by at least k tasks) · purple: off';
    case 'switch':
      return 'yellow: kept · purple: dropped';
  }
}
