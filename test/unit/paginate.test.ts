import { describe, expect, it } from 'vitest';
import { KubernetesCallError, ListRestartError } from '../../shared/errors';
import { listAll } from '../../shared/kubernetes/paginate';

const gone = () => new KubernetesCallError(410, 'Expired');

describe('listAll', () => {
  it('follows continue tokens until the last page', async () => {
    const pages: Record<string, { items: number[]; metadata: { _continue?: string } }> = {
      start: { items: [1, 2], metadata: { _continue: 'a' } },
      a: { items: [3], metadata: { _continue: 'b' } },
      b: { items: [4], metadata: {} },
    };
    const asked: (string | undefined)[] = [];
    const items = await listAll(async (cont) => {
      asked.push(cont);
      return pages[cont ?? 'start'] as { items: number[] };
    });
    expect(items).toEqual([1, 2, 3, 4]);
    expect(asked).toEqual([undefined, 'a', 'b']);
  });

  it('restarts from the beginning when the continue token expires, without doubling items', async () => {
    let calls = 0;
    const items = await listAll(async (cont) => {
      calls += 1;
      if (calls === 2) throw gone();
      return cont ? { items: [2], metadata: {} } : { items: [1], metadata: { _continue: 'x' } };
    });
    expect(items).toEqual([1, 2]);
    expect(calls).toBe(4);
  });

  it('gives up with ListRestartError after repeated expiry', async () => {
    await expect(
      listAll(async (cont) => {
        if (cont) throw gone();
        return { items: [1], metadata: { _continue: 'x' } };
      }),
    ).rejects.toThrow(ListRestartError);
  });

  it('passes other errors through', async () => {
    const forbidden = new KubernetesCallError(403, 'Forbidden');
    await expect(listAll(async () => Promise.reject(forbidden))).rejects.toBe(forbidden);
  });
});
