// The engine test suite: one set of cases that every MergeEngine must pass ("the engines share one
// interface and one test suite": docs/architecture.md#engines). Per chunk, every method against the
// CPU twins (the JavaScript kernels of ../cpu/kernels): masks, elected signs and τ_uni bit for bit,
// the rescalers' sums to f32-partial precision; on ties (a zero mean elects −1), zeros, NaN, sizes
// around the 32-element mask words, N = 2, 8, 32, F32/F16/BF16 inputs at unaligned byte offsets,
// and tensors larger than one binding under a small forced limit. NaN/±∞ in base and tasks
// (F32/F16/BF16, and finite values that only overflow when narrowed): every merging pass counts
// them per model, equal to a count of the stored bits, and merges them as the twins do. Whole
// merges against the naive whole-tensor reference (../reference): masks and τ_uni identical, λ
// within 1e-6 relative, task models (F32, F16, BF16) bit for bit. Registered with
// `engineSuite(label, make)` from a test file per engine.
// The cases live one file per kernel family (./engine-suite-*.ts); this index registers them and
// re-exports the inputs and checks that engines' own tests use.
import { electSuite } from './engine-suite-elect';
import { linearSuite } from './engine-suite-linear';
import { nonFiniteSuite } from './engine-suite-non-finite';
import { reconstructSuite } from './engine-suite-reconstruct';
import { engineRunner, type EngineFactory } from './engine-suite-checks';
import { wholeMergeSuite } from './engine-suite-whole';

export {
  expectEmrEqualsReference,
  expectSameEmrChunk,
  type EngineFactory,
  type EngineLimits,
} from './engine-suite-checks';
export {
  makeSet,
  nonFiniteChunk,
  randomLayers,
  referenceInput,
  stored,
  testChunk,
  unpackMask,
  type Layer,
} from './engine-suite-inputs';

export function engineSuite(label: string, make: EngineFactory): void {
  const using = engineRunner(make);
  electSuite(label, using);
  reconstructSuite(label, using);
  linearSuite(label, using);
  nonFiniteSuite(label, using);
  wholeMergeSuite(label, using);
}
