// The papers' own numbers (ViT-B/32, 8 vision tasks), quoted in issues #19 and #20 and in
// docs/results.md: one home for them, so the studio's reference table beside the Pareto chart and
// the docs' tables say the same thing (paper-numbers.test.ts holds docs/results.md to this file).
// They are quotations, kept as the papers print them; they are not measured here.

export interface PaperNumber {
  /** The method as docs/results.md's papers' table names it. */
  readonly method: string;
  /** The studio's `--method` names it corresponds to (none for the individual models). */
  readonly methods: readonly string[];
  readonly backbone: string;
  /** The paper's average accuracy over the tasks, %, as printed. */
  readonly accuracy: string;
  /** % of the individual models' accuracy, as printed; `≈` where the issue gives it rounded. */
  readonly ofIndividual: string;
  /** What the method keeps per task (besides the pretrained model). */
  readonly artefact: string;
  /** 'yes', or what the method chooses on validation data. */
  readonly dataFree: string;
  readonly code: string;
  /** Where the number comes from. */
  readonly source: string;
}

const VIT = 'ViT-B/32, 8 tasks';

/** The per-task methods beyond EMR and the spectral single models (issues #19 and #20). */
export const PAPER_NUMBERS: readonly PaperNumber[] = [
  {
    method: 'EMR-Merging (2024)',
    methods: ['emr'],
    backbone: VIT,
    accuracy: '88.7',
    ofIndividual: '98.0',
    artefact: '1-bit mask + λ',
    dataFree: 'yes',
    code: 'harveyhuang18/EMR_Merging',
    source: 'EMR-Merging paper, Table 2 (individual 90.5); issue #20',
  },
  {
    method: 'TALL masks + TIES (ICML 2024)',
    methods: ['tall_mask'],
    backbone: VIT,
    accuracy: '93.13',
    ofIndividual: '100.4',
    artefact: '1-bit mask',
    dataFree: 'mask λ on validation',
    code: 'nik-dim/tall_masks',
    source: 'TALL-masks paper, on its own checkpoints (individual 92.8); issue #20',
  },
  {
    method: 'Consensus TA / TIES (same paper)',
    methods: ['consensus_ta', 'consensus_ties'],
    backbone: VIT,
    accuracy: '75.0',
    ofIndividual: '80.8',
    artefact: 'none (one model)',
    dataFree: 'scaling on validation',
    code: 'nik-dim/tall_masks',
    source: 'TALL-masks paper (individual 92.8); issue #20',
  },
  {
    method: 'TSV-C (CVPR 2025)',
    methods: ['tsv_c'],
    backbone: VIT,
    accuracy: '92.62',
    ofIndividual: '99.7',
    artefact: 'low-rank factors per layer',
    dataFree: 'yes',
    code: 'AntoAndGar/task_singular_vectors',
    source: 'Task Singular Vectors paper, on the TALL-masks checkpoints (individual 92.8); issue #20',
  },
  {
    method: 'T-Switch (CVPR 2025)',
    methods: ['t_switch'],
    backbone: VIT,
    accuracy: '90.98',
    ofIndividual: '≈100',
    artefact: 'mask + sign bits + a scalar/tensor',
    dataFree: 'yes',
    code: 'lfy-123/Binary-Task-Switch',
    source: 'Binary Task Switch paper; issue #20',
  },
  {
    method: 'TSV-M (CVPR 2025)',
    methods: ['tsv_m'],
    backbone: VIT,
    accuracy: '85.86',
    ofIndividual: '≈93',
    artefact: 'none (one model)',
    dataFree: 'yes',
    code: 'AntoAndGar/task_singular_vectors',
    source: 'Task Singular Vectors paper (individual 92.8); issue #19',
  },
  {
    method: 'Iso-C (2025)',
    methods: ['iso_c'],
    backbone: VIT,
    accuracy: '86.3',
    ofIndividual: '≈93',
    artefact: 'none (one model)',
    dataFree: 'yes',
    code: 'FusionBench (`iso_c`)',
    source: 'Iso-C / Iso-CTS paper; issue #19',
  },
  {
    method: 'Iso-CTS (2025)',
    methods: ['iso_cts'],
    backbone: VIT,
    accuracy: '86.2',
    ofIndividual: '≈93',
    artefact: 'none (one model)',
    dataFree: 'yes',
    code: 'FusionBench (`iso_cts`)',
    source: 'Iso-C / Iso-CTS paper; issue #19',
  },
];

/** The EMR paper's Table 2 rows that docs/results.md sets beside digits-8 (individual 90.5). */
export const EMR_TABLE_2: readonly Pick<PaperNumber, 'method' | 'methods' | 'accuracy' | 'ofIndividual'>[] = [
  { method: 'Individual', methods: [], accuracy: '90.5', ofIndividual: '100' },
  { method: 'Weight averaging', methods: ['avg'], accuracy: '65.8', ofIndividual: '72.7' },
  { method: 'Task Arithmetic', methods: ['ta'], accuracy: '70.1', ofIndividual: '77.5' },
  { method: 'TIES-Merging', methods: ['ties_paper'], accuracy: '73.6', ofIndividual: '81.3' },
  { method: 'EMR-Merging', methods: ['emr'], accuracy: '88.7', ofIndividual: '98.0' },
];

/** The cells of docs/results.md's papers' table, one row per method, in its column order. */
export function paperTableCells(): string[][] {
  return PAPER_NUMBERS.map((p) => [p.method, p.accuracy, p.ofIndividual, p.artefact, p.dataFree, p.code]);
}

export const PAPER_TABLE_HEADER = [
  'method',
  'paper Avg',
  'paper % of individual',
  'per-task artefact',
  'data-free',
  'reference code',
] as const;
