import type { Metrics } from '@aws-lambda-powertools/metrics';
import { mapWithLimit } from '../concurrency';
import { describeError } from '../errors';
import type { RotationLogger } from '../observability';
import { checkPendingRotations, type PendingCheckPort, type PendingCheckReport } from './check-pending';
import { planSweep, type SweepDecision } from './plan-sweep';
import { type ReconcileDeps, type ReconcileReport, reconcilePropagations } from './reconcile-propagations';
import type { SecretSummary } from './secret-summary';

/** The Secrets Manager calls the sweep makes, and no others. */
export interface SweepPort extends PendingCheckPort {
  listManagedSecrets(): Promise<SecretSummary[]>;
  /** Starts a rotation with the secret's configured function; the new version's id. */
  rotateSecret(secretId: string): Promise<string | undefined>;
}

export interface SweepConfig {
  /** How late past its schedule a rotation may be before the sweep starts it. */
  readonly graceMs: number;
  /** An AWSPENDING version older than this, off the current version, is a stuck rotation. */
  readonly stuckAfterMs: number;
  /** At most this many rotations started per run, so one sweep cannot flood the rotation function. */
  readonly maxRotationsPerRun: number;
  /** Remove a stuck rotation's AWSPENDING label (then rotate it if overdue). */
  readonly repairStuck: boolean;
  /** At most this many propagations started per run by reconciling with the ledger. */
  readonly maxPropagationsPerRun: number;
  /** An in-progress propagation older than this has lost its holder and may be started again. */
  readonly propagationLeaseMs: number;
}

export interface SweepReport extends PendingCheckReport, ReconcileReport {
  readonly listed: number;
  readonly overdue: number;
  readonly rotationsStarted: { secret: string; versionId: string | undefined }[];
  readonly rotationsDeferred: string[];
  readonly rotationFailures: { secret: string; error: string }[];
  /** Whether the ledger was consulted (only when propagation is deployed). */
  readonly reconciled: boolean;
}

/**
 * One scheduled sweep: list the managed secrets (no call per secret), publish each one's age, tell
 * unfinished rotations in progress from stuck ones and repair the stuck ones, start a rotation for
 * each overdue one (a repaired one included; capped per run), and, when a ledger is configured,
 * start propagations for current versions that never reached the clusters (capped per run).
 * A failure on one secret is reported and does not stop the others.
 */
export async function runSweep(deps: {
  readonly port: SweepPort;
  readonly config: SweepConfig;
  readonly logger: RotationLogger;
  readonly metrics: Pick<Metrics, 'addMetric' | 'singleMetric'>;
  readonly now: Date;
  /** Reconciling with the ledger; absent when propagation is not deployed. */
  readonly reconcile?: ReconcileDeps;
}): Promise<SweepReport> {
  const { port, config, now } = deps;
  const secrets = await port.listManagedSecrets();
  const decisions = planSweep(secrets, { now, graceMs: config.graceMs });
  publishAges(decisions, deps.metrics);
  const pending = await checkPendingRotations(decisions, port, {
    now,
    stuckAfterMs: config.stuckAfterMs,
    repair: config.repairStuck,
  });
  const repaired = new Set(pending.repaired.map((r) => r.secret));
  const toRotate = decisions.filter(
    (d) => d.action.kind === 'rotate' || (d.overdue && repaired.has(d.secret.name)),
  );
  const rotations = await startRotations(toRotate, port, config.maxRotationsPerRun);
  const reconciled = deps.reconcile
    ? await reconcilePropagations(secrets, deps.reconcile, {
        now,
        leaseMs: config.propagationLeaseMs,
        maxPerRun: config.maxPropagationsPerRun,
      })
    : { propagationsStarted: [], propagationsDeferred: [], propagationFailures: [] };
  const report: SweepReport = {
    listed: decisions.length,
    overdue: decisions.filter((d) => d.overdue).length,
    ...rotations,
    ...pending,
    ...reconciled,
    reconciled: deps.reconcile !== undefined,
  };
  publishTotals(report, deps.metrics);
  deps.logger.info('sweep done', summaryOf(report));
  return report;
}

async function startRotations(toRotate: readonly SweepDecision[], port: SweepPort, cap: number) {
  const result = {
    rotationsStarted: [] as SweepReport['rotationsStarted'],
    rotationsDeferred: toRotate.slice(cap).map((d) => d.secret.name),
    rotationFailures: [] as SweepReport['rotationFailures'],
  };
  await mapWithLimit(toRotate.slice(0, cap), 5, async ({ secret }) => {
    try {
      result.rotationsStarted.push({ secret: secret.name, versionId: await port.rotateSecret(secret.arn) });
    } catch (error) {
      result.rotationFailures.push({ secret: secret.name, error: describeError(error).message as string });
    }
  });
  return result;
}

function publishAges(decisions: readonly SweepDecision[], metrics: Pick<Metrics, 'singleMetric'>) {
  for (const decision of decisions) {
    const age = metrics.singleMetric();
    age.addDimension('SecretName', decision.secret.name);
    age.addMetric('SecretAgeDays', 'None', Math.floor(decision.ageDays));
  }
}

function publishTotals(report: SweepReport, metrics: Pick<Metrics, 'addMetric'>) {
  metrics.addMetric('ManagedSecrets', 'Count', report.listed);
  metrics.addMetric('OverdueSecrets', 'Count', report.overdue);
  metrics.addMetric('RotationsStarted', 'Count', report.rotationsStarted.length);
  metrics.addMetric('RotationStartFailures', 'Count', report.rotationFailures.length);
  metrics.addMetric('StuckRotations', 'Count', report.stuck.length);
  metrics.addMetric('StuckRotationsRepaired', 'Count', report.repaired.length);
  if (report.reconciled) {
    metrics.addMetric('ReconcilePropagationsStarted', 'Count', report.propagationsStarted.length);
    metrics.addMetric('ReconcilePropagationFailures', 'Count', report.propagationFailures.length);
  }
}

/** Names, versions and counts for the one log line of a run; never a value. */
function summaryOf(report: SweepReport) {
  return {
    listed: report.listed,
    overdue: report.overdue,
    rotationsStarted: report.rotationsStarted.map((r) => r.secret),
    rotationsDeferred: report.rotationsDeferred.length,
    rotationFailures: report.rotationFailures,
    stuck: report.stuck,
    repaired: report.repaired,
    repairFailures: report.repairFailures,
    inProgress: report.inProgress,
    propagationsStarted: report.propagationsStarted,
    propagationsDeferred: report.propagationsDeferred.length,
    propagationFailures: report.propagationFailures,
  };
}
