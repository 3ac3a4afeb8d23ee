// Plan: the per-task methods' parameters — the defaults documented in docs/merge.md (and where
// they come from), values refused by name, one λ or one per task, and the YAML recipe that gives
// the same spec back.
import { describe, expect, it } from 'vitest';
import { anyMethodSpec, describeMethod } from '../methods';
import { lambdaOf, perTaskRecipe, perTaskSpec, PERTASK_METHODS } from './spec';

describe('per-task method specs', () => {
  it('fills in the originals’ defaults', () => {
    expect(perTaskSpec('tall_mask')).toEqual({ method: 'tall_mask', tallBase: 'task_arithmetic', lambda: 1 });
    expect(perTaskSpec('consensus_ties')).toEqual({
      method: 'consensus_ties',
      k: 2,
      tallLambda: 1,
      lambda: 0.3,
    });
    expect(perTaskSpec('t_switch')).toEqual({ method: 't_switch', dropRatio: 0.6 });
    // compress_tv(task_vectors, 1 / len(config.DATASETS)): 1/N, resolved against the set.
    expect(perTaskSpec('tsv_c')).toEqual({ method: 'tsv_c', svReduction: undefined });
    expect(perTaskSpec('tsv_c', { sv_reduction: 0.25 })).toEqual({ method: 'tsv_c', svReduction: 0.25 });
    expect(describeMethod(perTaskSpec('tsv_c'))).toBe(
      'TSV-C (task singular vectors, compressed; rank fraction 1/N)',
    );
    expect(describeMethod(anyMethodSpec('tall_mask', { tall_base: 'ties', lambda: [0.2, 0.4] }))).toBe(
      'TALL masks over TIES (λ_t = [0.2, 0.4])',
    );
  });

  it('refuses parameters a method does not take and bad values, by name', () => {
    expect(() => perTaskSpec('t_switch', { lambda: 1 })).toThrow('t_switch takes no parameter lambda');
    expect(() => perTaskSpec('tall_mask', { tall_base: 'dare' })).toThrow(
      /tall_base must be task_arithmetic or ties/,
    );
    expect(() => perTaskSpec('tall_mask', { lambda: -1 })).toThrow(/lambda must be a finite number ≥ 0/);
    expect(() => perTaskSpec('consensus_ta', { k: 1.5 })).toThrow(/whole number/);
    expect(() => perTaskSpec('consensus_ta', { lambda: [0.1, 0.2] })).toThrow(/one finite number/);
    expect(() => perTaskSpec('t_switch', { drop_ratio: 101 })).toThrow(/drop_ratio/);
    expect(() => perTaskSpec('tsv_c', { sv_reduction: 0 })).toThrow('sv_reduction must be in (0, 1], got 0');
    expect(() => perTaskSpec('tsv_c', { sv_reduction: 1.5 })).toThrow(/sv_reduction/);
    expect(() => perTaskSpec('tsv_c', { sv_reduction: Number.NaN })).toThrow(/sv_reduction/);
    expect(() => perTaskSpec('tsv_c', { drop_ratio: 0.5 })).toThrow('tsv_c takes no parameter drop_ratio');
    expect(() => lambdaOf([0.2, 0.3], 0, 3)).toThrow('2 values of λ for 3 tasks');
    expect(lambdaOf(0.4, 2, 3)).toBe(0.4);
  });

  it('round-trips through its YAML recipe', () => {
    for (const method of PERTASK_METHODS) {
      const spec = perTaskSpec(method, method === 'tall_mask' ? { lambda: [0.3, 0.5] } : {});
      const recipe = perTaskRecipe(spec);
      expect(perTaskSpec(recipe.merge_method as never, recipe.parameters)).toEqual(spec);
    }
    const tsvc = perTaskSpec('tsv_c', { sv_reduction: 0.1 });
    expect(perTaskRecipe(tsvc)).toEqual({ merge_method: 'tsv_c', parameters: { sv_reduction: 0.1 } });
    expect(perTaskSpec('tsv_c', perTaskRecipe(tsvc).parameters)).toEqual(tsvc);
  });
});
