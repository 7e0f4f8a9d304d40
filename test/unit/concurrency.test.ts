import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapWithLimit } from '../../shared/concurrency';

describe('mapWithLimit', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(n);
      running -= 1;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('handles an empty list', async () => {
    expect(await mapWithLimit([], 3, async () => 1)).toEqual([]);
  });

  it('rejects when a call fails', async () => {
    await expect(
      mapWithLimit([1, 2], 2, async (n) => (n === 2 ? Promise.reject(new Error('x')) : n)),
    ).rejects.toThrow('x');
  });
});
