import { unfinishedPendingVersion } from '../secrets/versions';
import type { SecretSummary } from './secret-summary';

const DAY_MS = 86_400_000;

export type SweepAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'rotate'; readonly reason: string }
  /** AWSPENDING sits on a version that is not AWSCURRENT: a rotation started and did not finish. */
  | { readonly kind: 'check-pending'; readonly pendingVersionId: string };

export interface SweepDecision {
  readonly secret: SecretSummary;
  /** Days since the last rotation, or since creation when never rotated. */
  readonly ageDays: number;
  readonly overdue: boolean;
  readonly action: SweepAction;
}

export interface SweepOptions {
  readonly now: Date;
  /** How late past its schedule a rotation may be before the sweep starts it. @default 1 day */
  readonly graceMs?: number;
}

/**
 * What the scheduled sweep does with each managed secret, from ListSecrets data alone: its age, and
 * whether it is overdue (rotation enabled and past NextRotationDate, or past its interval, plus the
 * grace period). A secret with an unfinished rotation is never rotated again blindly: it gets a
 * closer look first (its pending version's age decides whether it is stuck).
 */
export function planSweep(secrets: readonly SecretSummary[], options: SweepOptions): SweepDecision[] {
  const now = options.now.getTime();
  const grace = options.graceMs ?? DAY_MS;
  return secrets.map((secret) => {
    const since = (secret.lastRotatedDate ?? secret.createdDate)?.getTime() ?? now;
    const ageDays = Math.max(0, (now - since) / DAY_MS);
    const dueAt =
      secret.nextRotationDate?.getTime() ??
      (secret.rotationIntervalDays === undefined ? undefined : since + secret.rotationIntervalDays * DAY_MS);
    const overdue = secret.rotationEnabled && dueAt !== undefined && now > dueAt + grace;
    const pendingVersionId = unfinishedPendingVersion(secret.versionIdsToStages);
    const action: SweepAction = pendingVersionId
      ? { kind: 'check-pending', pendingVersionId }
      : overdue
        ? { kind: 'rotate', reason: overdueReason({ secret, ageDays }) }
        : { kind: 'none' };
    return { secret, ageDays, overdue, action };
  });
}

/**
 * Why the sweep rotates an overdue secret, in words for the ledger and the log: its age and its
 * schedule (the interval when given in days, else the missed date). Names and dates only.
 * @example overdueReason(decision) // 'overdue: last rotated 40 days ago, schedule every 30 days'
 */
export function overdueReason({ secret, ageDays }: Pick<SweepDecision, 'secret' | 'ageDays'>): string {
  const days = Math.floor(ageDays);
  const age = secret.lastRotatedDate
    ? `last rotated ${days} days ago`
    : secret.createdDate
      ? `never rotated, created ${days} days ago`
      : 'never rotated';
  const schedule =
    secret.rotationIntervalDays !== undefined
      ? `schedule every ${secret.rotationIntervalDays} days`
      : secret.nextRotationDate
        ? `due ${secret.nextRotationDate.toISOString()}`
        : 'no schedule';
  return `overdue: ${age}, ${schedule}`;
}
