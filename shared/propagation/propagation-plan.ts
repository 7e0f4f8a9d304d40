import { API_CONCURRENCY, mapWithLimit } from '../concurrency';
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

/** What a rotation touches before any workload is read: the affected ExternalSecrets and stores. */
export interface ExternalSecretsPlan {
  readonly secret: RotatedSecret;
  readonly versionId: string;
  /** ExternalSecrets ESO will refresh when annotated. */
  readonly resync: readonly { readonly affected: AffectedExternalSecret }[];
  /** ExternalSecrets ESO will not refresh (CreatedOnce, refreshInterval 0): reported, never restarted. */
  readonly notRefreshing: readonly { readonly affected: AffectedExternalSecret }[];
  /**
   * ExternalSecrets that name the secret through stores in regions that are neither its own nor a
   * replica's: never resynced, reported.
   */
  readonly otherRegion?: readonly OtherRegionReference[];
}

/** The same, with the workloads that consume each ExternalSecret's Secret (the CLI's preview). */
export interface PropagationPlan extends ExternalSecretsPlan {
  readonly resync: readonly ExternalSecretTarget[];
  readonly notRefreshing: readonly ExternalSecretTarget[];
}

export interface PlanOptions {
  readonly requireOptIn?: boolean;
  /** The secret's replica regions: stores there count (resynced once the replica has the version). */
  readonly replicaRegions?: readonly string[];
}

/**
 * Which ExternalSecrets a rotation of `secret` touches in one cluster, and why: two cluster-wide
 * lists, for ExternalSecrets and for stores. No workload is read: the workflow's restart step lists
 * the consumers once the Secrets hold the new value, so its Plan does not list them a first time.
 */
export async function planExternalSecrets(
  cluster: ClusterPort,
  secret: RotatedSecret,
  versionId: string,
  options: Pick<PlanOptions, 'replicaRegions'> = {},
): Promise<ExternalSecretsPlan> {
  const [externalSecrets, stores] = await Promise.all([
    cluster.listExternalSecrets(),
    cluster.listSecretStores(),
  ]);
  const regions = { replicaRegions: options.replicaRegions ?? [] };
  const affected = findAffectedExternalSecrets(secret, externalSecrets, stores, regions);
  return {
    secret,
    versionId,
    resync: affected.filter((a) => a.refresh === 'refreshes').map((a) => ({ affected: a })),
    notRefreshing: affected.filter((a) => a.refresh !== 'refreshes').map((a) => ({ affected: a })),
    otherRegion: findOtherRegionReferences(secret, externalSecrets, stores, regions),
  };
}

/**
 * What a rotation of `secret` touches in one cluster, consumers included: the ExternalSecrets
 * ({@link planExternalSecrets}), then one list per workload kind (six) in each namespace that has an
 * affected one.
 */
export async function planPropagation(
  cluster: ClusterPort,
  secret: RotatedSecret,
  versionId: string,
  options: PlanOptions = {},
): Promise<PropagationPlan> {
  const plan = await planExternalSecrets(cluster, secret, versionId, options);
  const namespaces = [
    ...new Set([...plan.resync, ...plan.notRefreshing].map((t) => t.affected.externalSecret.namespace)),
  ];
  const lists = await mapWithLimit(namespaces, API_CONCURRENCY, (ns) => cluster.listWorkloads(ns));
  const workloads = new Map(namespaces.map((ns, index) => [ns, lists[index] ?? []] as const));
  const withConsumers = ({ affected }: { affected: AffectedExternalSecret }): ExternalSecretTarget => {
    const found = findConsumers(
      new Set([affected.targetSecret]),
      workloads.get(affected.externalSecret.namespace) ?? [],
      {
        requireOptIn: options.requireOptIn ?? false,
        secretAnnotations: new Map([
          [affected.targetSecret, targetSecretAnnotations(affected.externalSecret.spec)],
        ]),
      },
    );
    return { affected, consumers: found.consumers, skipped: found.skipped };
  };
  return {
    ...plan,
    resync: plan.resync.map(withConsumers),
    notRefreshing: plan.notRefreshing.map(withConsumers),
  };
}
