// Allocation under the device's error scopes. A buffer or pipeline the device refuses comes back
// as an invalid object and no exception, so every creation runs inside an 'out-of-memory' and a
// 'validation' scope whose verdicts are kept and awaited (`settled`) before any work that uses the
// objects is written or submitted: the call then fails at once with a GpuAllocationError, which
// src/merge/fallback.ts turns into a CPU finish, instead of computing on invalid buffers.

/** A buffer or pipeline the device refused: out of memory, or a request it rejects (validation). */
export class GpuAllocationError extends Error {
  override readonly name = 'GpuAllocationError';
  constructor(
    /** What was asked for, e.g. "buffer elect.tasks#0 (402 653 184 bytes)". */
    readonly what: string,
    readonly kind: 'out-of-memory' | 'validation',
    detail: string,
  ) {
    super(
      `the GPU could not allocate ${what}: ${kind === 'out-of-memory' ? 'out of memory' : 'request refused'}${detail ? ` (${detail})` : ''}`,
    );
  }
}

export class Allocations {
  private pending: Promise<void>[] = [];
  constructor(private readonly device: GPUDevice) {}

  /**
   * `make()` under the two scopes (pushed 'out-of-memory' then 'validation', popped in the same
   * turn, so calls in flight together never share a scope); `onRefused` runs on a refusal, before
   * the error reaches whoever awaits `settled()`.
   */
  track<T>(what: string, make: () => T, onRefused: () => void): T {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    try {
      return make();
    } finally {
      const validation = this.device.popErrorScope();
      const outOfMemory = this.device.popErrorScope();
      const verdict = Promise.all([outOfMemory, validation]).then(([o, v]) => {
        if (!o && !v) return;
        onRefused();
        throw new GpuAllocationError(what, o ? 'out-of-memory' : 'validation', (o ?? v)?.message ?? '');
      });
      verdict.catch(() => {}); // reported by settled()
      this.pending.push(verdict);
    }
  }

  /** The verdicts since the last call: undefined when there were none (no promise per tile). */
  settled(): Promise<void> | undefined {
    if (this.pending.length === 0) return undefined;
    const all = Promise.all(this.pending).then(() => undefined);
    this.pending = [];
    return all;
  }
}
