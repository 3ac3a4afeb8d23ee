// Test-only fault injection for the GPU runtime: handed to GpuEngine's options from outside, so the
// engine holds no test hook of its own.

/** `refuseAllocation` for GpuEngineOptions, and `refuseNext()`, which makes the next buffer request one the device refuses. */
export function allocationFaults(): { refuseAllocation: () => boolean; refuseNext(): void } {
  let armed = false;
  return {
    refuseAllocation: () => {
      const refuse = armed;
      armed = false;
      return refuse;
    },
    refuseNext: () => {
      armed = true;
    },
  };
}
