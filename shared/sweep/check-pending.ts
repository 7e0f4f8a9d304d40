import { safeMessage } from '../errors';
import { isStuck } from '../requests/plan-rotation-request';
import { type PendingStagePort, repairStuckRotation } from '../requests/repair-stuck-rotation';
import type { SecretsPort } from '../secrets/secrets-port';
import type { SweepDecision } from './plan-sweep';

/** The calls judging and repairing unfinished rotations makes. */
export type PendingCheckPort = Pick<SecretsPort, 'versionCreatedAt'> & PendingStagePort;

export interface PendingCheckReport {
  readonly stuck: { secret: string; pendingVersionId: string; ageMinutes: number }[];
  readonly inProgress: string[];
  readonly repaired: { secret: string; pendingVersionId: string }[];
  readonly repairFailures: { secret: string; error: string }[];
}

/**
 * Tells unfinished rotations that are still in progress from stuck ones (pending version older than
 * `stuckAfterMs`, or of unknown age) and, when `repair` is on, removes a stuck rotation's AWSPENDING
 * label so that the next RotateSecret is accepted. One call per unfinished rotation, plus one per repair.
 */
export async function checkPendingRotations(
  decisions: readonly SweepDecision[],
  port: PendingCheckPort,
  options: { readonly now: Date; readonly stuckAfterMs: number; readonly repair: boolean },
): Promise<PendingCheckReport> {
  const report: PendingCheckReport = { stuck: [], inProgress: [], repaired: [], repairFailures: [] };
  for (const { secret, action } of decisions) {
    if (action.kind !== 'check-pending') continue;
    const created = await port.versionCreatedAt(secret.arn, action.pendingVersionId).catch(() => undefined);
    const ageMs = created ? options.now.getTime() - created.getTime() : undefined;
    if (!isStuck(ageMs, options.stuckAfterMs)) {
      report.inProgress.push(secret.name);
      continue;
    }
    const ageMinutes = ageMs === undefined ? -1 : Math.floor(ageMs / 60_000);
    report.stuck.push({ secret: secret.name, pendingVersionId: action.pendingVersionId, ageMinutes });
    if (!options.repair) continue;
    try {
      await repairStuckRotation(port, secret.arn, action.pendingVersionId);
      report.repaired.push({ secret: secret.name, pendingVersionId: action.pendingVersionId });
    } catch (error) {
      report.repairFailures.push({ secret: secret.name, error: safeMessage(error) });
    }
  }
  return report;
}
