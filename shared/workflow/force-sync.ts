import { API_CONCURRENCY, mapWithLimit } from '../concurrency';
import type { ClusterPort } from '../propagation/cluster-port';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import type { EsTarget } from './workflow-state';

/** The force-sync annotation on these targets (on the owning ClusterExternalSecret for its children). */
export async function forceSync(
  cluster: ClusterPort,
  targets: readonly EsTarget[],
  versionId: string,
  at: Date,
): Promise<void> {
  const annotations = { [ANNOTATIONS.forceSync]: `${versionId}@${at.toISOString()}` };
  const owners = [...new Set(targets.flatMap((t) => (t.owner ? [t.owner] : [])))];
  await mapWithLimit(owners, API_CONCURRENCY, (owner) =>
    cluster.annotateClusterExternalSecret(owner, annotations),
  );
  await mapWithLimit(
    targets.filter((t) => !t.owner),
    API_CONCURRENCY,
    (t) =>
      cluster.annotateExternalSecret(
        { kind: 'ExternalSecret', namespace: t.namespace, name: t.name },
        annotations,
      ),
  );
}
