import type { ClusterPort } from './cluster-port';
import { targetSecretAnnotations } from './consumer-annotations';
import type { RotatedSecret } from './eso-types';
import { type ConsumerMatch, type ConsumerSkip, findConsumers } from './find-consumers';
import {
  type AffectedExternalSecret,
  findAffectedExternalSecrets,
  findOtherRegionReferences,
  type OtherRegionReference,
} from './find-external-secrets';

/** One affected ExternalSecret with the workloads that consume the Secret it writes. */
export interface ExternalSecretTarget {
  readonly affected: AffectedExternalSecret;
  readonly consumers: readonly ConsumerMatch[];
  readonly skipped: readonly ConsumerSkip[];
}

export interface PropagationPlan {
  readonly secret: RotatedSecret;
  readonly versionId: string;
  /** ExternalSecrets ESO will refresh when annotated, with their consumers. */
  readonly resync: readonly ExternalSecretTarget[];
  /** ExternalSecrets ESO will not refresh (CreatedOnce, refreshInterval 0): reported, never restarted. */
  readonly notRefreshing: readonly ExternalSecretTarget[];
  /**
   * ExternalSecrets that name the secret through stores in regions that are neither its own nor a
   * replica's: never resynced, reported.
   */
  readonly otherRegion?: readonly OtherRegionReference[];
}

export interface PlanOptions {
  readonly requireOptIn?: boolean;
  /** The secret's replica regions: stores there count (resynced once the replica has the version). */
  readonly replicaRegions?: readonly string[];
}

/**
 * What a rotation of `secret` touches in one cluster, and why: two cluster-wide lists for
 * ExternalSecrets and stores, then one list per workload kind (six) in each namespace that has an
 * affected one.
 */
export async function planPropagation(
  cluster: ClusterPort,
  secret: RotatedSecret,
  versionId: string,
  options: PlanOptions = {},
): Promise<PropagationPlan> {
  const [externalSecrets, stores] = await Promise.all([
    cluster.listExternalSecrets(),
    cluster.listSecretStores(),
  ]);
  const regions = { replicaRegions: options.replicaRegions ?? [] };
  const affected = findAffectedExternalSecrets(secret, externalSecrets, stores, regions);
  const namespaces = [...new Set(affected.map((a) => a.externalSecret.namespace))];
  const workloads = new Map(
    await Promise.all(namespaces.map(async (ns) => [ns, await cluster.listWorkloads(ns)] as const)),
  );
  const targets = affected.map((item): ExternalSecretTarget => {
    const found = findConsumers(
      new Set([item.targetSecret]),
      workloads.get(item.externalSecret.namespace) ?? [],
      {
        requireOptIn: options.requireOptIn ?? false,
        secretAnnotations: new Map([[item.targetSecret, targetSecretAnnotations(item.externalSecret.spec)]]),
      },
    );
    return { affected: item, consumers: found.consumers, skipped: found.skipped };
  });
  return {
    secret,
    versionId,
    resync: targets.filter((t) => t.affected.refresh === 'refreshes'),
    notRefreshing: targets.filter((t) => t.affected.refresh !== 'refreshes'),
    otherRegion: findOtherRegionReferences(secret, externalSecrets, stores, regions),
  };
}
