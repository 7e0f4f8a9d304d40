import type { ClusterPort } from '../../shared/propagation/cluster-port';

/** A {@link ClusterPort} for unit tests, with the name of every call it received, in order. */
export type FakeCluster = ClusterPort & { readonly calls: (keyof ClusterPort)[] };

/**
 * The one ClusterPort fake: each method answers with the test's `answers[method]`, and a method the
 * test did not answer fails with its name (so a step that writes when it should only read fails the
 * test). Every method of the port is listed here, so a method added to the port fails to compile
 * until the fake has it, instead of failing at run time behind a `Partial<ClusterPort>` cast.
 * One read has a default: `getNamespaceAnnotations` answers "no annotations" unless the test gives
 * an answer (the restart step reads the Namespaces of its pending consumers for their restart
 * windows, and every restart test would otherwise have to say so); it is still recorded in `calls`.
 * @example const cluster = fakeCluster({ getExternalSecretSync: async () => ({}) });
 */
export function fakeCluster(answers: Partial<ClusterPort> = {}): FakeCluster {
  const calls: (keyof ClusterPort)[] = [];
  const answer = <K extends keyof ClusterPort>(method: K): ClusterPort[K] => {
    const fn = async (...args: unknown[]) => {
      calls.push(method);
      const given = (answers[method] ?? DEFAULT_ANSWERS[method]) as
        | ((...a: unknown[]) => Promise<unknown>)
        | undefined;
      if (!given) throw new Error(`unexpected ClusterPort.${method} call: the test gave no answer`);
      return given(...args);
    };
    return fn as ClusterPort[K];
  };
  const port = {
    listExternalSecrets: answer('listExternalSecrets'),
    listSecretStores: answer('listSecretStores'),
    listWorkloads: answer('listWorkloads'),
    annotateExternalSecret: answer('annotateExternalSecret'),
    annotateClusterExternalSecret: answer('annotateClusterExternalSecret'),
    getExternalSecretSync: answer('getExternalSecretSync'),
    patchWorkload: answer('patchWorkload'),
    getRollout: answer('getRollout'),
    listRollouts: answer('listRollouts'),
    getNamespaceAnnotations: answer('getNamespaceAnnotations'),
  } satisfies ClusterPort;
  return Object.assign(port, { calls });
}

/** Reads a test need not answer: a Namespace without annotations. */
const DEFAULT_ANSWERS: Partial<ClusterPort> = { getNamespaceAnnotations: async () => ({}) };
