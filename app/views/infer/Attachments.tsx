// Which graph runs each task and which labeled set scores it; the user adds their own here.
import { useState } from 'react';
import { useStore } from 'zustand';
import { inferStore } from '../../state/infer';
import { attachImageFolders, attachLabeledFiles } from '../../state/attach-batch';
import { attachGraph, attachTokenizer } from '../../state/infer-actions';
import type { InferenceSetup } from '../../worker/protocol';

const pathed = (files: FileList | null) =>
  [...(files ?? [])].map((f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob }));

export function Attachments({ setup }: { setup: InferenceSetup }) {
  const message = useStore(inferStore, (s) => s.attachMessage);
  const [target, setTarget] = useState('*');
  const needsTokenizer = setup.tasks.some((t) => t.text) && !setup.tokenizer;
  const missing = setup.tasks.filter(
    (t) => !t.graph || t.graphProblem || !t.labeled || (t.text && !setup.tokenizer),
  ).length;
  return (
    <details className="attachments" open={missing > 0}>
      <summary>
        Graphs and labeled sets{' '}
        <span className="muted">
          ({setup.tasks.length - missing} of {setup.tasks.length} tasks ready)
        </span>
      </summary>
      <table className="numbers" data-testid="infer-setup">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">ONNX graph</th>
            <th scope="col">Input</th>
            <th scope="col">Labeled set</th>
          </tr>
        </thead>
        <tbody>
          {setup.tasks.map((t) => (
            <tr key={t.name}>
              <th scope="row">{t.name}</th>
              <td>
                {t.graph ? (
                  `${t.graph.file}${t.graph.own ? ' (its own)' : ''}`
                ) : (
                  <span className="muted">none: add one</span>
                )}
                {t.graphProblem && <p className="error">{t.graphProblem}</p>}
              </td>
              <td>
                {t.text
                  ? `text: ${[t.text.ids, t.text.mask, t.text.typeIds].filter(Boolean).join(', ')} (${t.text.maxLength} tokens)${t.floatInput ? ` + ${t.floatInput}` : ''}`
                  : t.input
                    ? `${t.input.name} [${(t.input.shape ?? []).map((d) => d ?? '?').join(', ')}]`
                    : '—'}
              </td>
              <td>
                {t.labeled ? `${t.labeled.file} (${t.labeled.count})` : <span className="muted">none</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className={needsTokenizer ? 'error' : 'muted small'} data-testid="tokenizer">
        {setup.tokenizer
          ? `Tokenizer: ${setup.tokenizer.file}${setup.tokenizer.config ? ` + ${setup.tokenizer.config}` : ''}`
          : needsTokenizer
            ? 'These graphs take text: add their tokenizer.json (with tokenizer_config.json).'
            : 'No tokenizer (the graphs take no text).'}
      </p>
      <div className="toolbar">
        <label>
          For{' '}
          <select aria-label="Attach to task" value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="*">every task</option>
            {setup.tasks.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label className="file-button">
          Add ONNX graph…
          <input
            type="file"
            accept=".onnx,.data,.bin"
            multiple
            aria-label="Add ONNX graph"
            onChange={(e) => {
              const files = pathed(e.currentTarget.files);
              e.currentTarget.value = '';
              if (files.length) void attachGraph(files, target);
            }}
          />
        </label>
        <label className="file-button">
          Add labeled set…
          <input
            type="file"
            accept=".safetensors,.jsonl,.ndjson,.csv"
            multiple
            aria-label="Add labeled set"
            onChange={(e) => {
              // For every task (or several files): each set goes to the task it is named after.
              const files = pathed(e.currentTarget.files);
              e.currentTarget.value = '';
              if (files.length) void attachLabeledFiles(files, target);
            }}
          />
        </label>
        <label className="file-button">
          Add tokenizer…
          <input
            type="file"
            accept=".json"
            multiple
            aria-label="Add tokenizer"
            onChange={(e) => {
              const files = pathed(e.currentTarget.files);
              e.currentTarget.value = '';
              if (files.length) void attachTokenizer(files);
            }}
          />
        </label>
        <label className="file-button">
          Add folder of images by class…
          <input
            type="file"
            aria-label="Add labeled image folder"
            // A folder picker: every file under it, with its path (CLASS/image.png).
            {...{ webkitdirectory: '' }}
            onChange={(e) => {
              const files = pathed(e.currentTarget.files);
              e.currentTarget.value = '';
              // For every task: one folder per task inside the picked one, matched by name.
              if (files.length) void attachImageFolders(files, target);
            }}
          />
        </label>
      </div>
      <p className="muted small">
        A task that came as safetensors runs in the graph you give it: its initializer names must match the
        weights' names. A labeled set is a safetensors file with <code>inputs</code> and <code>labels</code>{' '}
        (or one tensor per graph input), or for a graph that takes text, JSON Lines or CSV with{' '}
        <code>text</code>[, <code>text_pair</code>], <code>label</code>; a folder holding such a file whose
        rows name an <code>image</code> is a set for a graph that takes an image and a text. For every task,
        each set goes to the task it is named after (<code>eval/plain.safetensors</code> → plain, or a folder
        named after the task).
      </p>
      {message && (
        <p className={message.ok ? 'muted' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      {message?.lines && (
        <ul className="attach-lines small" data-testid="attach-lines">
          {message.lines.map((l) => (
            <li key={l.text} className={l.ok ? 'muted' : 'error'}>
              {l.text}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
