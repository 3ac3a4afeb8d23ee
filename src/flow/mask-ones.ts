// Ones in packed one-bit masks (task t's mask at t·⌈numel/32⌉ words): the density of a mask read
// back from a bundle or a spill file, for the summary and the Inspect views.

/** Ones in each task's mask of one tensor. */
export function maskOnes(masks: Uint32Array, numel: number, numTasks: number): number[] {
  const words = Math.ceil(numel / 32);
  return Array.from({ length: numTasks }, (_, t) => {
    let n = 0;
    for (let w = t * words; w < (t + 1) * words; w++) {
      let x = masks[w] as number;
      while (x) {
        x &= x - 1;
        n++;
      }
    }
    return n;
  });
}
