/**
 * How many Kubernetes API calls a workflow step makes at once (force-sync annotations, sync reads,
 * workload lists, restarts in a wave, Namespace reads): one figure, so a step's load on the API
 * server is bounded the same way whichever of its loops runs.
 */
export const API_CONCURRENCY = 32;

/** Maps `items` with at most `limit` calls of `work` in flight, keeping the input order. */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * As {@link mapWithLimit}, but for writes: every item's work runs to its end before this settles,
 * and then the first error (in input order) is thrown. mapWithLimit rejects at the first error while
 * the other calls are still in flight or in a retry's backoff, and its workers go on taking items;
 * a step that failed must not leave a write behind that lands after the state machine's Retry has
 * sent it again (a workload restarted twice).
 */
export async function mapAllWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const settled = await mapWithLimit(items, limit, (item) =>
    work(item).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
  );
  const failed = settled.find((s) => 'error' in s);
  if (failed && 'error' in failed) throw failed.error;
  return settled.map((s) => (s as { value: R }).value);
}

/**
 * The pause before retry `attempt` (1 = the first retry): "full jitter", a uniform draw from zero to
 * `baseMs` · 2^(attempt − 1), capped at `capMs`, so callers that failed together do not retry in
 * step (review L8; the same strategy as the AWS SDK's standard retries).
 * @example await sleep(fullJitterDelay(attempt, 50, 2_000))
 */
export function fullJitterDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
