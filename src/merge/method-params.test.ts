// Plan: the method table covers every name anyMethodSpec takes and nothing else; each method's
// parameters are the ones its parser takes (methodParameterNames), by the same names; the form's
// defaults give the CLI's spec for the same method with no parameter; and validateParam and the
// parser agree on every range (values probed at, inside and past each bound), with the form's
// messages in the form's units (TIES's k in %).
import { describe, expect, it } from 'vitest';
import {
  ANY_METHOD_NAMES,
  FAMILIES,
  formProblems,
  formSpec,
  isAnyMethodName,
  METHOD_TABLE,
  methodNameOf,
  methodsOf,
  parsePerTask,
  specParams,
  validateParam,
  type AnyMethodName,
  type ParamInfo,
} from './method-params';
import { anyMethodSpec, methodParameterNames } from './methods';
import { MERGEKIT_METHODS, GTA_METHODS } from './mergekit/spec';
import { SPECTRAL_METHODS } from './spectral/spec';
import { PERTASK_METHODS } from './pertask/spec';

/** Whether the parser takes the value (the other parameters at their defaults). */
function parserTakes(method: AnyMethodName, name: string, value: unknown): boolean {
  try {
    formSpec(method, {});
    anyMethodSpec(
      method,
      { ...specParams(method, {}), [name]: value },
      {
        mergekit: METHOD_TABLE[method].family === 'mergekit',
      },
    );
    return true;
  } catch {
    return false;
  }
}

const numeric = (p: ParamInfo): p is Extract<ParamInfo, { kind: 'number' | 'integer' | 'per-task' }> =>
  p.kind === 'number' || p.kind === 'integer' || p.kind === 'per-task';

