// Runs a mergekit method over a model set, one shared tensor at a time: the method's top-k,
// quantiles, L1 norms and DELLA's ranks need a tensor's whole task vectors, so each tensor is read
// whole (the base and the N tasks, widened to f32) and merged by the CPU kernels of ./kernels —
// memory bounded by the largest tensor (about (N + 2) · 8 bytes an element), never the model. The
// result is one merged model, like the baselines'. The element-wise steps run on the engine's
// programs when it has them (the GPU engine's, bit-identical): the GTA methods' end (./gta-mix:
// consensus, weighted sums, normalize, λ), DARE's and DELLA's drops, slerp's a·v0 + b·v1 and
// nuslerp's (÷ sin θ) for one vector or per row (./slerp-run), linear (./linear-mix) and
// model_stock's blend once its t is known (./stock-blend). On the CPU under either engine: the
// top-k and outlier masks and DELLA's ranks (their index-ordered tie-breaking), the L1 rescale,
// model_stock's cosines, slerp's and nuslerp's factors, nuslerp along dim 0 and multislerp
// (docs/merge.md#mergekit, "On the GPU"). A recipe's gradients and filters are resolved per
// tensor from its name and depth (./settings).
import type { TensorName } from '../../formats/tensor';
import type { MergeEngine } from '../engine';
import type { ModelSet } from '../model-set';
import { NonFiniteTally, type NonFiniteReport } from '../non-finite';
import { forEachWholeTensor, type WholeTensorOptions } from '../whole-tensors';
import {
  gtaMixInput,
  gtaMixInputWith,
  linearMixInput,
  modelStockInput,
  type GtaSettings,
  type TensorArgs,
} from './kernels';
import { linearMix } from './linear-mix';
import { stockBlend } from './stock-blend';
import { gtaMix } from './gta-mix';
import { nonFiniteCounts } from '../cpu/kernels';
import { resolveModel, specForTensor, type MergekitSpec } from './spec';
import { depthOf, layerCount } from './settings';
import { slerpTensorOf, checkSlerpSet } from './slerp-run';

export class MergekitSetError extends RangeError {
  override readonly name = 'MergekitSetError';
}

/** What runMerge's options give this pass. */
export type MergekitRunOptions = WholeTensorOptions;

export interface MergekitOutput {
  readonly merged: ReadonlyMap<TensorName, Float32Array>;
  readonly bytesRead: number;
  readonly nonFinite: NonFiniteReport;
}

export async function runMergekit(
  set: ModelSet,
  spec: MergekitSpec,
  options: MergekitRunOptions = {},
  /** An engine with a program for the GTA mix (the GPU engine) runs it; else the CPU function. */
  engine?: Programs,
): Promise<MergekitOutput> {
  const mix = async (s: GtaSettings, a: TensorArgs) => {
    const drop = engine?.randomDrop?.bind(engine);
    const x = drop ? await gtaMixInputWith(s, a, drop) : gtaMixInput(s, a);
    return engine?.gtaMix ? engine.gtaMix(x) : gtaMix(x);
  };
  const numTasks = set.tasks.length;
  if (spec.models && spec.models.length !== numTasks)
    throw new MergekitSetError(`${spec.models.length} models have parameters, the set has ${numTasks} tasks`);
  checkSlerpSet(spec, numTasks);
  const numLayers = layerCount(set.shared.map((s) => s.name));
  checkLayerRange(spec, numLayers);
  const specParams = set.tasks.map((_, t) => resolveModel(spec, t));
  const merged = new Map<TensorName, Float32Array>();
  const nonFinite = new NonFiniteTally(set);
  const bytesRead = await forEachWholeTensor(set, options, async (w) => {
    const { tensor } = w;
    const { base, tasks } = await w.all();
    // A recipe's gradients and filters give each tensor its own parameters (./settings).
    const own = spec.settings ? specForTensor(spec, tensor.name, depthOf(tensor.name, numLayers)) : spec;
    const params = own === spec ? specParams : set.tasks.map((_, t) => resolveModel(own, t));
    const args = { name: tensor.name, shape: tensor.shape, base, tasks, params };
    merged.set(tensor.name, await mergeTensor(own, args, engine, mix));
    nonFinite.add(w.index, nonFiniteCounts(base, tasks, tensor.numel));
  });
  return { merged, bytesRead, nonFinite: nonFinite.report() };
}

/** The engine's optional programs for mergekit's element-wise steps (the GPU engine has them all). */
type Programs = Pick<
  MergeEngine,
  'gtaMix' | 'randomDrop' | 'combine2' | 'combineRows' | 'linearMix' | 'stockBlend'
>;

/** One tensor under its own settings: whole-tensor statistics here, element-wise steps on `engine`'s programs. */
async function mergeTensor(
  own: MergekitSpec,
  args: TensorArgs,
  engine: Programs | undefined,
  mix: (s: GtaSettings, a: TensorArgs) => Promise<Float32Array>,
): Promise<Float32Array> {
  switch (own.name) {
    case 'slerp':
    case 'multislerp':
    case 'nuslerp':
      return slerpTensorOf(own, args, engine);
    case 'linear': {
      const x = linearMixInput(own.normalize, args);
      return engine?.linearMix ? engine.linearMix(x) : linearMix(x);
    }
    case 'model_stock': {
      const x = modelStockInput(own.filterWise, args);
      return engine?.stockBlend ? engine.stockBlend(x) : stockBlend(x);
    }
    default:
      return mix(
        {
          name: own.name,
          normalize: own.normalize,
          rescale: own.rescale,
          lambda: own.lambda,
          seed: own.seed,
        },
        args,
      );
  }
}

/** A recipe's single slice must take every layer: slices that cut or stack layers are not merged here. */
function checkLayerRange(spec: MergekitSpec, numLayers: number): void {
  const r = spec.layerRange;
  if (r && (r[0] !== 0 || r[1] !== numLayers))
    throw new MergekitSetError(
      `slices: layer_range [${r[0]}, ${r[1]}] does not cover the models' ${numLayers} layers ([0, ${numLayers}]); only a single slice over all layers is merged here`,
    );
}
