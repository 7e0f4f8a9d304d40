/**
 * The alert the workflow publishes when a propagation ends: what Record, NoteRollback and
 * RecordFailure return for the SNS publish state.
 */

import type { ClusterOutcome } from '../ledger/ledger-port';
import type { Claim } from './workflow-state';

/** SNS takes 256 KiB per message; ours stay far below it (every list in the outcome is capped). */
export const MAX_ALERT_FAILURES = 50;

/** The alert for an outcome: names, versions and capped failure lines; `extra` adds fields (a rollback). */
export function alertFor(
  claim: Claim,
  outcome: 'succeeded' | 'failed',
  clusters: readonly ClusterOutcome[],
  extra: Readonly<Record<string, string>> = {},
) {
  const failures = clusters.flatMap((c) => c.failed.map((f) => `${c.cluster}: ${f}`));
  const notRestarted = clusters.flatMap((c) => (c.notRestarted ?? []).map((w) => `${c.cluster}: ${w}`));
  const gone = clusters.flatMap((c) => (c.gone ?? []).map((g) => `${c.cluster}: ${g}`));
  const total = clusters.reduce((n, c) => n + (c.counts?.failed ?? c.failed.length), 0);
  return {
    subject: alertSubject(`Propagation ${outcome}: ${claim.secret.name}`),
    message: JSON.stringify({
      secret: claim.secret.name,
      versionId: claim.versionId,
      move: { seq: claim.moveSeq, from: claim.previousVersionId },
      trigger: claim.trigger,
      actor: claim.actor,
      execution: claim.executionId,
      failures: failures.slice(0, MAX_ALERT_FAILURES),
      ...(total > Math.min(failures.length, MAX_ALERT_FAILURES)
        ? { failuresLeftOut: total - Math.min(failures.length, MAX_ALERT_FAILURES) }
        : {}),
      ...(notRestarted.length > 0
        ? {
            notRestarted: notRestarted.slice(0, MAX_ALERT_FAILURES),
            notRestartedCount: clusters.reduce((n, c) => n + (c.counts?.notRestarted ?? 0), 0),
          }
        : {}),
      // Deleted while it ran (an ExternalSecret, a consumer): not failures, but a skipped consumer
      // of a deleted ExternalSecret's Secret is one nobody verified.
      ...(gone.length > 0
        ? {
            gone: gone.slice(0, MAX_ALERT_FAILURES),
            goneCount: clusters.reduce((n, c) => n + (c.counts?.gone ?? c.gone?.length ?? 0), 0),
          }
        : {}),
      ...extra,
    }),
  };
}

/**
 * An SNS subject: ASCII only and fewer than 100 characters, or SNS refuses the publish (moto does
 * not check either). A cut ends in "...".
 */
export function alertSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 99 ? ascii : `${ascii.slice(0, 96)}...`;
}
