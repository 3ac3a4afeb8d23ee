// Plan: the export list names each item, the file it makes and its size, so the rows differ by
// more than their first word: the bundle, each task model, and the zip of everything; a task that
// came in as a Hugging Face folder says so and is written as a .zip of that folder.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mergeStore } from '../../state/merge';
import { renderCurrentState } from '../testing/ssr';
import { summaryFixture } from '../testing/summary';
import { ExportPanel } from './ExportPanel';

beforeEach(() => renderCurrentState(mergeStore));
afterEach(() => vi.restoreAllMocks());

describe('ExportPanel', () => {
  it('lists each export with its file name and size', () => {
    mergeStore.setState({ result: summaryFixture('emr') });
    const html = renderToStaticMarkup(<ExportPanel />);
    const rows = [...html.matchAll(/<li class="export-row"[^]*?<\/li>/g)].map((m) =>
      m[0]
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    expect(rows).toEqual([
      'EMR bundle emr-bundle.safetensors ≈ 1.00 MB',
      'lang (safetensors) lang.safetensors ≈ 2.40 MB',
      'topic (safetensors) topic.safetensors ≈ 2.40 MB',
      'Everything as one .zip merge-studio-emr.zip ≤ 5.80 MB',
    ]);
  });

  it('names a Hugging Face folder task and makes it a .zip of the folder', () => {
    const result = summaryFixture('emr');
    const [lang, ...rest] = result.tasks;
    mergeStore.setState({ result: { ...result, tasks: [{ ...lang!, folder: true }, ...rest] } });
    const html = renderToStaticMarkup(<ExportPanel />).replace(/<[^>]+>/g, ' ');
    expect(html).toMatch(
      /lang \(safetensors, a Hugging Face folder with its config and model card\)\s+lang\.zip/,
    );
    expect(html).toContain('topic.safetensors');
  });

  it('has no bundle for a baseline', () => {
    mergeStore.setState({ result: summaryFixture('avg') });
    const html = renderToStaticMarkup(<ExportPanel />);
    expect(html).not.toContain('EMR bundle');
    expect(html).toContain('merge-studio-avg.zip');
  });
});