describe('the method table', () => {
  it('has an entry for every name anyMethodSpec takes, grouped in the four families', () => {
    const names = [
      'emr',
      'avg',
      'ta',
      'ties_paper',
      ...MERGEKIT_METHODS,
      ...SPECTRAL_METHODS,
      ...PERTASK_METHODS,
    ];
    expect(new Set(ANY_METHOD_NAMES)).toEqual(new Set(names));
    expect(FAMILIES.flatMap(methodsOf).sort()).toEqual([...ANY_METHOD_NAMES].sort());
    expect(methodsOf('emr-paper')).toEqual(['emr', 'avg', 'ta', 'ties_paper']);
    expect(isAnyMethodName('ties')).toBe(true);
    expect(isAnyMethodName('dare')).toBe(false);
    expect(() => anyMethodSpec('dare', {})).toThrow('unknown merge method');
  });

  it('lists the parameters each parser takes, by the same names', () => {
    for (const m of ANY_METHOD_NAMES) {
      const table = METHOD_TABLE[m].params.map((p) => p.name).sort();
      // mergekit's ties also takes the paper's k, which makes it the paper's TIES (ties_paper).
      const parser = methodParameterNames(m)
        .filter((n) => !(m === 'ties' && n === 'k'))
        .sort();
      expect({ m, table }).toEqual({ m, table: parser });
    }
  });

  it('gives, from the defaults, the spec the CLI gives with no parameter', () => {
    for (const m of ANY_METHOD_NAMES) {
      const spec = formSpec(m, {});
      expect(methodNameOf(spec)).toBe(m);
      if (m === 'ties' || m === 'slerp') continue; // mergekit's TIES; slerp requires t
      expect({ m, spec }).toEqual({ m, spec: anyMethodSpec(m, {}) });
    }
    // `--method ties` with no parameter is the paper's; the form's mergekit `ties` is mergekit's.
    expect(anyMethodSpec('ties', {})).toEqual(formSpec('ties_paper', {}));
    expect(formSpec('ties', {})).toMatchObject({ method: 'mergekit', name: 'ties', normalize: true });
    expect(formSpec('slerp', {})).toEqual(anyMethodSpec('slerp', { t: 0.5 }));
  });

  it('takes mergekit’s per-method defaults of normalize and rescale from its table', () => {
    for (const [m, d] of Object.entries(GTA_METHODS)) {
      const params = METHOD_TABLE[m as AnyMethodName].params;
      expect(params.find((p) => p.name === 'normalize')?.default).toBe(d.normalize);
      expect(params.find((p) => p.name === 'rescale')?.default).toBe(d.rescale);
      expect(formSpec(m as AnyMethodName, { normalize: !d.normalize })).toMatchObject({
        normalize: !d.normalize,
      });
    }
  });

  it('refuses in the form exactly what the parser refuses, at and past every bound', () => {
    let probed = 0;
    for (const m of ANY_METHOD_NAMES)
      for (const p of METHOD_TABLE[m].params.filter(numeric)) {
        // DELLA's density and epsilon bound each other: formProblems (below) reports that.
        if (m.startsWith('della') && (p.name === 'density' || p.name === 'epsilon')) continue;
        const { min, max } = p.range;
        const values = [Number.NaN, Infinity, 0.5, 1.5, -1, 2];
        if (min !== undefined) values.push(min, min - 1e-6, min + 1e-6);
        if (max !== undefined) values.push(max, max - 1e-6, max + 1e-6);
        for (const v of values) {
          const form = validateParam(m, p.name, p.kind === 'per-task' ? String(v) : v) === undefined;
          // An empty field (NaN) of a parameter whose default depends on the set (TSV-C's 1/N) is
          // not handed to the parser at all, so the parser's default applies: valid.
          const empty = Number.isNaN(v) && p.kind === 'number' && p.emptyMeans !== undefined;
          const parser = empty ? true : parserTakes(m, p.name, v);
          expect({ m, p: p.name, v, form }).toEqual({ m, p: p.name, v, form: parser });
          probed++;
        }
      }
    expect(probed).toBeGreaterThan(150);
  });

  it('leaves TSV-C’s rank fraction to the set (1/N) when its field is empty, and checks it when typed', () => {
    expect(formSpec('tsv_c', { sv_reduction: Number.NaN })).toEqual({
      method: 'tsv_c',
      svReduction: undefined,
    });
    expect(formSpec('tsv_c', { sv_reduction: 0.25 })).toEqual({ method: 'tsv_c', svReduction: 0.25 });
    expect(validateParam('tsv_c', 'sv_reduction', Number.NaN)).toBeUndefined();
    expect(validateParam('tsv_c', 'sv_reduction', 0)).toMatch(/sv_reduction must be/);
    expect(validateParam('tsv_c', 'sv_reduction', 1.5)).toMatch(/sv_reduction must be/);
  });

  it('says what only the parameters together get wrong', () => {
    expect(formProblems('della', { density: 0.9 })).toEqual({
      params: {},
      method: expect.stringContaining('density ± epsilon is in (0, 1)'),
    });
    expect(formProblems('della', { density: 0.5 })).toEqual({ params: {} });
    expect(formProblems('della', { density: 2 })).toEqual({
      params: { density: 'density must be at least 0 and at most 1.' },
    });
    // DELLA's bounds in the form are the parser's.
    for (const density of [0, 0.1, 0.5, 0.8, 0.85, 0.9, 1])
      for (const epsilon of [0, 0.1, 0.15, 0.5, 0.99]) {
        const p = formProblems('della', { density, epsilon });
        let parser = true;
        try {
          anyMethodSpec('della', { density, epsilon }, { mergekit: true });
        } catch {
          parser = false;
        }
        expect({
          density,
          epsilon,
          form: Object.keys(p.params).length === 0 && p.method === undefined,
        }).toEqual({
          density,
          epsilon,
          form: parser,
        });
      }
  });

  it('says what is wrong in the form’s words and units', () => {
    expect(validateParam('ties_paper', 'k', 1.5)).toBe('k must be above 0 % and at most 100 %.');
    expect(validateParam('ties_paper', 'k', Number.NaN)).toBe('Enter the share of |τ| to keep, in %.');
    expect(validateParam('ta', 'lambda', -1)).toBe('λ must be above 0.');
    expect(validateParam('ta', 'lambda', Number.NaN)).toBe('Enter a number for λ.');
    expect(validateParam('ties', 'density', 1.2)).toBe('density must be at least 0 and at most 1.');
    expect(validateParam('della', 'epsilon', 1)).toBe('epsilon must be at least 0 and below 1.');
    expect(validateParam('consensus_ta', 'k', 1.5)).toBe('k must be a whole number.');
    expect(validateParam('iso_cts', 'common_space_fraction', 1.1)).toBe(
      'common_space_fraction must be at least 0 % and at most 100 %.',
    );
    expect(validateParam('tall_mask', 'lambda', '0.2, -1')).toBe('λₜ must be at least 0.');
    expect(validateParam('tall_mask', 'lambda', '0.2,')).toBe(
      'Enter a number for λₜ, or one per task separated by commas.',
    );
    expect(validateParam('emr', 'rescale', 'sum')).toMatch(/^Rescale is one of/);
    expect(validateParam('avg', 'lambda', 1)).toBe('Weight averaging takes no parameter lambda.');
  });

  it('reads per-task lists and tensor-name lists as the parsers take them', () => {
    expect(parsePerTask('0.2, 0.4')).toEqual([0.2, 0.4]);
    expect(parsePerTask(' 0.3 ')).toBe(0.3);
    expect(parsePerTask('0.3, x')).toBeUndefined();
    expect(formSpec('tall_mask', { lambda: '0.2, 0.4', tall_base: 'ties' })).toEqual(
      anyMethodSpec('tall_mask', { lambda: [0.2, 0.4], tall_base: 'ties' }),
    );
    expect(formSpec('tsv_m', { exclude_keys: 'a.weight, b.weight' })).toMatchObject({
      excludeKeys: ['a.weight', 'b.weight'],
    });
    // A value equal to its default is left out, so the spec reads as the CLI's.
    expect(specParams('ties_paper', { k: 0.2, lambda: 0.5 })).toEqual({ lambda: 0.5 });
  });
});
