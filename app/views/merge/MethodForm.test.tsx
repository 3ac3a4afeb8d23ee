// Plan: TIES's k is typed and shown in the same unit (a percentage: the spec's 0.2 shows as 20),
// a bad value shows its problem under its field at once (marked invalid), and the Merge button
// waits while any parameter of the chosen method is invalid.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
  it('shows TIES’s k as the percentage it is typed in', () => {
    mergeStore.setState({ method: 'ties', tiesK: 0.07 });
    const html = renderToStaticMarkup(<MethodForm />);
    expect(html).toContain('k, share of |τ| kept (%)');
    expect(html).toMatch(/<input type="number" step="5" min="1" max="100" aria-invalid="false" value="7"/);
    expect(html).not.toContain('field-error');
  });

  it('says what is wrong beside the field as it is typed', () => {
    mergeStore.setState({ method: 'ties', tiesK: 1.5, tiesLambda: Number.NaN });
    const html = renderToStaticMarkup(<MethodForm />);
    expect(html).toMatch(/aria-invalid="true" aria-describedby="[^"]+" value="150"/);
    expect(html).toContain('k must be above 0 % and at most 100 %.');
    expect(html).toContain('Enter a number for λ.');
    mergeStore.setState({ method: 'ta', taLambda: -0.5 });
    expect(renderToStaticMarkup(<MethodForm />)).toContain('λ must be above 0.');
  });

  it('keeps Merge disabled while a parameter is invalid', () => {
    mergeStore.setState({ method: 'ties', tiesK: 0 });
    const panel = renderToStaticMarkup(<MergePanel />);
    expect(mergeButton(panel)).toContain('disabled');
    expect(panel).toMatch(/Fix the method’s parameters first\.|Add a base model/);
  });
});
