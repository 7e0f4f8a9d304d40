import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { API_CONCURRENCY, fullJitterDelay, mapAllWithLimit, mapWithLimit } from '../../shared/concurrency';
import type { ClusterPort } from '../../shared/propagation/cluster-port';
import { forceSync } from '../../shared/workflow/force-sync';
import { readNamespaceAnnotations } from '../../shared/workflow/read-namespace-annotations';
import type { EsTarget } from '../../shared/workflow/workflow-state';

/** A slow API call that records how many of its kind were in flight at the peak. */
function peakCounter() {
  let running = 0;
  let peak = 0;
  return {
    peak: () => peak,
    call: async (): Promise<Record<string, string>> => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(2);
      running -= 1;
      return {};
    },
  };
}

describe('API_CONCURRENCY', () => {
  const many = Array.from({ length: 3 * API_CONCURRENCY }, (_, i) => `ns-${i}`);

  it("bounds the force-sync's annotations, and is what they use", async () => {
    const calls = peakCounter();
    const cluster = { annotateExternalSecret: calls.call } as unknown as ClusterPort;
    const targets = many.map((ns) => ({ namespace: ns, name: 'db' }) as EsTarget);
    await forceSync(cluster, targets, 'v'.repeat(32), new Date());
    expect(calls.peak()).toBe(API_CONCURRENCY);
  });

  it('bounds the Namespace reads, and is what they use', async () => {
    const calls = peakCounter();
    const cluster = { getNamespaceAnnotations: calls.call };
    await readNamespaceAnnotations(cluster, many, 'test', undefined);
    expect(calls.peak()).toBe(API_CONCURRENCY);
  });
});

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

describe('mapAllWithLimit', () => {
  it('lets every call end before it throws the first error, in input order', async () => {
    const ended: number[] = [];
    const failure = await mapAllWithLimit([1, 2, 3, 4], 2, async (n) => {
      // 2 fails at once; 1, 3 and 4 are still in flight or queued then (a write in a retry's backoff).
      if (n === 2) throw new Error('conflict on 2');
      if (n === 4) throw new Error('conflict on 4');
      await sleep(20);
      ended.push(n);
      return n;
    }).catch((error: unknown) => error);

    expect((failure as Error).message).toBe('conflict on 2');
    expect(ended.sort()).toEqual([1, 3]);
  });

  it('returns the results in order when every call succeeds', async () => {
    expect(await mapAllWithLimit([3, 1, 2], 2, async (n) => n * 2)).toEqual([6, 2, 4]);
  });
});

describe('fullJitterDelay', () => {
  it('draws from zero up to the doubling ceiling, capped', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((attempt) => fullJitterDelay(attempt, 100, 1_600, top))).toEqual([
      99, 199, 399, 799, 1_599, 1_599,
    ]);
    expect(fullJitterDelay(3, 100, 1_600, () => 0)).toBe(0);
  });

  it('spreads callers that failed together instead of retrying in step', () => {
    const delays = new Set(Array.from({ length: 50 }, () => fullJitterDelay(4, 100, 1_600)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeLessThan(800);
  });
});
