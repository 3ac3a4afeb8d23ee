// Step 3: what the merge did. Empty until a merge finishes; a running merge keeps the last one here.
import { useStore } from 'zustand';
import { mergeStore } from '../../state/merge';
import { Charts } from './Charts';
import { Heatmap } from './Heatmap';
import { LowRank } from './LowRank';
import { maskKind } from './mask-method';
import { MaskViewer } from './MaskViewer';
import { NonFinite } from './NonFinite';
import { Rescalers } from './Rescalers';
import { Storage } from './Storage';

export function InspectPanel() {
  const result = useStore(mergeStore, (s) => s.result);
  const kind = result && maskKind(result.spec);
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
          {kind ? (
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
                  ? 'TSV-C keeps no mask: each task’s low-rank factors, above, per layer.'
                  : 'Masks belong to EMR-Merging, TALL masks, Consensus and T-Switch; this method made one merged model for all tasks.'}
              </p>
            </>
          )}
        </div>
      )}
    </section>
  );
}
