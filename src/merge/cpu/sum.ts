// CPU twin of the GPU sum kernel (src/gpu/reduce.ts): accumulates in f64.
export function cpuSum(data: ArrayLike<number>, absolute = false): number {
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    total += absolute ? Math.abs(x) : x;
  }
  return total;
}
