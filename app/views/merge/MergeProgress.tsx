// The running merge: a bar, bytes and tensors done, throughput and time left.
import { useStore } from 'zustand';
import { mergeStore, rates } from '../../state/merge';
import { formatBytes, formatSeconds } from '../../lib/format';

const PHASES = {
  histogram: 'TIES: ranking |τ| (1/3)',
  threshold: 'TIES: thresholds (2/3)',
  merge: 'Merging',
};

export function MergeProgress() {
  const running = useStore(mergeStore, (s) => s.running);
  const p = useStore(mergeStore, (s) => s.progress);
  // The block keeps its height whether a merge runs or not: no layout jump when one starts.
  if (!running) return <div className="progress idle" aria-hidden="true" />;
  const fraction = p && p.bytesTotal ? p.bytesDone / p.bytesTotal : 0;
  const r = p ? rates(p) : undefined;
  return (
    <div className="progress" data-testid="merge-progress">
      <progress value={fraction} max={1} aria-label="Merge progress" />
      <p className="muted" aria-live="polite">
        {p
          ? `${PHASES[p.phase]}: ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ${p.tensorsDone}/${p.tensorsTotal} tensors · ${formatBytes(r?.bytesPerSecond ?? 0)}/s · ${r?.secondsLeft === undefined ? '…' : `${formatSeconds(r.secondsLeft)} left`}`
          : 'Starting…'}
      </p>
    </div>
  );
}
