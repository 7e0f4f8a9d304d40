import { describe, expect, it, vi } from 'vitest';
import { memoizeSuccess } from '../../shared/memoize-success';

describe('memoizeSuccess', () => {
  it('loads once and hands every caller the same result', async () => {
    const load = vi.fn(async () => ({ loaded: true }));
    const get = memoizeSuccess(load);

    const [first, second] = await Promise.all([get(), get()]);

    expect(first).toBe(second);
    expect(await get()).toBe(first);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('forgets a failed load, so the next call loads again', async () => {
    const load = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new Error('DescribeCluster throttled'))
      .mockResolvedValue('ports');
    const get = memoizeSuccess(load);

    await expect(get()).rejects.toThrow('DescribeCluster throttled');
    expect(await get()).toBe('ports');
    expect(await get()).toBe('ports');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('shares a load in flight between callers, even one that fails', async () => {
    let fail: (error: Error) => void = () => undefined;
    const load = vi.fn(() => new Promise<string>((_, reject) => (fail = reject)));
    const get = memoizeSuccess(load);

    const both = Promise.allSettled([get(), get()]);
    fail(new Error('offline'));

    expect((await both).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(load).toHaveBeenCalledTimes(1);
  });
});
