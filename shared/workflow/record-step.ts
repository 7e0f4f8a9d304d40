/**
 * The workflow's last ledger writes on the happy and the rollback path: Record (the outcome, its
 * metrics and alert) and NoteRollback (what the rotation function's rollback did).
 */

import { clusterOutcomeSchema } from '../ledger/ledger-items';
import type { ClusterOutcome } from '../ledger/ledger-port';
import * as z from '../schema';
import { type LedgerStepDeps, propagationKeyOf } from './ledger-step-deps';
import { parseStepInput } from './parse-step-input';
import { alertFor, alertSubject } from './propagation-alert';
import { FRESHNESS_METRIC, freshnessOf, freshnessStart } from './propagation-freshness';
import { claimSchema } from './workflow-state';

const recordInputSchema = z.object({ claim: claimSchema, clusters: z.array(clusterOutcomeSchema) });

export interface RecordResult {
  readonly outcome: 'succeeded' | 'failed';
  /**
   * The workflow should ask the secret's rotation function to roll AWSCURRENT back: the claim
   * allows it and consumers restarted onto the new version failed their rollouts.
   */
  readonly rollBack: boolean;
  readonly alert: { readonly subject: string; readonly message: string };
}

/** Record: the outcome in the ledger (only the claim's holder may), plus duration and restart metrics. */
export async function recordStep(raw: unknown, deps: LedgerStepDeps): Promise<RecordResult> {
  const parsed = parseStepInput(recordInputSchema, raw, 'record');
  const { claim } = parsed;
  // A start for some of the configured clusters carries the move to those only: the others are
  // failures of the move, so it is not recorded as propagated (a reconcile carries it on) and
  // nothing that needs every cluster on the new value (revoke, retire) runs.
  const clusters = [
    ...parsed.clusters,
    ...deps.clusters.filter((c) => !claim.clusters.includes(c)).map(notCarried),
  ];
  const outcome = clusters.every((c) => c.outcome === 'succeeded') ? 'succeeded' : 'failed';
  const finishedAt = deps.now();
  const durationMs = finishedAt.getTime() - Date.parse(claim.startedAt);
  const recorded = await deps.ledger.finishPropagation(
    claim.secret.name,
    propagationKeyOf(claim),
    claim.executionId,
    {
      status: outcome,
      finishedAt: finishedAt.toISOString(),
      durationMs,
      clusters: clusters satisfies ClusterOutcome[],
    },
  );
  deps.metrics.addMetric('PropagationDuration', 'Milliseconds', durationMs);
  deps.metrics.addMetric(
    'RestartedWorkloads',
    'Count',
    clusters.reduce((n, c) => n + (c.counts?.restarted ?? c.restarted.length), 0),
  );
  deps.metrics.addMetric(outcome === 'succeeded' ? 'PropagationSucceeded' : 'PropagationFailed', 'Count', 1);
  const freshnessSeconds =
    outcome === 'succeeded' && claim.movedAt
      ? freshnessOf({ movedAt: freshnessStart(claim.movedAt, recorded?.windowWait) }, finishedAt)
      : undefined;
  if (freshnessSeconds !== undefined) {
    deps.metrics.addMetric(FRESHNESS_METRIC, 'Seconds', freshnessSeconds);
  }
  deps.logger.info('propagation recorded', { outcome, durationMs, freshnessSeconds, clusters });
  const rolloutsFailed = clusters.reduce((n, c) => n + (c.counts?.rolloutsFailed ?? 0), 0);
  return {
    outcome,
    rollBack: outcome === 'failed' && claim.rollBack === true && rolloutsFailed > 0,
    alert: alertFor(claim, outcome, clusters),
  };
}

function notCarried(cluster: string): ClusterOutcome {
  return {
    cluster,
    outcome: 'failed',
    synced: [],
    restarted: [],
    failed: ['not carried: this execution was started for other clusters only'],
    counts: { failed: 1 },
  };
}

const noteRollbackInputSchema = z.object({
  claim: claimSchema,
  clusters: z.array(clusterOutcomeSchema),
  rolledBack: z.object({
    status: z.enum(['rolled-back', 'superseded', 'rotation-in-progress']),
    previousVersionId: z.string(),
  }),
});

/**
 * After the rotation function answered a rollBack: the ledger's record of this propagation (still
 * `failed`) says what happened, and the alert says it too. Only the claim's holder writes.
 */
export async function noteRollbackStep(raw: unknown, deps: LedgerStepDeps): Promise<RecordResult['alert']> {
  const { claim, clusters, rolledBack } = parseStepInput(noteRollbackInputSchema, raw, 'note-rollback');
  const what =
    rolledBack.status === 'rolled-back'
      ? `rolled back: AWSCURRENT moved back to version ${rolledBack.previousVersionId}, and version ${claim.versionId} has no staging label; that move is propagated like any other`
      : rolledBack.status === 'superseded'
        ? `not rolled back: AWSCURRENT had moved on to another version`
        : `not rolled back: a rotation was pending`;
  const finishedAt = deps.now();
  await deps.ledger.finishPropagation(claim.secret.name, propagationKeyOf(claim), claim.executionId, {
    status: 'failed',
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - Date.parse(claim.startedAt),
    clusters,
    error: what,
  });
  if (rolledBack.status === 'rolled-back') deps.metrics.addMetric('RollbacksDone', 'Count', 1);
  deps.logger.warn('propagation failed; rollback', { rollback: rolledBack.status });
  const { message } = alertFor(claim, 'failed', clusters, { rollback: what });
  return {
    subject: alertSubject(
      `Propagation failed, ${rolledBack.status === 'rolled-back' ? 'rolled back' : 'not rolled back'}: ${claim.secret.name}`,
    ),
    message,
  };
}
