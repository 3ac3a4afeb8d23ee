// What a merge will hold past its memory budget, said before it starts. The streaming methods cut
// their chunks to the budget; mergekit's, the spectral methods and TSV-C read each shared tensor
// whole (src/merge/whole-tensors.ts), so their working memory follows the largest tensor instead —
// a user who set a budget (or the default) hears which tensor passes it and by about how much.
import type { AnyMethodSpec } from '../merge/methods';
import type { ModelSet } from '../merge/model-set';
import { isPerTaskSpec } from '../merge/pertask/spec';
import { DEFAULT_BUDGET_BYTES } from '../merge/scheduler';
import { largestWholeTensor, type WholeTensorPass } from '../merge/whole-tensors';

export function wholeTensorPass(spec: AnyMethodSpec): WholeTensorPass | undefined {
  if (spec.method === 'mergekit') return 'mergekit';
  if (spec.method === 'spectral') return 'spectral';
  if (isPerTaskSpec(spec) && spec.method === 'tsv_c') return 'tsv_c';
  return undefined;
}

function mib(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(b < 10 * 2 ** 20 ? 1 : 0)} MiB`;
  return `${Math.ceil(b / 1024)} KiB`;
}

/** One line when the method reads tensors whole and the largest needs more than the budget; else undefined. */
export function budgetNote(
  set: ModelSet,
  spec: AnyMethodSpec,
  budgetBytes = DEFAULT_BUDGET_BYTES,
): string | undefined {
  const pass = wholeTensorPass(spec);
  const top = pass && largestWholeTensor(set, pass);
  if (!top || top.bytes <= budgetBytes) return undefined;
  return (
    `this method reads each tensor whole, so the memory budget (${mib(budgetBytes)}) does not bound it: ` +
    `the largest, ${top.name} [${top.shape.join(' × ')}], needs about ${mib(top.bytes)} while it is merged`
  );
}
