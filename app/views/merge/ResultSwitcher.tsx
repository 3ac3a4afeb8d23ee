// The results kept, one per method: which one Inspect, Try, Evaluate and Export read. Shown once
// there is more than one.
import { useStore } from 'zustand';
import { describeMethod } from '../../../src/merge/methods';
import { chooseResult } from '../../state/kept';
import { mergeStore } from '../../state/merge';

export function ResultSwitcher() {
  const kept = useStore(mergeStore, (s) => s.kept);
  const shown = useStore(mergeStore, (s) => s.result?.id);
  const running = useStore(mergeStore, (s) => s.running);
  if (kept.length < 2) return null;
  return (
    <label className="field inline result-switcher">
      <span>Result shown ({kept.length} kept, one per method)</span>
      <select
        data-testid="result-switcher"
        value={shown ?? ''}
        disabled={running}
        onChange={(e) => void chooseResult(Number(e.currentTarget.value))}
      >
        {kept.map((k) => (
          <option key={k.summary.id} value={k.summary.id}>
            {describeMethod(k.summary.spec)}
          </option>
        ))}
      </select>
    </label>
  );
}
