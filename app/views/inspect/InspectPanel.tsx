// Step 3: what the merge did. Empty until a merge finishes; a running merge keeps the last one here.
import { useStore } from 'zustand';
import { mergeStore } from '../../state/merge';
import { Charts } from './Charts';
import { Heatmap } from './Heatmap';
import { LowRank } from './LowRank';
import { MaskViewer } from './MaskViewer';
import { NonFinite } from './NonFinite';
import { Rescalers } from './Rescalers';
import { Storage } from './Storage';

export function InspectPanel() {
  const result = useStore(mergeStore, (s) => s.result);
  return (
    <section className="panel" aria-labelledby="inspect-title" id="inspect">
      <h2 id="inspect-title">
        <span className="step">3</span> Inspect
      </h2>
      {!result && (
        <p className="muted">
          Merge to see the rescalers, where each task’s mask keeps the unified task vector, and what it saves.
        </p>
      )}
      {result && (
        <div className="inspect" data-testid="inspect" data-merge-id={result.id}>
          <NonFinite result={result} />
          <div className="two-columns">
            <Rescalers result={result} />
            {result.storage.bundleBytes > 0 && <Storage result={result} />}
          </div>
          {result.spec.method === 'emr' ? (
            <>
              <Heatmap result={result} />
              <MaskViewer result={result} />
              <Charts result={result} />
            </>
          ) : (
            <>
              <LowRank result={result} />
              <p className="muted">
                {result.spec.method === 'tsv_c'
                  ? 'The mask heatmap and viewer read EMR’s masks; TSV-C keeps low-rank factors, above, per layer.'
                  : result.tasks.some((t) => t.perTask)
                    ? 'The mask heatmap and viewer read EMR’s masks; above, each task’s mask density and the artefact’s size.'
                    : 'Masks and rescalers belong to EMR-Merging; this method made one merged model for all tasks.'}
              </p>
            </>
          )}
        </div>
      )}
    </section>
  );
}
