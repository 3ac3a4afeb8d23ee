// The inspect slice: what the heatmap and the mask viewer show.
import { createStore } from 'zustand/vanilla';
import type { ViewMode } from '../worker/protocol';

export type HeatmapSort = 'model' | 'density' | 'conflict' | 'size';
export type ColourScale = 'linear' | 'log';

export interface InspectState {
  readonly tensor: string | undefined;
  readonly task: number;
  readonly compare: ViewMode;
  readonly otherTask: number;
  readonly sort: HeatmapSort;
  readonly scale: ColourScale;
  /** Blocks the user folded away, by group name. */
  readonly collapsed: Readonly<Record<string, boolean>>;
}

export const initialInspect: InspectState = {
  tensor: undefined,
  task: 0,
  compare: 'sign',
  otherTask: 1,
  sort: 'model',
  scale: 'linear',
  collapsed: {},
};

export const inspectStore = createStore<InspectState>(() => initialInspect);

/** The block a tensor belongs to: "blocks.3.attn.qkv.weight" → "blocks.3"; others by first part. */
export function blockOf(name: string): string {
  const m = /^(.*?(?:^|\.)(?:blocks|layers?|h|encoder\.layer|decoder\.layers?)\.\d+)\./.exec(name);
  if (m?.[1]) return m[1];
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** Depth of a block ("blocks.3" → 3), undefined for tensors outside numbered blocks. */
export function depthOf(name: string): number | undefined {
  const m = /(?:^|\.)(?:blocks|layers?|h|layer)\.(\d+)\./.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export interface TensorGroup<T> {
  readonly block: string;
  readonly tensors: readonly T[];
}

/** Tensors grouped by block, blocks in the model's order (first appearance). */
export function groupByBlock<T extends { name: string }>(tensors: readonly T[]): TensorGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const t of tensors) {
    const b = blockOf(t.name);
    groups.set(b, [...(groups.get(b) ?? []), t]);
  }
  return [...groups].map(([block, list]) => ({ block, tensors: list }));
}
