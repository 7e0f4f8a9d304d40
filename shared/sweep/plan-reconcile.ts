import type { SecretLedgerSummary } from '../ledger/ledger-port';
import { versionWith } from '../secrets/versions';
import type { SecretSummary } from './secret-summary';

export type ReconcileReason =
  | 'never-propagated'
  | 'current-version-not-propagated'
  | 'last-propagation-failed'
  | 'propagation-lease-expired';

export type ReconcileDecision =
  | { readonly action: 'start'; readonly versionId: string; readonly reason: ReconcileReason }
  | { readonly action: 'none'; readonly reason: 'propagated' | 'in-progress' | 'no-current-version' };

/**
 * Whether a secret's AWSCURRENT version still has to reach the clusters, from ListSecrets data and
 * the ledger's summary alone: it does when nothing was ever propagated, when the last propagation
 * was of another version or failed, or when an in-progress propagation has outlived its lease (its
 * holder died; a wait for a restart window extends the lease past the window). A propagation in progress within its lease is left alone, whatever its version.
 * @example decideReconcile(secret, undefined, { now, leaseMs }) // { action: 'start', reason: 'never-propagated', … }
 */
export function decideReconcile(
  secret: Pick<SecretSummary, 'versionIdsToStages'>,
  summary: SecretLedgerSummary | undefined,
  options: { readonly now: Date; readonly leaseMs: number },
): ReconcileDecision {
  const versionId = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
  if (!versionId) return { action: 'none', reason: 'no-current-version' };
  const last = summary?.lastPropagation;
  if (!last) return { action: 'start', versionId, reason: 'never-propagated' };
  const inProgress = last.status === 'in-progress';
  // A propagation waiting for a restart window extended its lease past the window (noteWindowWait).
  const leaseExpired =
    options.now.getTime() - Date.parse(last.startedAt) >= options.leaseMs &&
    !(last.windowWait && Date.parse(last.windowWait.leaseUntil) > options.now.getTime());
  if (inProgress && !leaseExpired) return { action: 'none', reason: 'in-progress' };
  if (last.versionId !== versionId)
    return { action: 'start', versionId, reason: 'current-version-not-propagated' };
  if (last.status === 'failed') return { action: 'start', versionId, reason: 'last-propagation-failed' };
  if (inProgress) return { action: 'start', versionId, reason: 'propagation-lease-expired' };
  return { action: 'none', reason: 'propagated' };
}
