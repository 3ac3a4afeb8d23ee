// Plan: every method of the table is offered, grouped by family, with its parameters; TIES's k
// is typed and shown in the same unit (a percentage: the spec's 0.2 shows as 20); a bad value shows its problem under its field at once (marked invalid), and the Merge button
// waits while any parameter of the chosen method is invalid.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANY_METHOD_NAMES, FAMILIES, FAMILY_TITLES, METHOD_TABLE } from '../../../src/merge/method-params';
import { initialMerge, mergeStore } from '../../state/merge';
import { renderCurrentState } from '../testing/ssr';
import { MethodForm } from './MethodForm';
import { MergePanel } from './MergePanel';

const mergeButton = (html: string) => /<button[^>]*>Merge<\/button>/.exec(html)?.[0] ?? '';

beforeEach(() => {
  mergeStore.setState(initialMerge, true);
  renderCurrentState(mergeStore);
});
afterEach(() => vi.restoreAllMocks());

describe('MethodForm', () => {
  it('shows TIES’s k as the percentage it is typed in, with its default and range', () => {
    mergeStore.setState({ method: 'ties_paper', params: { ties_paper: { k: 0.07 } } });
    const html = renderToStaticMarkup(<MethodForm />);
    expect(html).toContain('k, share of |τ| kept (%)');
    expect(html).toMatch(
      /<input type="number" step="5" min="0" max="100" aria-invalid="false" id="[^"]+" aria-describedby="[^"]+" value="7"/,
    );
    expect(html).toContain('default 20 %; above 0 % and at most 100 %');
    expect(html).not.toContain('field-error');
  });

  it('offers every method of the table, grouped by family, each with its own parameters', () => {
    const html = renderToStaticMarkup(<MethodForm />);
    for (const m of ANY_METHOD_NAMES) expect(html).toContain(`<option value="${m}"`);
    for (const f of FAMILIES) expect(html).toContain(`<optgroup label="${FAMILY_TITLES[f]}">`);
    for (const m of ANY_METHOD_NAMES) {
      mergeStore.setState({ method: m });
      const form = renderToStaticMarkup(<MethodForm />);
      for (const p of METHOD_TABLE[m].params) expect(form).toContain(p.label.replace(/&/g, '&amp;'));
      expect(form).not.toContain('field-error');
    }
    mergeStore.setState({ method: 'tall_mask', params: { tall_mask: { lambda: '0.2, -1' } } });
    expect(renderToStaticMarkup(<MethodForm />)).toContain('λₜ must be at least 0.');
    mergeStore.setState({ method: 'della', params: { della: { density: 0.9 } } });
    expect(renderToStaticMarkup(<MethodForm />)).toMatch(
      /class="field-error method-error" role="alert">[^<]*density ± epsilon/,
    );
  });

  it('says what is wrong beside the field as it is typed', () => {
    mergeStore.setState({ method: 'ties_paper', params: { ties_paper: { k: 1.5, lambda: Number.NaN } } });
    const html = renderToStaticMarkup(<MethodForm />);
    expect(html).toMatch(/aria-invalid="true" id="[^"]+" aria-describedby="[^"]+" value="150"/);
    expect(html).toContain('k must be above 0 % and at most 100 %.');
    expect(html).toContain('Enter a number for λ.');
    mergeStore.setState({ method: 'ta', params: { ta: { lambda: -0.5 } } });
    expect(renderToStaticMarkup(<MethodForm />)).toContain('λ must be above 0.');
  });

  it('keeps Merge disabled while a parameter is invalid', () => {
    mergeStore.setState({ method: 'ties_paper', params: { ties_paper: { k: 0 } } });
    const panel = renderToStaticMarkup(<MergePanel />);
    expect(mergeButton(panel)).toContain('disabled');
    expect(panel).toMatch(/Fix the method’s parameters first\.|Add a base model/);
  });
});
