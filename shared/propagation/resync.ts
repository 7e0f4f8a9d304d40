import { setTimeout as sleep } from 'node:timers/promises';
import { mapWithLimit } from '../concurrency';
import type { ClusterPort } from '../kubernetes/cluster-port';
import { confirmSync } from './confirm-sync';
import type { ConsumerMatch } from './find-consumers';
import type { ExternalSecretTarget } from './propagation-plan';
import {
  apiConcurrencyOf,
  esRef,
  type ProgressEvent,
  type PropagateOptions,
  type PropagationReport,
  workloadRef,
} from './propagation-report';
import type { ObjectRef, Workload } from './workload-types';

/**
 * Consumers of confirmed ExternalSecrets, except workloads that also use the Secret of one whose
 * sync was not confirmed: restarted now, they would start with one stale copy of the secret.
 */
export function withoutStaleConsumers(
  confirmed: readonly ExternalSecretTarget[],
  unconfirmed: readonly ExternalSecretTarget[],
): { safe: ConsumerMatch[]; unsafe: { ref: ObjectRef; reason: string }[] } {
  const stale = new Map<string, string>();
  for (const target of unconfirmed) {
    for (const consumer of target.consumers) {
      stale.set(workloadKey(consumer.workload), target.affected.targetSecret);
    }
  }
  const safe: ConsumerMatch[] = [];
  const unsafe = new Map<string, { ref: ObjectRef; reason: string }>();
  for (const consumer of confirmed.flatMap((t) => t.consumers)) {
    const staleSecret = stale.get(workloadKey(consumer.workload));
    if (staleSecret === undefined) safe.push(consumer);
    else {
      unsafe.set(workloadKey(consumer.workload), {
        ref: workloadRef(consumer.workload),
        reason: `also uses Secret ${staleSecret}, whose ExternalSecret did not confirm a sync`,
      });
    }
  }
  return { safe, unsafe: [...unsafe.values()] };
}

function workloadKey(workload: Workload): string {
  return `${workload.kind}/${workload.namespace}/${workload.name}`;
}

/**
 * Annotates each plain ExternalSecret, and each owning ClusterExternalSecret once: its controller
 * copies the force-sync annotation to its children and would strip one written on them directly.
 */
export async function requestResync(
  cluster: ClusterPort,
  targets: readonly ExternalSecretTarget[],
  annotations: Record<string, string>,
  concurrency: number,
): Promise<void> {
  const owners = new Set<string>();
  const plain: ExternalSecretTarget[] = [];
  for (const target of targets) {
    const owner = target.affected.externalSecret.ownerClusterExternalSecret;
    if (owner) owners.add(owner);
    else plain.push(target);
  }
  await mapWithLimit([...owners], concurrency, (name) =>
    cluster.annotateClusterExternalSecret(name, annotations),
  );
  await mapWithLimit(plain, concurrency, (t) => cluster.annotateExternalSecret(esRef(t), annotations));
}

export async function confirmSyncs(
  cluster: ClusterPort,
  targets: readonly ExternalSecretTarget[],
  annotatedAt: Date,
  options: PropagateOptions,
  report: PropagationReport,
  onProgress: (event: ProgressEvent) => void,
): Promise<ExternalSecretTarget[]> {
  const confirmed: ExternalSecretTarget[] = [];
  let pending = [...targets];
  const started = Date.now();
  while (pending.length > 0) {
    const statuses = await mapWithLimit(pending, apiConcurrencyOf(options), (t) =>
      cluster.getExternalSecretSync(esRef(t)),
    );
    const still: ExternalSecretTarget[] = [];
    pending.forEach((target, index) => {
      const verdict = confirmSync(
        target.affected.externalSecret.syncStatus ?? {},
        statuses[index] ?? {},
        annotatedAt,
      );
      if (verdict.verdict === 'synced') {
        confirmed.push(target);
        report.synced.push(esRef(target));
        onProgress({ type: 'sync-confirmed', ref: esRef(target) });
      } else if (verdict.verdict === 'failed') {
        report.syncFailed.push({ ref: esRef(target), reason: verdict.reason });
        onProgress({ type: 'sync-failed', ref: esRef(target), reason: verdict.reason });
      } else still.push(target);
    });
    pending = still;
    if (pending.length === 0) break;
    const elapsedMs = Date.now() - started;
    if (elapsedMs > options.syncTimeoutMs) {
      for (const target of pending) {
        const reason = `ESO did not confirm a sync within ${Math.round(options.syncTimeoutMs / 1000)} s`;
        report.syncFailed.push({ ref: esRef(target), reason });
        onProgress({ type: 'sync-failed', ref: esRef(target), reason });
      }
      break;
    }
    onProgress({ type: 'waiting', what: 'ESO syncs', pending: pending.length, elapsedMs });
    await sleep(options.pollIntervalMs);
  }
  return confirmed;
}
