// The export slice: which export is being written, and the outcome of each, beside its button.
import { createStore } from 'zustand/vanilla';

export interface ExportsState {
  /** Key of the export being written ("bundle", "task:2", "zip"). */
  readonly busy: string | undefined;
  readonly outcomes: Readonly<Record<string, { readonly ok: boolean; readonly message: string }>>;
}

export const initialExports: ExportsState = { busy: undefined, outcomes: {} };
export const exportsStore = createStore<ExportsState>(() => initialExports);
