// What crosses for "Choose λ on the labeled sets" (./choose-lambda.ts): TALL masks' λ_t and
// Consensus' α chosen on the user's labeled sets by the CLI's own flow (src/flow/pertask-eval.ts).
import type { MergeSummary } from '../../src/flow/summary';
import type { ExecutionProvider } from '../../src/inference/ort';

export interface LambdaRequest {
  /** The kept results to choose for (summary ids the page knows); each must be eligible (choiceFor). */
  readonly ids: readonly number[];
  readonly provider: ExecutionProvider;
}

/** Task models scored of all, over every result chosen for; which result is being chosen for. */
export interface LambdaProgress {
  readonly done: number;
  readonly total: number;
  readonly id: number;
}

/** One kept result with its λ chosen: its summary replaces the kept one of the same method. */
export interface ChosenResult {
  /** The page's id of the kept result it replaces. */
  readonly replaces: number;
  readonly summary: MergeSummary;
  /** What won, a line each, word for word the CLI's stderr lines. */
  readonly lines: readonly string[];
  readonly tallLambda?: { readonly grid: readonly number[]; readonly chosen: readonly number[] };
  readonly alpha?: { readonly grid: readonly number[]; readonly chosen: number };
}

export type LambdaOutcome =
  | { readonly ok: true; readonly chosen: readonly ChosenResult[] }
  | { readonly ok: false; readonly cancelled: boolean; readonly message: string };

/** The calls of the page↔worker API (./protocol.ts StudioCalls) for choosing λ. */
export interface LambdaCalls {
  chooseLambdas: {
    args: [req: LambdaRequest, onProgress: (p: LambdaProgress) => void];
    result: LambdaOutcome;
  };
  cancelChoose: { args: []; result: void };
}
