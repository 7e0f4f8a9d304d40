import { mapWithLimit } from '../concurrency';
import { safeMessage } from '../errors';
import type { SecretsPort } from '../secrets/secrets-port';
import type { ScheduleDecision } from './plan-schedules';

/** The one call configuring a schedule makes: RotateSecret with the rules, without rotating. */
export type ScheduleConfigurePort = Pick<SecretsPort, 'configureRotation'>;

export interface ScheduleReport {
  readonly schedulesConfigured: { secret: string; source: string; reason: string }[];
  readonly schedulesDeferred: string[];
  /** Secrets a rule or tag would schedule, left alone: another function rotates them, no opt-in. */
  readonly schedulesLeftToOtherFunctions: string[];
  /** RotateSecret failures and unreadable `rotator:schedule` tags. */
  readonly scheduleFailures: { secret: string; error: string }[];
}

/**
 * Configures each `configure` decision, at most `cap` (five at a time); reports the unreadable
 * tags. A failure on one secret is reported and does not stop the others.
 * Each schedule names the function its decision chose.
 * @example await configureSchedules(decisions, { port, cap: 50 })
 */
export async function configureSchedules(
  decisions: readonly ScheduleDecision[],
  deps: { readonly port: ScheduleConfigurePort; readonly cap: number },
): Promise<ScheduleReport> {
  const toConfigure = decisions.flatMap((d) =>
    d.action.kind === 'configure' ? [{ ...d, action: d.action }] : [],
  );
  const report: ScheduleReport = {
    schedulesConfigured: [],
    schedulesDeferred: toConfigure.slice(deps.cap).map((d) => d.secret.name),
    schedulesLeftToOtherFunctions: decisions.flatMap((d) =>
      d.action.kind === 'none' && d.action.reason === 'rotated-by-another-function' ? [d.secret.name] : [],
    ),
    scheduleFailures: decisions.flatMap((d) =>
      d.action.kind === 'invalid-tag' ? [{ secret: d.secret.name, error: d.action.error }] : [],
    ),
  };
  await mapWithLimit(toConfigure.slice(0, deps.cap), 5, async ({ secret, action }) => {
    try {
      await deps.port.configureRotation({
        secretId: secret.arn,
        rotationLambdaArn: action.rotationFunctionArn,
        schedule: action.schedule,
      });
      report.schedulesConfigured.push({ secret: secret.name, source: action.source, reason: action.reason });
    } catch (error) {
      report.scheduleFailures.push({
        secret: secret.name,
        error: safeMessage(error),
      });
    }
  });
  return report;
}
