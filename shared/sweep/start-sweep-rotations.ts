import { randomUUID } from 'node:crypto';
import { mapWithLimit } from '../concurrency';
import { safeMessage } from '../errors';
import type { LedgerPort, RotationRecord } from '../ledger/ledger-port';
import type { SecretsPort } from '../secrets/secrets-port';
import { overdueReason, type SweepDecision } from './plan-sweep';

/**
 * The ledger's actor for the rotations the sweep starts (trigger `scheduled`): the sweep runs on
 * EventBridge Scheduler, on nobody's request. RotationRecord documents `scheduler` for this.
 */
export const SWEEP_ACTOR = 'scheduler';

/** The one call starting a rotation makes: RotateSecret, `ClientRequestToken` = versionId, now. */
export type RotationStartPort = Pick<SecretsPort, 'rotateSecret'>;

export interface SweepRotationDeps {
  readonly port: RotationStartPort;
  /** Records each rotation before it starts; absent when no ledger is configured. */
  readonly ledger?: Pick<LedgerPort, 'recordRotation'>;
  readonly now: Date;
  /** At most this many rotations started; the rest are deferred to the next run. */
  readonly cap: number;
  /** Secret name → the stuck rotation's pending version this run removed before rotating it. */
  readonly repaired: ReadonlyMap<string, string>;
}

export interface SweepRotationReport {
  readonly rotationsStarted: { secret: string; versionId: string }[];
  readonly rotationsDeferred: string[];
  readonly rotationFailures: { secret: string; error: string }[];
}

/**
 * Starts a rotation for each decision, at most `cap` (five at a time), as an on-request rotation
 * does: the new version's id is ours; with a ledger, its {@link RotationRecord} (trigger
 * `scheduled`, actor {@link SWEEP_ACTOR}, reason from {@link overdueReason}) is written first, and
 * RotateSecret follows only once it is stored, so no rotation the sweep starts is missing from the
 * ledger. A failure on one secret, of the record or of RotateSecret, is reported and does not stop
 * the others; a record whose RotateSecret then failed stays, naming a version that never existed.
 * @example await startSweepRotations(overdue, { port, ledger, now, cap: 50, repaired: new Map() })
 */
export async function startSweepRotations(
  toRotate: readonly SweepDecision[],
  deps: SweepRotationDeps,
): Promise<SweepRotationReport> {
  const report: SweepRotationReport = {
    rotationsStarted: [],
    rotationsDeferred: toRotate.slice(deps.cap).map((d) => d.secret.name),
    rotationFailures: [],
  };
  await mapWithLimit(toRotate.slice(0, deps.cap), 5, async (decision) => {
    const secret = decision.secret.name;
    const versionId = randomUUID();
    try {
      await deps.ledger?.recordRotation(sweepRotationRecord(decision, versionId, deps));
    } catch (error) {
      report.rotationFailures.push({
        secret,
        error: `not started: the ledger record failed: ${safeMessage(error)}`,
      });
      return;
    }
    try {
      await deps.port.rotateSecret({ secretId: decision.secret.arn, versionId });
      report.rotationsStarted.push({ secret, versionId });
    } catch (error) {
      report.rotationFailures.push({ secret, error: safeMessage(error) });
    }
  });
  return report;
}

function sweepRotationRecord(
  decision: SweepDecision,
  versionId: string,
  deps: Pick<SweepRotationDeps, 'now' | 'repaired'>,
): RotationRecord {
  const repairedPendingVersionId = deps.repaired.get(decision.secret.name);
  return {
    secretName: decision.secret.name,
    secretArn: decision.secret.arn,
    versionId,
    trigger: 'scheduled',
    actor: SWEEP_ACTOR,
    reason: overdueReason(decision),
    requestedAt: deps.now.toISOString(),
    ...(repairedPendingVersionId && { repairedPendingVersionId }),
  };
}
