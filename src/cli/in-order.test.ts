import { describe, expect, it } from 'vitest';
import { inOrder } from './in-order';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('inOrder', () => {
  it('keeps index order and never runs more than the limit', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const out = await inOrder(7, 2, async (i) => {
      started.push(i);
      most = Math.max(most, ++running);
      await tick((7 - i) * 2); // later jobs finish first
      running--;
      return i * 10;
    });
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(2);
  });

  it('starts nothing after a failure, waits for the running job, and throws the lowest index', async () => {
    const settled: number[] = [];
    const run = inOrder(6, 2, async (i) => {
      await tick(i === 1 ? 1 : 10);
      settled.push(i);
      if (i === 1 || i === 0) throw new Error(`job ${i}`);
      return i;
    });
    await expect(run).rejects.toThrow('job 0');
    expect(settled.sort()).toEqual([0, 1]); // job 2 never started
  });

  it('handles no jobs and a limit above the count', async () => {
    expect(await inOrder(0, 2, async () => 1)).toEqual([]);
    expect(await inOrder(2, 8, async (i) => i)).toEqual([0, 1]);
  });
});
