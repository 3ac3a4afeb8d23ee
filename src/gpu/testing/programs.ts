// Test helper: the GPU programs dispatched while it records (every GpuRuntime's `run`), in order,
// so a test can hold that a path really ran on the GPU — the CLI's runs and the engine's alike.
import { vi } from 'vitest';
import { GpuRuntime } from '../runtime/runtime';

export function recordPrograms(): { programs: string[]; restore: () => void } {
  const programs: string[] = [];
  const run = GpuRuntime.prototype.run;
  const spy = vi.spyOn(GpuRuntime.prototype, 'run').mockImplementation(function (
    this: GpuRuntime,
    spec,
    slot,
  ) {
    programs.push(spec.program);
    return run.call(this, spec, slot);
  });
  return { programs, restore: () => spy.mockRestore() };
}
