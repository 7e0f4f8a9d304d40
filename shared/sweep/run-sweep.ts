import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { LedgerPort } from '../ledger/ledger-port';
import type { RotationLogger } from '../observability';
import type { SecretsPort } from '../secrets/secrets-port';
import { checkPendingRotations, type PendingCheckPort, type PendingCheckReport } from './check-pending';
import { configureSchedules, type ScheduleConfigurePort, type ScheduleReport } from './configure-schedules';
import { planSchedules, type ScheduleOptions } from './plan-schedules';
import { planSweep, type SweepDecision } from './plan-sweep';
import { type ReconcileDeps, type ReconcileReport, reconcilePropagations } from './reconcile-propagations';
import type { SecretSummary } from './secret-summary';
import {
  type RotationStartPort,
  type SweepRotationReport,
  startSweepRotations,
} from './start-sweep-rotations';

/** The Secrets Manager calls the sweep makes, and no others. */
export type SweepPort = Pick<SecretsPort, 'listManagedSecrets'> &
  PendingCheckPort &
  RotationStartPort &
  ScheduleConfigurePort;

export interface SweepConfig {
  /** The secrets swept: every one under these prefixes. */
  readonly managedPrefixes: readonly string[];
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
  /**
   * Rotation schedules to enforce (rules by prefix, `rotator:schedule` tags), at most
   * `maxPerRun` configured a run. Absent: schedules are left alone.
   */
  readonly schedules?: ScheduleOptions & { readonly maxPerRun: number };
}

export interface SweepReport
  extends PendingCheckReport,
    SweepRotationReport,
    ScheduleReport,
    ReconcileReport {
  readonly listed: number;
  readonly overdue: number;
  /** Whether the rotations started were recorded in the ledger first (a ledger is configured). */
  readonly recorded: boolean;
  /** Whether the ledger was consulted (only when propagation is deployed). */
  readonly reconciled: boolean;
  /** Whether rotation schedules were enforced (a rotation function is configured). */
  readonly schedulesEnforced: boolean;
}

/**
 * One scheduled sweep: list the managed secrets (no call per secret), publish each one's age, tell
 * unfinished rotations in progress from stuck ones and repair the stuck ones, start a rotation for
 * each overdue one (a repaired one included; capped per run; recorded in the ledger first when one
 * is given), give each secret the rotation schedule its tag or prefix rule asks for (capped per
 * run; not a secret being rotated), and, when reconciling is configured, start propagations for
 * current versions that never reached the clusters (capped per run).
 * A failure on one secret is reported and does not stop the others.
 */
export async function runSweep(deps: {
  readonly port: SweepPort;
  readonly config: SweepConfig;
  readonly logger: RotationLogger;
  readonly metrics: Pick<Metrics, 'addMetric' | 'singleMetric'>;
  readonly now: Date;
  /** Records each rotation before starting it (see startSweepRotations); absent: not recorded. */
  readonly ledger?: Pick<LedgerPort, 'recordRotation'>;
  /** Reconciling with the ledger; absent when propagation is not deployed. */
  readonly reconcile?: ReconcileDeps;
}): Promise<SweepReport> {
  const { port, config, now } = deps;
  const secrets = await port.listManagedSecrets(config.managedPrefixes);
  const decisions = planSweep(secrets, { now, graceMs: config.graceMs });
  publishAges(decisions, deps.metrics);
  const pending = await checkPendingRotations(decisions, port, {
    now,
    stuckAfterMs: config.stuckAfterMs,
    repair: config.repairStuck,
  });
  const repaired = new Map(pending.repaired.map((r) => [r.secret, r.pendingVersionId]));
  const toRotate = decisions.filter(
    (d) => d.action.kind === 'rotate' || (d.overdue && repaired.has(d.secret.name)),
  );
  const rotations = await startSweepRotations(toRotate, {
    port,
    ledger: deps.ledger,
    now,
    cap: config.maxRotationsPerRun,
    repaired,
  });
  const schedules = await enforceSchedules(secrets, new Set(toRotate.map((d) => d.secret.name)), {
    port,
    options: config.schedules,
  });
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
    ...schedules,
    ...reconciled,
    recorded: deps.ledger !== undefined,
    reconciled: deps.reconcile !== undefined,
    schedulesEnforced: config.schedules !== undefined,
  };
  publishTotals(report, deps.metrics);
  deps.logger.info('sweep done', summaryOf(report));
  return report;
}

/** Schedules for every secret but those rotated this run (their turn comes next run). */
async function enforceSchedules(
  secrets: readonly SecretSummary[],
  rotating: ReadonlySet<string>,
  deps: { readonly port: ScheduleConfigurePort; readonly options: SweepConfig['schedules'] },
): Promise<ScheduleReport> {
  const { options } = deps;
  if (!options) {
    return {
      schedulesConfigured: [],
      schedulesDeferred: [],
      schedulesLeftToOtherFunctions: [],
      scheduleFailures: [],
    };
  }
  const decisions = planSchedules(secrets, options).filter((d) => !rotating.has(d.secret.name));
  return configureSchedules(decisions, { port: deps.port, cap: options.maxPerRun });
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
  if (report.schedulesEnforced) {
    metrics.addMetric('RotationSchedulesConfigured', 'Count', report.schedulesConfigured.length);
    metrics.addMetric('RotationScheduleFailures', 'Count', report.scheduleFailures.length);
  }
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
    rotationsStarted: report.rotationsStarted,
    recorded: report.recorded,
    rotationsDeferred: report.rotationsDeferred.length,
    rotationFailures: report.rotationFailures,
    stuck: report.stuck,
    repaired: report.repaired,
    repairFailures: report.repairFailures,
    inProgress: report.inProgress,
    schedulesConfigured: report.schedulesConfigured,
    schedulesDeferred: report.schedulesDeferred.length,
    schedulesLeftToOtherFunctions: report.schedulesLeftToOtherFunctions,
    scheduleFailures: report.scheduleFailures,
    propagationsStarted: report.propagationsStarted,
    propagationsDeferred: report.propagationsDeferred.length,
    propagationFailures: report.propagationFailures,
  };
}
