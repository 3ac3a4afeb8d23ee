// Text input for a graph that takes token ids: a box (and a second one for a pair task), run on
// Run or Ctrl+Enter; and the token pieces the graph got, so what was cut or unknown is visible.
import { useState } from 'react';
import { useStore } from 'zustand';
import { inferStore } from '../../state/infer';
import { setInput } from '../../state/infer-actions';
import type { InferenceTaskSetup } from '../../worker/protocol';

/** Is this task a pair task: its manifest entry or its labeled set says so. */
export function isPairTask(task: InferenceTaskSetup, manifestPair: boolean | undefined): boolean {
  return manifestPair ?? task.labeled?.pair ?? false;
}

/**
 * The boxes start from the text on the bench (a labeled sample, to edit from there): the caller
 * keys this component by that text, so a new sample refills them.
 */
export function TextBench({ task, pair }: { task: InferenceTaskSetup; pair: boolean }) {
  const bench = useStore(inferStore, (s) => s.input);
  const [text, setText] = useState(bench?.text?.text ?? '');
  const [second, setSecond] = useState(bench?.text?.pair ?? '');
  const run = () =>
    void setInput({
      // A multi-modal graph keeps the image on the bench beside the new text.
      ...(bench?.input && bench.dims ? { input: bench.input, dims: bench.dims } : {}),
      text: { text, pair: pair ? second : null },
      caption: 'your text',
    });
  const keys = (e: React.KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run();
  };
  return (
    <div className="text-bench" data-testid="text-bench">
      <label className="text-box">
        {pair ? 'First text' : 'Text'}
        <textarea
          aria-label={pair ? 'First text' : 'Text'}
          rows={3}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            inferStore.setState({ textEdited: true }); // ui1: the outputs on screen are of the old text
          }}
          onKeyDown={keys}
        />
      </label>
      {pair && (
        <label className="text-box">
          Second text
          <textarea
            aria-label="Second text"
            rows={3}
            value={second}
            onChange={(e) => {
              setSecond(e.target.value);
              inferStore.setState({ textEdited: true });
            }}
            onKeyDown={keys}
          />
        </label>
      )}
      <div className="toolbar">
        <button type="button" className="primary" onClick={run}>
          Run
        </button>
        <span className="muted small">
          {task.text &&
            `${task.text.maxLength} tokens at most (${task.text.ids}${task.text.mask ? `, ${task.text.mask}` : ''})`}
        </span>
      </div>
    </div>
  );
}

/** The tokens the graph got for the text on the bench. */
export function TokenPieces({ tokens, truncated }: { tokens: readonly string[]; truncated: boolean }) {
  return (
    <p className="token-pieces small" data-testid="token-pieces">
      <span className="muted">
        {tokens.length} tokens{truncated ? ' (cut to the sequence length)' : ''}:{' '}
      </span>
      {tokens.map((t, i) => (
        <code key={i} className="token">
          {t}
        </code>
      ))}
    </p>
  );
}
