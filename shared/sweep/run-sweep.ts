import type { Metrics } from '@aws-lambda-powertools/metrics';
import { mapWithLimit } from '../concurrency';
import { describeError } from '../errors';
import type { RotationLogger } from '../observability';
import { planSweep } from './plan-sweep';
import type { SecretSummary } from './secret-summary';

/** The Secrets Manager calls the sweep makes, and no others. */
export interface SweepPort {
  listManagedSecrets(): Promise<SecretSummary[]>;
  /** Starts a rotation with the secret's configured function; the new version's id. */
  rotateSecret(secretId: string): Promise<string | undefined>;
  /** When a version was created (ListSecretVersionIds), for judging unfinished rotations. */
  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined>;
}

export interface SweepConfig {
  /** How late past its schedule a rotation may be before the sweep starts it. */
  readonly graceMs: number;
  /** An AWSPENDING version older than this, off the current version, is a stuck rotation. */
  readonly stuckAfterMs: number;
  /** At most this many rotations started per run, so one sweep cannot flood the rotation function. */
  readonly maxRotationsPerRun: number;
}

export interface SweepReport {
  readonly listed: number;
  readonly overdue: number;
  readonly rotationsStarted: { secret: string; versionId: string | undefined }[];
  readonly rotationsDeferred: string[];
  readonly rotationFailures: { secret: string; error: string }[];
  readonly stuck: { secret: string; pendingVersionId: string; ageMinutes: number }[];
  readonly inProgress: string[];
}

/**
 * One scheduled sweep: list the managed secrets (no call per secret), publish each one's age, start
 * a rotation for each overdue one (capped per run), and tell unfinished rotations that are still in
 * progress from stuck ones. A failure on one secret is reported and does not stop the others.
 */
export async function runSweep(deps: {
  readonly port: SweepPort;
  readonly config: SweepConfig;
  readonly logger: RotationLogger;
  readonly metrics: Pick<Metrics, 'addMetric' | 'singleMetric'>;
  readonly now: Date;
}): Promise<SweepReport> {
  const { port, config, now } = deps;
  const decisions = planSweep(await port.listManagedSecrets(), { now, graceMs: config.graceMs });
  const report: SweepReport = {
    listed: decisions.length,
    overdue: decisions.filter((d) => d.overdue).length,
    rotationsStarted: [],
    rotationsDeferred: [],
    rotationFailures: [],
    stuck: [],
    inProgress: [],
  };
  for (const decision of decisions) {
    const age = deps.metrics.singleMetric();
    age.addDimension('SecretName', decision.secret.name);
    age.addMetric('SecretAgeDays', 'None', Math.floor(decision.ageDays));
  }
  const toRotate = decisions.filter((d) => d.action.kind === 'rotate');
  report.rotationsDeferred.push(...toRotate.slice(config.maxRotationsPerRun).map((d) => d.secret.name));
  await mapWithLimit(toRotate.slice(0, config.maxRotationsPerRun), 5, async ({ secret }) => {
    try {
      report.rotationsStarted.push({ secret: secret.name, versionId: await port.rotateSecret(secret.arn) });
    } catch (error) {
      report.rotationFailures.push({ secret: secret.name, error: describeError(error).message as string });
    }
  });
  for (const { secret, action } of decisions) {
    if (action.kind !== 'check-pending') continue;
    const created = await port.versionCreatedAt(secret.arn, action.pendingVersionId).catch(() => undefined);
    const ageMs = created ? now.getTime() - created.getTime() : Number.POSITIVE_INFINITY;
    if (ageMs > config.stuckAfterMs) {
      const ageMinutes = Number.isFinite(ageMs) ? Math.floor(ageMs / 60_000) : -1;
      report.stuck.push({ secret: secret.name, pendingVersionId: action.pendingVersionId, ageMinutes });
    } else report.inProgress.push(secret.name);
  }
  deps.metrics.addMetric('ManagedSecrets', 'Count', report.listed);
  deps.metrics.addMetric('OverdueSecrets', 'Count', report.overdue);
  deps.metrics.addMetric('RotationsStarted', 'Count', report.rotationsStarted.length);
  deps.metrics.addMetric('RotationStartFailures', 'Count', report.rotationFailures.length);
  deps.metrics.addMetric('StuckRotations', 'Count', report.stuck.length);
  deps.logger.info('sweep done', {
    listed: report.listed,
    overdue: report.overdue,
    rotationsStarted: report.rotationsStarted.map((r) => r.secret),
    rotationsDeferred: report.rotationsDeferred.length,
    rotationFailures: report.rotationFailures,
    stuck: report.stuck,
    inProgress: report.inProgress,
  });
  return report;
}
