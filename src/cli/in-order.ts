// Runs `count` jobs, at most `limit` at once, started in index order; results come back in index
// order. After a failure no new job starts, the running ones are waited for (each cleans up its own
// partial output), and the failure of the lowest index is thrown.

export async function inOrder<T>(
  count: number,
  limit: number,
  run: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  const failures = new Map<number, unknown>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && failures.size === 0) {
      const i = next++;
      try {
        results[i] = await run(i);
      } catch (e) {
        failures.set(i, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
  if (failures.size) throw failures.get(Math.min(...failures.keys()));
  return results;
}
