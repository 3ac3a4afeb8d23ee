// Plan: the rescalers table of a baseline merge renders without a React warning (a baseline has no
// λ: no data-lambda="NaN"), and an EMR merge's rows carry their exact λ for the tests to read.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { summaryFixture } from '../testing/summary';
import { Rescalers } from './Rescalers';

afterEach(() => vi.restoreAllMocks());

describe('Rescalers', () => {
  it.each(['avg', 'ta', 'ties'] as const)('renders a %s merge with no warning and no λ', (method) => {
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {});
    const html = renderToStaticMarkup(<Rescalers result={summaryFixture(method)} />);
    expect(warn).not.toHaveBeenCalled();
    expect(html).not.toContain('data-lambda');
    expect(html).toContain('data-task="lang"');
  });

  it('keeps the exact λ of an EMR merge on its row', () => {
    const html = renderToStaticMarkup(<Rescalers result={summaryFixture('emr')} />);
    expect(html).toContain('data-lambda="0.75"');
    expect(html).toContain('data-lambda="0.8"');
  });
});
