// Recent merges (kept in the origin-private file system by the worker): listing, restoring with
// their base, deleting.
import { createStore } from 'zustand/vanilla';
import { formatBytes } from '../lib/format';
import { studioWorker } from '../worker/client';
import type { RecentMerge } from '../worker/protocol';
import { addFiles, loadDemo, openBundle, setRole } from './actions';
import { DEMOS } from '../load/demo';
import { filesStore } from './files';

export interface RecentState {
  readonly merges: readonly RecentMerge[];
  readonly message: { readonly ok: boolean; readonly text: string } | undefined;
}

export const recentStore = createStore<RecentState>(() => ({ merges: [], message: undefined }));

export async function refreshRecent(): Promise<void> {
  const { merges, problem } = await studioWorker().recentMerges();
  recentStore.setState({ merges, ...(problem ? { message: { ok: false, text: problem } } : {}) });
}

export async function deleteRecent(id: string): Promise<void> {
  await studioWorker().removeRecent(id);
  await refreshRecent();
}

/**
 * Restores a recent merge: its base must be among the files (the demo's is loaded again); the
 * bundle is added like a dropped file and opened with it.
 */
export async function restoreRecent(merge: RecentMerge): Promise<void> {
  const say = (ok: boolean, text: string) => recentStore.setState({ message: { ok, text } });
  if (merge.origin === 'demo') {
    const zoo = DEMOS.find((d) => d.zoo === merge.zoo)?.zoo ?? 'digits-8';
    const loaded = filesStore.getState().demo.loaded;
    if (loaded && loaded !== zoo) {
      say(
        false,
        `This merge is of the ${zoo} demo, and the ${loaded} demo is loaded: Clear all, then restore again.`,
      );
      return;
    }
    await loadDemo(zoo);
  }
  const files = filesStore.getState();
  const base =
    files.checkpoints.find((c) => c.label === merge.base.file && c.summary?.bytes === merge.base.bytes) ??
    files.checkpoints.find((c) => c.role === 'base');
  if (!base) {
    say(
      false,
      `Add the base model it was merged from (${merge.base.file}, ${formatBytes(merge.base.bytes)}), then restore again.`,
    );
    return;
  }
  if (base.role !== 'base') await setRole(base.id, 'base');
  const label = `${merge.id}.safetensors`;
  if (!filesStore.getState().checkpoints.some((c) => c.label === label))
    // The bundle joins the files already there: they stay the demo's (so step 4 attaches the
    // demo's graphs and labeled sets), or the user's.
    await addFiles([{ path: label, file: await studioWorker().recentBundle(merge.id) }], {
      origin: filesStore.getState().origin === 'demo' ? 'demo' : 'user',
      ...(filesStore.getState().demo.loaded ? { zoo: filesStore.getState().demo.loaded } : {}),
    });
  const bundle = filesStore.getState().checkpoints.find((c) => c.label === label);
  if (!bundle || bundle.status !== 'ready') {
    say(false, bundle?.error ?? `${label} could not be opened.`);
    return;
  }
  await openBundle(bundle.id);
  say(true, `Restored the merge of ${merge.savedAt.slice(0, 16).replace('T', ' ')} with ${base.label}.`);
}
