// Workgroup counts over the device's per-dimension limit: a 1-D count laid out as x × y (the
// kernels take groups_x in their params and rebuild the flat index).

/** Splits `groups` workgroups over x and y so neither exceeds the per-dimension limit. */
export function dispatchShape(groups: number, maxPerDimension: number): [number, number] {
  const x = Math.min(groups, maxPerDimension);
  const y = Math.ceil(groups / x);
  if (y > maxPerDimension) throw new RangeError(`${groups} workgroups exceed a ${maxPerDimension}² dispatch`);
  return [x, y];
}
