/**
 * Replica regions: an ExternalSecret that reads the rotated secret through a store in one of its
 * replica regions is resynced only once the replica there has the new version as AWSCURRENT (AWS
 * replicates asynchronously; forcing a sync earlier would load the old value and count it synced).
 * Decisions are pure; {@link checkReplicas} reads each region once through the {@link ReplicaPort}.
 */

import { sanitizeUpstreamMessage } from '../errors';
import type { ReplicaPort, ReplicaStatus } from './replica-port';

/** What a replica holds of the version being propagated. */
export type ReplicaVerdict =
  | { readonly state: 'current' }
  /** Not yet: wait and look again, until the sync deadline. */
  | { readonly state: 'lagging'; readonly detail: string }
  /** It will not get there by waiting (replication failed, or the region is no longer a replica). */
  | { readonly state: 'failed'; readonly detail: string };

/** A replica the workflow reads, as the plan names it: its region and its ARN there. */
export interface PlannedReplica {
  readonly region: string;
  readonly secretId: string;
}

/**
 * Whether the replica in a region has `versionId` as AWSCURRENT, from the primary's ReplicationStatus
 * for that region (`replica`, undefined when the region is not, or no longer, a replica) and the
 * replica's own version stages, read in its region.
 * @example replicaVerdict('v2', { region: 'eu-west-1', status: 'InSync' }, { v2: ['AWSCURRENT'] })
 */
export function replicaVerdict(
  versionId: string,
  replica: ReplicaStatus | undefined,
  stages: Readonly<Record<string, readonly string[]>> | undefined,
): ReplicaVerdict {
  if (stages?.[versionId]?.includes('AWSCURRENT')) return { state: 'current' };
  if (!replica) return { state: 'failed', detail: 'the secret is no longer replicated there' };
  const current = Object.entries(stages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
  const status = `replication ${replica.status}${replica.statusMessage ? `: ${statusText(replica.statusMessage)}` : ''}`;
  const has = current ? `its AWSCURRENT is ${current}` : 'it has no AWSCURRENT version';
  const detail = `${status}; ${has}, not ${versionId}`;
  return replica.status === 'Failed' ? { state: 'failed', detail } : { state: 'lagging', detail };
}

/** The text of a replica's failure in a sync's failed list: the region, and what the replica said. */
export function replicaFailureReason(region: string, detail: string): string {
  return `the replica in ${region} does not have the new version: ${detail}; not resynced, its consumers are not restarted`;
}

/** The text when the sync deadline passes with the replica still behind. */
export function replicaDeadlineReason(region: string, seconds: number, detail: string): string {
  return `the replica in ${region} did not get the new version within ${seconds} s (${detail}); not resynced, its consumers are not restarted`;
}

/**
 * One look at each replica `replicas` names: the primary's ReplicationStatus once, then each replica's
 * stages in its own region (skipped for a region that is no longer a replica). Read-only.
 */
export async function checkReplicas(
  port: ReplicaPort,
  secretArn: string,
  versionId: string,
  replicas: readonly PlannedReplica[],
): Promise<Map<string, ReplicaVerdict>> {
  const verdicts = new Map<string, ReplicaVerdict>();
  if (replicas.length === 0) return verdicts;
  const statuses = new Map((await port.replicationOf(secretArn)).map((r) => [r.region, r]));
  await Promise.all(
    replicas.map(async ({ region, secretId }) => {
      const status = statuses.get(region);
      const stages = status ? await port.stagesIn(region, secretId) : undefined;
      verdicts.set(region, replicaVerdict(versionId, status, stages));
    }),
  );
  return verdicts;
}

/** A resync target as far as replicas go: its key, its owner (annotated for all its children) and regions. */
export interface ReplicaTarget {
  readonly key: string;
  readonly owner?: string;
  readonly replicaRegions?: readonly string[];
}

/** How a set of targets splits, given each region's verdict. */
export interface ReplicaSplit {
  /** Every region it reads is current (or it reads only the primary): force its sync now. */
  readonly ready: readonly string[];
  /** A region it reads (or a sibling under the same owner reads) is lagging: wait. */
  readonly held: readonly string[];
  /** A region it reads failed: never resynced. Key → region and detail. */
  readonly failed: ReadonlyMap<string, { readonly region: string; readonly detail: string }>;
}

/**
 * Splits targets by their replicas' verdicts. A ClusterExternalSecret's annotation resyncs all its
 * children, so a child that must wait (or fails) holds its siblings back too.
 */
export function splitByReplicas(
  targets: readonly ReplicaTarget[],
  verdicts: ReadonlyMap<string, ReplicaVerdict>,
): ReplicaSplit {
  const failed = new Map<string, { region: string; detail: string }>();
  const waiting = new Set<string>();
  for (const t of targets) {
    for (const region of t.replicaRegions ?? []) {
      const verdict = verdicts.get(region) ?? { state: 'lagging', detail: 'not looked at yet' };
      if (verdict.state === 'failed' && !failed.has(t.key))
        failed.set(t.key, { region, detail: verdict.detail });
      if (verdict.state === 'lagging') waiting.add(t.key);
    }
  }
  const blockedOwners = new Set(
    targets.filter((t) => t.owner && (failed.has(t.key) || waiting.has(t.key))).map((t) => t.owner),
  );
  const ready: string[] = [];
  const held: string[] = [];
  for (const t of targets) {
    if (failed.has(t.key)) continue;
    if (waiting.has(t.key) || (t.owner && blockedOwners.has(t.owner))) held.push(t.key);
    else ready.push(t.key);
  }
  return { ready, held, failed };
}

function statusText(message: string): string {
  return sanitizeUpstreamMessage(message).slice(0, 300);
}
