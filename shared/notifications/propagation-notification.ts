/**
 * What a notification says about one ended propagation, decided from the execution's end and its
 * ledger record: names, version ids, counts and one-word error names only. The ledger's failure
 * lines and error text are never copied: they can quote a Kubernetes answer.
 */

import type { LedgerEntry, PropagationRecord, PropagationStatus, Trigger } from '../ledger/ledger-port';
import type { ExecutionEnded, FinalStatus } from './execution-status-event';

export interface ClusterCounts {
  readonly cluster: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly synced: number;
  readonly restarted: number;
  readonly failed: number;
  readonly nextPod: number;
  readonly notRestarted: number;
  /** ExternalSecrets and consumers deleted while the propagation ran (not failures). */
  readonly gone: number;
}

export interface PropagationNotification {
  /** `failed` for any execution that did not succeed, even when the ledger recorded a success. */
  readonly outcome: 'succeeded' | 'failed';
  readonly executionStatus: FinalStatus;
  /** The ledger's status, when it differs from the outcome (a success then a failed later step; a stopped execution). */
  readonly recorded?: PropagationStatus;
  readonly secretName: string;
  readonly versionId: string;
  readonly moveSeq?: number;
  readonly fromVersionId?: string;
  readonly trigger?: Trigger;
  readonly actor?: string;
  readonly executionName: string;
  readonly durationMs?: number;
  readonly clusters: readonly ClusterCounts[];
  /** One word (`PropagationFailed`, `States.Timeout`); absent on success. */
  readonly errorName?: string;
}

export type NotificationPlan = { readonly notify: PropagationNotification } | { readonly skip: string };

/**
 * Whether and what to notify for an ended execution. A succeeded execution that holds no ledger
 * record of its own claimed nothing (a duplicate start of a move another execution carries): it is
 * skipped, so one move is announced once. Every execution that did not succeed is announced, with
 * or without its record (a failure before the claim has none).
 * @example planNotification(ended, 'prod/app-team/db', record) // { notify: { outcome: 'failed', … } }
 */
export function planNotification(
  ended: ExecutionEnded,
  secretName: string,
  record: PropagationRecord | undefined,
): NotificationPlan {
  if (ended.status === 'SUCCEEDED' && !record) {
    return { skip: 'the execution claimed nothing: another execution carries this move' };
  }
  const outcome = ended.status === 'SUCCEEDED' ? 'succeeded' : 'failed';
  const recorded = record && record.status !== outcome ? record.status : undefined;
  return {
    notify: {
      outcome,
      executionStatus: ended.status,
      ...(recorded ? { recorded } : {}),
      secretName,
      versionId: ended.versionId,
      ...(record?.moveSeq !== undefined ? { moveSeq: record.moveSeq } : {}),
      ...(record?.fromVersionId ? { fromVersionId: record.fromVersionId } : {}),
      ...(record ? { trigger: record.trigger, actor: record.actor } : {}),
      executionName: ended.executionName,
      ...durationOf(record, ended),
      clusters: (record?.clusters ?? []).map(countsOf),
      ...(outcome === 'failed' && ended.errorName ? { errorName: ended.errorName } : {}),
    },
  };
}

function durationOf(record: PropagationRecord | undefined, ended: ExecutionEnded): { durationMs?: number } {
  const ms = record?.durationMs ?? ended.durationMs;
  return ms === undefined ? {} : { durationMs: ms };
}

function countsOf(outcome: NonNullable<PropagationRecord['clusters']>[number]): ClusterCounts {
  const count = (key: string, list: readonly string[] | undefined) =>
    outcome.counts?.[key] ?? list?.length ?? 0;
  return {
    cluster: outcome.cluster,
    outcome: outcome.outcome,
    synced: count('synced', outcome.synced),
    restarted: count('restarted', outcome.restarted),
    failed: count('failed', outcome.failed),
    nextPod: count('nextPod', outcome.nextPod),
    notRestarted: count('notRestarted', outcome.notRestarted),
    gone: count('gone', outcome.gone),
  };
}

/** The propagation record this execution holds, among a secret's ledger entries (newest first). */
export function recordOfExecution(
  entries: readonly LedgerEntry[],
  executionName: string,
  versionId: string,
): PropagationRecord | undefined {
  for (const entry of entries) {
    if (entry.kind !== 'propagation') continue;
    if (entry.executionId === executionName && entry.versionId === versionId) return entry;
  }
  return undefined;
}
