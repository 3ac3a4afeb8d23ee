// The input on the bench, by source: a labeled sample, a drawing, an image file (with its
// preprocessing form) or a tensor file. Whatever the source, the result is one float32 tensor for
// the graph's input, shown beside the outputs.
import { useState } from 'react';
import { useStore } from 'zustand';
import { looksLikeImage, preprocess, type Preprocessing } from '../../../src/inference/image';
import { classNames, imagePreset, inferStore } from '../../state/infer';
import { decodeImage, setInput, showSample } from '../../state/infer-actions';
import type { InferenceSetup, InferenceTaskSetup } from '../../worker/protocol';
import { DrawingPad } from './DrawingPad';
import { PreprocessingForm } from './PreprocessingForm';
import { readTensorFile } from './tensor-file';
import { TensorImage } from './TensorImage';
import { isPairTask, TextBench } from './TextBench';

/** The task whose graph and preprocessing an input is made for: the chosen one, or the first. */
function benchTask(setup: InferenceSetup, task: number | 'auto'): InferenceTaskSetup | undefined {
  return setup.tasks[task === 'auto' ? 0 : task];
}

export function InputBench({ setup }: { setup: InferenceSetup }) {
  const state = useStore(inferStore);
  const task = benchTask(setup, state.task);
  const [error, setError] = useState<string>();
  const [image, setImage] = useState<{ name: string; data: ImageData }>();
  const [custom, setCustom] = useState<Preprocessing>();
  if (!task) return null;
  const preset = (): Preprocessing => imagePreset(state, task.name, task.input?.shape ?? null);
  const use = async (data: ImageData, caption: string, p: Preprocessing) => {
    try {
      setError(undefined);
      const { input, dims } = preprocess(data, p);
      // A multi-modal graph keeps the text on the bench beside the new image.
      const text = task.text ? state.input?.text : undefined;
      await setInput({ input, dims, caption, ...(text ? { text } : {}) });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const input = state.input;
  const imageInput = looksLikeImage(task.input?.shape ?? null);
  const labeledName = state.input?.sample?.task ?? task.name;
  const labeledTask = setup.tasks.find((t) => t.name === labeledName) ?? task;
  const manifestPair = state.manifest?.tasks.find((t) => t.id === task.name)?.pair;
  return (
    <div className="input-bench" data-testid="input-bench">
      {state.source === 'sample' &&
        (labeledTask.labeled ? (
          <div className="toolbar">
            <label>
              From{' '}
              <select
                aria-label="Labeled set"
                value={labeledTask.name}
                onChange={(e) => void showSample(e.target.value, 0)}
              >
                {setup.tasks
                  .filter((t) => t.labeled)
                  .map((t) => (
                    <option key={t.name}>{t.name}</option>
                  ))}
              </select>
            </label>
            <button
              type="button"
              onClick={() => void showSample(labeledTask.name, (input?.sample?.index ?? 0) - 1)}
            >
              ← Previous
            </button>
            <button
              type="button"
              onClick={() => void showSample(labeledTask.name, (input?.sample?.index ?? -1) + 1)}
            >
              Next →
            </button>
            <button
              type="button"
              onClick={() =>
                void showSample(
                  labeledTask.name,
                  Math.floor(Math.random() * (labeledTask.labeled?.count ?? 1)),
                )
              }
            >
              Random
            </button>
          </div>
        ) : (
          <p className="muted">No labeled set for {task.name}: add one above, or use another input.</p>
        ))}
      {(state.source === 'draw' || state.source === 'image') && !imageInput && (
        <p className="hint" data-testid="not-an-image">
          This model's input {task.input?.name} [{(task.input?.shape ?? []).map((d) => d ?? '?').join(', ')}]
          is not an image: give it a tensor file or a labeled sample.
        </p>
      )}
      {state.source === 'draw' && imageInput && (
        <>
          <p className="muted small">
            Draw a digit; it is scaled down to the model's input as the manifest says.
          </p>
          <DrawingPad onImage={(data) => void use(data, 'your drawing', preset())} />
        </>
      )}
      {state.source === 'image' && imageInput && (
        <>
          <label className="file-button">
            Choose an image…
            <input
              type="file"
              accept="image/*"
              aria-label="Image file"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                if (!file) return;
                void decodeImage(file)
                  .then((data) => {
                    setImage({ name: file.name, data });
                    return use(data, file.name, custom ?? preset());
                  })
                  .catch((err: unknown) =>
                    setError(`${file.name}: ${err instanceof Error ? err.message : String(err)}`),
                  );
              }}
            />
          </label>
          <PreprocessingForm
            value={custom ?? preset()}
            onChange={(p) => {
              setCustom(p);
              if (image) void use(image.data, image.name, p);
            }}
          />
        </>
      )}
      {state.source === 'text' &&
        (task.text ? (
          <TextBench
            key={input?.text ? `${input.text.text}\u0000${input.text.pair ?? ''}` : ''}
            task={task}
            pair={isPairTask(task, manifestPair)}
          />
        ) : (
          <p className="hint">
            This model takes no text: give it an image, a tensor file or a labeled sample.
          </p>
        ))}
      {state.source === 'tensor' && (
        <label className="file-button">
          Choose a tensor file (.npy, .safetensors)…
          <input
            type="file"
            accept=".npy,.safetensors"
            aria-label="Tensor file"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              if (!file || !task.input) return;
              void readTensorFile(file, task.input)
                .then(({ input: data, dims, caption }) => {
                  setError(undefined);
                  return setInput({ input: data, dims, caption });
                })
                .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
            }}
          />
        </label>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {input && (
        <figure className="bench-input">
          {input.input && input.dims && (
            <TensorImage data={input.input} dims={input.dims} label={`Input: ${input.caption}`} />
          )}
          {input.text && (
            <blockquote className="bench-text" data-testid="bench-text">
              <p>{input.text.text}</p>
              {input.text.pair !== null && <p className="pair-text">{input.text.pair}</p>}
            </blockquote>
          )}
          {input.feeds && !input.input && (
            <p className="muted small">
              {input.feeds.map((f) => `${f.name} [${f.dims.join(', ')}]`).join(' · ')}
            </p>
          )}
          <figcaption className="muted small" data-testid="input-caption">
            {input.caption}
            {input.label !== undefined &&
              ` · label ${classNames(state, labeledName)?.[input.label] ?? input.label}`}
          </figcaption>
        </figure>
      )}
    </div>
  );
}
