// The files the page opened in the worker, by the ids the page gave them: each checkpoint read from
// its headers (with its adapter_config.json when it is a PEFT adapter), its card's summary, and the
// model set a selection of them makes — checked by src/flow/checks.ts, refusals listed per file.
import { openCheckpoint } from '../../src/formats/open';
import { blobSource } from '../../src/formats/source';
import type { Checkpoint } from '../../src/formats/tensor';
import { BUNDLE_FORMAT } from '../../src/merge/bundle';
import { isPerTaskArtefact } from '../../src/merge/pertask/artefact';
import type { ModelSet } from '../../src/merge/model-set';
import type { LoraKernel } from '../../src/peft/kernel';
import { parsePeftConfig, type PeftConfig } from '../../src/peft/lora';
import type { TaskSource } from '../../src/peft/set';
import { checkTasks, isSetRefusal, taskModelSet, type SetOptions } from '../../src/flow/checks';
import { errorMessage } from './cancellable';
import { ModelFolders } from './model-folders';
import { RemoteInputs, type RemoteRequest } from './remote';
import type {
  CheckpointSummary,
  OpenOutcome,
  PathedFile,
  RefusedTask,
  RemoteOutcome,
  Selection,
} from './protocol';

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

interface Opened {
  readonly checkpoint: Checkpoint;
  readonly bytes: number;
  readonly peft?: PeftConfig;
}

export type SetOutcome =
  | { readonly set: ModelSet; readonly refused: RefusedTask[]; readonly adapterBytes?: number }
  | { readonly message: string; readonly refused: RefusedTask[] };

export class OpenedFiles {
  private readonly opened = new Map<string, Opened>();
  /** Hugging Face model folders: their side files, for their tasks' exports (./model-folders.ts). */
  readonly folders = new ModelFolders();
  /** Remote checkpoints (./remote.ts): opened from their headers, read by range when merged. */
  private readonly remote = new RemoteInputs();

  async open(id: string, primary: PathedFile, companions: readonly PathedFile[]): Promise<OpenOutcome> {
    try {
      const source = (f: PathedFile) => blobSource(f.file, baseName(f.path));
      // A PEFT adapter: its weights, with adapter_config.json beside them (src/peft).
      const config = companions.find((f) => baseName(f.path) === 'adapter_config.json');
      const peft = config ? parsePeftConfig(await config.file.text(), config.path) : undefined;
      const others = this.folders.opened(
        id,
        primary,
        companions.filter((f) => f !== config),
      );
      const checkpoint = await openCheckpoint(source(primary), others.map(source));
      const bytes = [primary, ...companions].reduce((a, f) => a + f.file.size, 0);
      this.opened.set(id, { checkpoint, bytes, ...(peft ? { peft } : {}) });
      return { ok: true, summary: summarize(checkpoint, bytes, peft) };
    } catch (e) {
      this.opened.delete(id);
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** A Hub repo or an https file, opened from its headers alone. */
  async openRemote(id: string, request: RemoteRequest): Promise<RemoteOutcome> {
    try {
      const { checkpoint, bytes, peft, ...about } = await this.remote.open(id, request);
      this.opened.set(id, { checkpoint, bytes, ...(peft ? { peft } : {}) });
      return { ok: true, summary: summarize(checkpoint, bytes, peft), about };
    } catch (e) {
      this.opened.delete(id);
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** Bytes each remote checkpoint fetched so far (its headers, then merges and exports). */
  remoteFetched(): Record<string, number> {
    return this.remote.fetched();
  }

  forget(id: string): void {
    this.opened.delete(id);
    this.folders.forget(id);
    this.remote.forget(id);
  }

  clear(): void {
    this.opened.clear();
    this.folders.clear();
  }

  checkpoint(id: string): Checkpoint | undefined {
    return this.opened.get(id)?.checkpoint;
  }

  /** The file a checkpoint came from and its size (recent merges record the base's). */
  record(id: string): { file: string; bytes: number } {
    const o = this.opened.get(id);
    return { file: o?.checkpoint.files[0] ?? 'base', bytes: o?.bytes ?? 0 };
  }

  /** The model set of a selection, from headers alone, with task files that fail the checks refused. */
  modelSet(selection: Selection, lora?: LoraKernel, options: SetOptions = {}): SetOutcome {
    const base = this.checkpoint(selection.baseId);
    if (!base)
      return { message: 'Pick a base model: the checkpoint the tasks were fine-tuned from.', refused: [] };
    const present = selection.tasks.flatMap((t) => {
      const o = this.opened.get(t.id);
      return o
        ? [
            {
              id: t.id,
              opened: o,
              source: {
                name: t.name,
                checkpoint: o.checkpoint,
                ...(o.peft ? { peft: o.peft } : {}),
              } as TaskSource,
            },
          ]
        : [];
    });
    const checked = checkTasks(
      base,
      present.map((p) => p.source),
    );
    const refused: RefusedTask[] = checked.refused.map((r) => ({
      id: (present[r.index] as (typeof present)[number]).id,
      message: r.message,
      differing: r.differing,
    }));
    const accepted = present.filter((_, i) => !checked.refused.some((r) => r.index === i));
    // A recipe merges every model it names, or none; how many it needs was checked on the page
    // (minTasksFor: slerp's one model besides the base).
    if (selection.recipe !== undefined && refused.length)
      return {
        message: `The recipe's models must all fit the base: ${checked.refused
          .map((r) => `${present[r.index]?.source.name ?? '?'}: ${r.message}`)
          .join('; ')}`,
        refused,
      };
    try {
      const set = taskModelSet(
        base,
        accepted.map((p) => p.source),
        lora,
        options,
      );
      // The adapters' own bytes, when every task is a PEFT adapter (the Storage card compares them).
      const adapters = accepted.length > 0 && accepted.every((p) => p.opened.peft);
      const adapterBytes = adapters ? accepted.reduce((a, p) => a + p.opened.bytes, 0) : undefined;
      return { set, refused, ...(adapterBytes === undefined ? {} : { adapterBytes }) };
    } catch (e) {
      if (isSetRefusal(e)) return { message: e.message, refused };
      throw e;
    }
  }
}

function summarize(checkpoint: Checkpoint, bytes: number, peft?: PeftConfig): CheckpointSummary {
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  for (const e of checkpoint.tensors.values()) {
    dtypes[e.dtype] = (dtypes[e.dtype] ?? 0) + 1;
    parameters += e.shape.reduce((a, d) => a * d, 1);
  }
  return {
    format: checkpoint.format,
    files: [...checkpoint.files],
    tensorCount: checkpoint.tensors.size,
    parameters,
    dtypes,
    bytes,
    isBundle: checkpoint.metadata.get('format') === BUNDLE_FORMAT || isPerTaskArtefact(checkpoint),
    ...(peft ? { peft: { type: peft.peftType, r: peft.r, alpha: peft.loraAlpha } } : {}),
  };
}
