/**
 * A function that loads once and then returns the same promise, unless that load failed: a rejected
 * promise is forgotten, so the next call loads again. For what a Lambda container keeps between
 * invocations (a lazily imported module, a cluster's connection pool): a cached failure would fail
 * every later invocation of the container.
 * @example const ports = memoizeSuccess(() => import('./eks-cluster-ports')); await ports()
 */
export function memoizeSuccess<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    if (!loaded) {
      const attempt = load();
      loaded = attempt;
      attempt.catch(() => {
        if (loaded === attempt) loaded = undefined;
      });
    }
    return loaded;
  };
}
