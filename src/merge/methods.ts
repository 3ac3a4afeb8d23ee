// The merge methods and their parameters, with the defaults of the papers' reference code.

export type RescaleMode = 'tensor-mean' | 'global';

export type MethodSpec =
  | { readonly method: 'emr'; readonly rescale: RescaleMode }
  | { readonly method: 'avg' }
  | { readonly method: 'ta'; readonly lambda: number }
  | { readonly method: 'ties'; readonly k: number; readonly lambda: number };

export type MethodName = MethodSpec['method'];

export const METHOD_NAMES: readonly MethodName[] = ['emr', 'avg', 'ta', 'ties'];

export const METHOD_TITLES: Record<MethodName, string> = {
  emr: 'EMR-Merging',
  avg: 'Weight averaging',
  ta: 'Task Arithmetic',
  ties: 'TIES-Merging',
};

export interface MethodParams {
  readonly lambda?: number | undefined;
  readonly k?: number | undefined;
  readonly rescale?: RescaleMode | undefined;
}

/** A method with its parameters filled in; refuses parameters the method does not take or bad values. */
export function methodSpec(method: MethodName, params: MethodParams = {}): MethodSpec {
  const given = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  const allowed: Record<MethodName, string[]> = {
    emr: ['rescale'],
    avg: [],
    ta: ['lambda'],
    ties: ['k', 'lambda'],
  };
  const extra = given.filter((k) => !allowed[method].includes(k));
  if (extra.length) throw new RangeError(`${method} takes no parameter ${extra.join(', ')}`);
  const lambda = params.lambda;
  if (lambda !== undefined && !Number.isFinite(lambda))
    throw new RangeError(`lambda must be a finite number, got ${lambda}`);
  switch (method) {
    case 'emr': {
      const rescale = params.rescale ?? 'tensor-mean';
      if (rescale !== 'tensor-mean' && rescale !== 'global')
        throw new RangeError(`rescale must be tensor-mean or global, got ${String(rescale)}`);
      return { method, rescale };
    }
    case 'avg':
      return { method };
    case 'ta':
      return { method, lambda: lambda ?? 0.3 };
    case 'ties': {
      const k = params.k ?? 0.2;
      if (!(k > 0 && k <= 1))
        throw new RangeError(`k (the fraction of |τ| kept) must be in (0, 1], got ${k}`);
      return { method, k, lambda: lambda ?? 1 };
    }
  }
}

export function describeMethod(spec: MethodSpec): string {
  switch (spec.method) {
    case 'emr':
      return `${METHOD_TITLES.emr} (rescale: ${spec.rescale})`;
    case 'avg':
      return METHOD_TITLES.avg;
    case 'ta':
      return `${METHOD_TITLES.ta} (λ = ${spec.lambda})`;
    case 'ties':
      // toPrecision: k = 0.07 reads 7 %, not 7.000000000000001 %
      return `${METHOD_TITLES.ties} (k = ${+(spec.k * 100).toPrecision(12)} %, λ = ${spec.lambda})`;
  }
}
