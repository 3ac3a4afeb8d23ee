// The file picker and the demo button; with no files yet, an invitation to try the demo.
import { useEffect, useRef } from 'react';
import { useStore } from 'zustand';
import { capabilities } from '../../platform/capabilities';
import { addFiles, clearAll, loadDemo } from '../../state/actions';
import { filesStore } from '../../state/files';
import { mergeStore } from '../../state/merge';
import { filesFromList } from '../../load/dropped';
import { AddRemote, AddRemoteButton, RemoteOrigins } from './AddRemote';

export function AddFiles() {
  const input = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  // A folder of models (each in its own folder of shards with the same names) keeps its paths only
  // when picked as a folder; React does not know the attribute.
  useEffect(() => folderInput.current?.setAttribute('webkitdirectory', ''), []);
  // Without folder inputs (older Safari), a folder can still be dropped on the page.
  const folders = capabilities().folderInput;
  const empty = useStore(filesStore, (s) => s.checkpoints.length === 0);
  const demo = useStore(filesStore, (s) => s.demo);
  const hasResult = useStore(mergeStore, (s) => s.result !== undefined);
  const busy = useStore(mergeStore, (s) => s.running) || demo.loading;
  return (
    <div className={empty ? 'add-files empty' : 'add-files'}>
      {empty && (
        <div className="invite">
          <p className="invite-title">Drop a base model and its fine-tuned copies anywhere on this page.</p>
          <p className="muted">
            safetensors (single or sharded with its <code>index.json</code>), ONNX with its external data, or
            a folder. Files are read on this machine only.
          </p>
          <p>
            New here? <strong>Load the demo</strong>: a tiny vision transformer fine-tuned on 8 digit tasks.
          </p>
        </div>
      )}
      <div className="actions">
        <button
          type="button"
          className={empty ? 'primary' : ''}
          onClick={() => void loadDemo()}
          disabled={demo.loading || demo.loaded !== undefined}
        >
          {demo.loading ? 'Loading demo…' : demo.loaded === 'digits-8' ? 'Demo loaded' : 'Load demo'}
        </button>
        <button
          type="button"
          onClick={() => void loadDemo('words-4')}
          disabled={demo.loading || demo.loaded !== undefined}
        >
          {demo.loaded === 'words-4' ? 'Text demo loaded' : 'Text demo (words-4, LoRA adapters)'}
        </button>
        <button type="button" onClick={() => input.current?.click()}>
          Add model files…
        </button>
        {folders && (
          <button type="button" onClick={() => folderInput.current?.click()}>
            Add a folder…
          </button>
        )}
        <AddRemoteButton disabled={busy} />
        {/* One click back to an empty page (every file, result and attachment goes). */}
        {(!empty || hasResult) && (
          <button type="button" onClick={() => void clearAll()} disabled={busy} data-testid="clear-all">
            Clear all
          </button>
        )}
        <input
          ref={folderInput}
          type="file"
          aria-label="Add a folder of models"
          className="visually-hidden"
          onChange={(e) => {
            const list = e.currentTarget.files;
            if (list?.length) void addFiles(filesFromList(list));
            e.currentTarget.value = '';
          }}
        />
        <input
          ref={input}
          type="file"
          multiple
          aria-label="Add model files"
          className="visually-hidden"
          accept=".safetensors,.json,.onnx,.data,.bin,.pt,.pth,.ckpt"
          onChange={(e) => {
            const list = e.currentTarget.files;
            if (list?.length) void addFiles(filesFromList(list));
            e.currentTarget.value = ''; // the same file picked again still fires change
          }}
        />
      </div>
      <AddRemote />
      <RemoteOrigins />
      {demo.error && (
        <p className="error" role="alert">
          {demo.error}
        </p>
      )}
    </div>
  );
}
