// Step 1: the models. Adding files, each file's card, the alignment report.
import { useStore } from 'zustand';
import { useShallow } from 'zustand/shallow';
import { filesStore, taskNameProblems } from '../../state/files';
import { AddFiles } from './AddFiles';
import { AlignmentReport } from './AlignmentReport';
import { CheckpointCard } from './CheckpointCard';
import { RecentMerges } from './RecentMerges';

export function LoadPanel() {
  const checkpoints = useStore(filesStore, (s) => s.checkpoints);
  const skipped = useStore(filesStore, (s) => s.skipped);
  const problems = useStore(
    filesStore,
    useShallow((s) => Object.fromEntries(taskNameProblems(s))),
  );
  return (
    <section className="panel" aria-labelledby="load-title" id="models">
      <h2 id="load-title">
        <span className="step">1</span> Models
      </h2>
      <AddFiles />
      <RecentMerges />
      {checkpoints.length > 0 && (
        <ul className="checkpoints" aria-label="Checkpoints">
          {checkpoints.map((c) => (
            <CheckpointCard key={c.id} c={c} nameProblem={problems[c.id]} />
          ))}
        </ul>
      )}
      {skipped.length > 0 && <p className="muted">Not model files, ignored: {skipped.join(', ')}</p>}
      <AlignmentReport />
    </section>
  );
}
