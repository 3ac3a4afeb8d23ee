// The results kept, one per method: which one Inspect, Try, Evaluate and Export read, and where
// each is — in memory, or spilled to this browser's private storage past the memory budget (read
// back when switched to). Shown once there is more than one.
import { useStore } from 'zustand';
import { describeMethod } from '../../../src/merge/methods';
import { chooseResult } from '../../state/kept';
import { mergeStore } from '../../state/merge';

export function ResultSwitcher() {
  const kept = useStore(mergeStore, (s) => s.kept);
  const shown = useStore(mergeStore, (s) => s.result?.id);
  const running = useStore(mergeStore, (s) => s.running);
  const switching = useStore(mergeStore, (s) => s.switching);
  if (kept.length < 2) return null;
  const onDisk = kept.filter((k) => k.onDisk).length;
  const reading = switching !== undefined && kept.find((k) => k.summary.id === switching);
  const option = (k: (typeof kept)[number]) => (
    <option key={k.summary.id} value={k.summary.id} data-on-disk={k.onDisk ? 'true' : 'false'}>
      {describeMethod(k.summary.spec)}
    </option>
  );
  return (
    <div className="result-switcher-box">
      <label className="field inline result-switcher">
        <span>Result shown ({kept.length} kept, one per method)</span>
        <select
          data-testid="result-switcher"
          value={shown ?? ''}
          disabled={running || switching !== undefined}
          onChange={(e) => void chooseResult(Number(e.currentTarget.value))}
        >
          {onDisk === 0 ? (
            kept.map(option)
          ) : (
            <>
              <optgroup label="In memory">{kept.filter((k) => !k.onDisk).map(option)}</optgroup>
              <optgroup label="On disk (spilled, reloads on switch)">
                {kept.filter((k) => k.onDisk).map(option)}
              </optgroup>
            </>
          )}
        </select>
      </label>
      {onDisk > 0 && (
        <p className="muted small kept-places" data-testid="kept-places">
          {kept.length - onDisk} in memory, {onDisk} on disk (spilled, reloads on switch):{' '}
          {kept
            .filter((k) => k.onDisk)
            .map((k) => describeMethod(k.summary.spec))
            .join('; ')}
          . Past the memory budget the oldest results go to this browser&apos;s private storage as their own
          artefact and come back unchanged.
        </p>
      )}
      {reading && (
        <p className="muted small" role="status" data-testid="kept-reading">
          Reading {describeMethod(reading.summary.spec)} back{reading.onDisk ? ' from disk' : ''}…
        </p>
      )}
    </div>
  );
}
