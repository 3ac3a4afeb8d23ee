// A typed handle for end-to-end tests (window.__studio): read the stores, shrink the merge budget
// so a merge lasts long enough to cancel, and route exports to downloads. Not used by the UI.
import { exportSettings, resetStores } from './state/actions';
import { filesStore } from './state/files';
import { inferStore } from './state/infer';
import { inspectStore } from './state/inspect';
import { mergeStore } from './state/merge';
import { killStudioWorker, studioWorker } from './worker/client';

export const studioTestApi = {
  files: () => filesStore.getState(),
  merge: () => mergeStore.getState(),
  inspect: () => inspectStore.getState(),
  infer: () => inferStore.getState(),
  /** Bytes the merge scheduler may hold in flight; undefined restores the default. */
  setMergeBudget: (bytes: number | undefined) => studioWorker().setBudget(bytes),
  /** EMR values (τ_uni + masks) past this many bytes spill to OPFS (0: always). */
  setSpillOver: (bytes: number) => studioWorker().setSpillOver(bytes),
  /**
   * The memory budget for kept results is the same spill-over size; past it they spill to OPFS,
   * which this pretends has only `bytes` free (undefined: the browser's quota).
   */
  setKeptScratchRoom: (bytes: number | undefined) => studioWorker().setKeptScratchRoom(bytes),
  /** Task models past this many bytes export as shards (applies to the next merge's summary). */
  setShardBytes: (bytes: number | undefined) => studioWorker().setShardBytes(bytes),
  useFileSystemAccess: (on: boolean) => {
    exportSettings.useFileSystemAccess = on;
  },
  reset: resetStores,
  /** The studio worker dies now: terminated by the page, or closed from inside (as a crash). */
  killStudioWorker,
};

export type StudioTestApi = typeof studioTestApi;

declare global {
  interface Window {
    __studio?: StudioTestApi;
  }
}
