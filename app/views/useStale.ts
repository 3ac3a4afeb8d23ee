// ui1: whether the merge result on screen is out of date, for the views (re-rendered when the
// files or the merge form change).
import { useStore } from 'zustand';
import { filesStore } from '../state/files';
import { mergeStore } from '../state/merge';
import { mergeStale } from '../state/stale';

export function useMergeStale(): boolean {
  const byFiles = useStore(filesStore, (f) => mergeStale(f, mergeStore.getState()));
  const byForm = useStore(mergeStore, (m) => mergeStale(filesStore.getState(), m));
  return byFiles || byForm;
}
