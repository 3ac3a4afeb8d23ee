// The digits-8 points of docs/results.md's "Every method" table (2026-12-03), for the Pareto
// chart's layout tests in Node and in Chromium. tools/results/pareto.ts reads the table itself;
// tools/results/pareto.test.ts checks the two agree.
import type { ParetoPoint, PointKind } from '../pareto';

/** Label, normalized %, bytes per task (null: one model for all tasks). */
export const DIGITS8: [string, number, number | null][] = [
  ['Individual', 100.0, 544032],
  ['EMR-Merging (rescale: tensor-mean)', 94.0, 98180],
  ['EMR-Merging, routed (no task id)', 34.2, 98180],
  ['Weight averaging', 79.5, null],
  ['Task Arithmetic (λ = 0.3)', 76.4, null],
  ['TIES-Merging (k = 20 %, λ = 1)', 78.0, null],
  ['Task Arithmetic (mergekit) (density = 1, normalize: false, rescale: false)', 30.3, null],
  ['TIES (mergekit) (density = 1, normalize: true, rescale: false)', 80.5, null],
  ['DARE TIES (density = 1, normalize: false, rescale: true, seed 0)', 25.0, null],
  ['Linear DARE (density = 1, normalize: false, rescale: true, seed 0)', 30.3, null],
  ['Model Breadcrumbs (density = 1, normalize: false, rescale: false)', 30.3, null],
  ['Model Breadcrumbs with TIES (density = 1, normalize: false, rescale: false)', 25.0, null],
  ['DELLA (density = 1, normalize: true, rescale: true, seed 0)', 80.5, null],
  ['Linear DELLA (density = 1, normalize: false, rescale: true, seed 0)', 30.3, null],
  ['Model Stock (filter_wise: false)', 76.5, null],
  ['TSV-M (task singular vectors) (α = 1)', 81.4, null],
  ['Iso-C (isotropic, common subspace) (scaling factor 1)', 81.4, null],
  [
    'Iso-CTS (isotropic, common and task-specific subspaces) (scaling factor 1, common space 0.8)',
    83.5,
    null,
  ],
  ['TALL masks over Task Arithmetic (chosen on the labeled sets)', 98.2, 98166],
  ['TALL masks, routed (no task id)', 37.3, 98166],
  ['Consensus TA (chosen on the labeled sets)', 80.1, 78887],
  ['Consensus TIES (chosen on the labeled sets)', 81.0, 78888],
  ['T-Switch (drop ratio 0.6)', 98.8, 52053],
  ['T-Switch, routed (no task id)', 38.3, 52053],
  ['TSV-C (task singular vectors, compressed; rank fraction 1/N)', 96.9, 132429],
  ['TSV-C (task singular vectors, compressed), routed (no task id)', 35.4, 132429],
];

export const kindOf = (label: string, bytes: number | null, i: number): PointKind =>
  i === 0 ? 'individual' : label.includes('routed') ? 'routed' : bytes === null ? 'single-model' : 'per-task';
export const digits8: ParetoPoint[] = DIGITS8.map(([label, accuracy, bytesPerTask], i) => ({
  label,
  accuracy,
  bytesPerTask,
  kind: kindOf(label, bytesPerTask, i),
}));
