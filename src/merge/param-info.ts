// The shape of a method's entry in the method table (./method-params): its family, and each
// parameter's name, label, kind, default, range and help. The families' folders build their
// entries from it (./mergekit/params, ./spectral/params, ./pertask/params).
import type { Range } from './param-range';

export type Family = 'emr-paper' | 'mergekit' | 'spectral' | 'per-task';

export const FAMILIES: readonly Family[] = ['emr-paper', 'mergekit', 'spectral', 'per-task'];

export const FAMILY_TITLES: Record<Family, string> = {
  'emr-paper': 'EMR paper',
  mergekit: 'mergekit',
  spectral: 'Spectral (one model)',
  'per-task': 'Per-task',
};

interface ParamBase {
  /** The YAML / --param name. */
  readonly name: string;
  /** The form's label (its unit included). */
  readonly label: string;
  /** One line of help. */
  readonly help: string;
}

export type ParamInfo = ParamBase &
  (
    | {
        readonly kind: 'number' | 'integer';
        readonly default: number;
        readonly range: Range;
        /** The form shows value × scale (TIES's k as a percentage) … */
        readonly scale?: number;
        /** … followed by this unit ("%"). */
        readonly unit?: string;
        /** The form field's step, in the shown unit. */
        readonly step: number;
        /** The symbol the form's messages use ("λ", "k"); the name otherwise. */
        readonly symbol?: string;
        /** The form's message for an empty field. */
        readonly emptyHint?: string;
        /**
         * Where the default depends on the set (TSV-C's sv_reduction is 1/N): an empty field is valid
         * and means this, `default` is NaN, and the parameter is then not handed to the parser.
         */
        readonly emptyMeans?: string;
      }
    | { readonly kind: 'boolean'; readonly default: boolean }
    | {
        readonly kind: 'choice';
        readonly default: string;
        readonly options: readonly { readonly value: string; readonly label: string }[];
      }
    | {
        /** A list of tensor names (the form: separated by commas). */
        readonly kind: 'names';
        readonly default: readonly string[];
      }
    | {
        /** One number for every task, or one per task (task order). */
        readonly kind: 'per-task';
        readonly default: number;
        readonly range: Range;
        readonly step: number;
        readonly symbol?: string;
      }
  );

export interface MethodInfo {
  readonly title: string;
  readonly family: Family;
  /** Whether the result is a model per task (an artefact besides the base) or one model for all. */
  readonly output: 'per-task' | 'one model';
  readonly params: readonly ParamInfo[];
}

/** A true/false parameter labelled by its name. */
export const flag = (name: string, dflt: boolean, help: string): ParamInfo => ({
  name,
  label: name,
  kind: 'boolean',
  default: dflt,
  help,
});
