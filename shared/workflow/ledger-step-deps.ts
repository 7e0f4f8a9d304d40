/**
 * What the workflow's ledger steps (claim-step.ts, record-step.ts, record-failure-step.ts,
 * retire-previous-step.ts) are given, and the ledger key they all write by.
 */

import type { LedgerPort } from '../ledger/ledger-port';
import type { RotationLogger, RotationMetrics } from '../observability';
import type { SecretsPort } from '../secrets/secrets-port';
import type { Claim } from './workflow-state';

export interface LedgerStepDeps {
  readonly managedPrefixes: readonly string[];
  readonly clusters: readonly string[];
  readonly restartConcurrency: number;
  readonly emergencyRestartConcurrency: number;
  readonly restartPercent: number;
  readonly canaryWorkloads: number;
  /** removeStage retires AWSPREVIOUS from a version; a no-op when the label is elsewhere. */
  readonly secrets: Pick<SecretsPort, 'describeSecret' | 'removeStage'>;
  readonly ledger: Pick<
    LedgerPort,
    'registerMove' | 'claimPropagation' | 'finishPropagation' | 'noteWindowWait'
  >;
  /** A claim older than this whose holder never finished is taken over. */
  readonly leaseMs: number;
  /** Every secret may be rolled back after a failed propagation (else only those tagged). */
  readonly autoRollback?: boolean;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
  readonly now: () => Date;
}

/** The ledger's key for the workflow's claim: one version's one AWSCURRENT move. */
export function propagationKeyOf(claim: Claim) {
  return { versionId: claim.versionId, moveSeq: claim.moveSeq };
}
