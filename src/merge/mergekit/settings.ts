// mergekit's parameter settings (mergekit/config.py): a value may be a scalar, a gradient (a list
// of numbers interpolated over layer depth) or a list of conditionals `{filter, value}` tried in
// order on the tensor's name (a substring; no filter or "*" matches every tensor; the first match
// wins, and none leaves the parameter to the next level). Depth follows mergekit's plan.py: the
// tensors of layer i of L have t = i/(L − 1) (t = 1 when L = 1), every other tensor (embeddings,
// final norm, head) t = 0.

/** A recipe's parameter value that is no setting mergekit reads. */
export class MergekitSettingError extends RangeError {
  override readonly name = 'MergekitSettingError';
}
const MergekitParamError = MergekitSettingError;

export type Scalar = number | boolean | string;
export interface Conditional {
  readonly filter?: string | undefined;
  readonly value: Scalar | readonly Scalar[];
}
export type Setting = Scalar | readonly Scalar[] | readonly Conditional[];

/** The recipe's settings: top level (every model's default) and per model, task order. */
export interface RecipeSettings {
  readonly global: Readonly<Record<string, Setting>>;
  readonly models: readonly Readonly<Record<string, Setting>>[];
}

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string';

/** Checks a value read from YAML is a setting; `where` names it in the error. */
export function checkSetting(where: string, v: unknown): Setting {
  if (isScalar(v)) return v;
  if (!Array.isArray(v) || v.length === 0)
    throw new MergekitParamError(`${where}: expected a value, a gradient list or a list of {filter, value}`);
  if (v.every(isScalar)) return v as Scalar[];
  return v.map((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new MergekitParamError(`${where}[${i}]: mix of values and {filter, value} entries`);
    const rec = c as Record<string, unknown>;
    const extra = Object.keys(rec).filter((k) => k !== 'filter' && k !== 'value');
    if (extra.length)
      throw new MergekitParamError(`${where}[${i}]: unknown key "${extra[0]}" (known: filter, value)`);
    if (rec['filter'] !== undefined && rec['filter'] !== null && typeof rec['filter'] !== 'string')
      throw new MergekitParamError(`${where}[${i}].filter must be a string`);
    const value = rec['value'];
    if (!(isScalar(value) || (Array.isArray(value) && value.length > 0 && value.every(isScalar))))
      throw new MergekitParamError(`${where}[${i}].value must be a value or a gradient list`);
    return { filter: (rec['filter'] as string | null | undefined) ?? undefined, value } as Conditional;
  });
}

/** mergekit's `evaluate_setting(tensor_name, setting, t)`; undefined where it returns None. */
export function evaluateSetting(tensorName: string, setting: Setting, t: number): Scalar | undefined {
  if (isScalar(setting)) return setting;
  const list = setting as readonly (Scalar | Conditional)[];
  if (list.every((e) => typeof e === 'number')) {
    const values = list as readonly number[];
    const scaled = t * (values.length - 1);
    const i0 = Math.trunc(scaled);
    const i1 = Math.min(values.length - 1, i0 + 1);
    const frac = scaled - i0;
    return (1 - frac) * (values[i0] as number) + frac * (values[i1] as number);
  }
  if (list.every(isScalar)) return list[Math.trunc(t * (list.length - 1))] as Scalar;
  for (const cond of list as readonly Conditional[])
    if (cond.filter === undefined || cond.filter === '*' || (tensorName && tensorName.includes(cond.filter)))
      return evaluateSetting(tensorName, cond.value as Setting, t);
  return undefined;
}

/** A value of the setting to check names and types against before any tensor is read. */
export function probeSetting(setting: Setting): Scalar {
  if (isScalar(setting)) return setting;
  const first = (setting as readonly (Scalar | Conditional)[])[0] as Scalar | Conditional;
  if (isScalar(first)) return first;
  const v = first.value;
  return isScalar(v) ? v : (v[0] as Scalar);
}

/** The transformer block index in a tensor's name (`…layers.3.…`, GPT-2's `h.3`, BERT's `layer.3`, ViT's `blocks.3`). */
const LAYER = /(?:^|\.)(?:layers|layer|h|blocks|block)\.(\d+)\./;

export function layerIndex(tensorName: string): number | undefined {
  const m = LAYER.exec(tensorName);
  return m ? Number(m[1]) : undefined;
}

/** The number of layers among the names: one more than the largest block index (0 if none). */
export function layerCount(names: readonly string[]): number {
  let max = -1;
  for (const n of names) max = Math.max(max, layerIndex(n) ?? -1);
  return max + 1;
}

/** Each tensor's depth t as mergekit's plan gives it (see the header). */
export function depthOf(tensorName: string, numLayers: number): number {
  const i = layerIndex(tensorName);
  if (i === undefined) return 0;
  return numLayers > 1 ? i / (numLayers - 1) : 1;
}
