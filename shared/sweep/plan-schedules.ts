import { asksForDatabaseRotation } from '../rotation/strategy-registry';
import { unfinishedPendingVersion } from '../secrets/versions';
import { type RotationSchedule, SCHEDULE_TAG, type ScheduleRule, scheduleFromTags } from './schedule-rules';
import type { SecretSummary } from './secret-summary';

export type ScheduleAction =
  | {
      readonly kind: 'none';
      readonly reason:
        | 'no-schedule'
        | 'stack-scheduled'
        | 'matches'
        | 'rotation-in-progress'
        /** Another function rotates it and the secret does not opt in ({@link TAKE_OVER_TAG}). */
        | 'rotated-by-another-function';
    }
  | {
      readonly kind: 'configure';
      readonly schedule: RotationSchedule;
      /** The orchestrator's function the schedule names (see {@link rotationFunctionFor}). */
      readonly rotationFunctionArn: string;
      /** `tag rotator:schedule` or `rule <prefix>`. */
      readonly source: string;
      /** What differs, in words: names and schedules only. */
      readonly reason: string;
    }
  /** The secret's `rotator:schedule` tag cannot be read; the secret is left as it is. */
  | { readonly kind: 'invalid-tag'; readonly error: string };

/**
 * `rotator:take-over` = `true`: the sweep may point a secret that another function rotates (e.g.
 * AWS's RDS rotation templates) at the orchestrator's function. Without it such a secret is left
 * alone and reported (review M6): taking a database credential over without the right strategy
 * would break it.
 */
export const TAKE_OVER_TAG = 'rotator:take-over';

export interface ScheduleDecision {
  readonly secret: SecretSummary;
  readonly action: ScheduleAction;
}

export interface ScheduleOptions {
  /** Rules by prefix; the longest matching prefix wins. */
  readonly rules: readonly ScheduleRule[];
  /** The orchestrator's rotation function, which the schedules the sweep sets use. */
  readonly rotationFunctionArn: string;
  /**
   * The database rotation function, when deployed: for secrets whose `rotator:strategy` tag names a
   * database strategy, and for secrets it rotates already.
   */
  readonly databaseRotationFunctionArn?: string | undefined;
  /** Secrets whose schedule the stack sets (`rotationSchedules`): left to CloudFormation. */
  readonly stackScheduled: ReadonlySet<string>;
}

/**
 * Whether each managed secret's rotation schedule, as ListSecrets reports it, is the one wanted:
 * its `rotator:schedule` tag, else the rule with the longest matching prefix. `configure` when
 * rotation is off, the schedule or window differs, or another function rotates it and the secret
 * opts in ({@link TAKE_OVER_TAG}); nothing when it matches, nothing is wanted, the stack schedules
 * it, another function rotates it without the opt-in, or a rotation is under way (next run).
 * @example planSchedules(secrets, { rules, rotationFunctionArn, stackScheduled: new Set() })
 */
export function planSchedules(
  secrets: readonly SecretSummary[],
  options: ScheduleOptions,
): ScheduleDecision[] {
  return secrets.map((secret) => ({ secret, action: scheduleAction(secret, options) }));
}

function scheduleAction(secret: SecretSummary, options: ScheduleOptions): ScheduleAction {
  if (options.stackScheduled.has(secret.name)) return { kind: 'none', reason: 'stack-scheduled' };
  const tagged = scheduleFromTags(secret.tags);
  if (tagged && 'error' in tagged) return { kind: 'invalid-tag', error: tagged.error };
  const rule = tagged ? undefined : ruleFor(secret.name, options.rules);
  const wanted = tagged?.schedule ?? rule?.schedule;
  if (!wanted) return { kind: 'none', reason: 'no-schedule' };
  if (rotatedByAnotherFunction(secret, options) && secret.tags[TAKE_OVER_TAG]?.trim() !== 'true') {
    return { kind: 'none', reason: 'rotated-by-another-function' };
  }
  const rotationFunctionArn = rotationFunctionFor(secret, options);
  const difference = differenceFrom(secret, wanted, rotationFunctionArn);
  if (difference === undefined) return { kind: 'none', reason: 'matches' };
  if (unfinishedPendingVersion(secret.versionIdsToStages)) {
    return { kind: 'none', reason: 'rotation-in-progress' };
  }
  const source = rule ? `rule ${rule.prefix}` : `tag ${SCHEDULE_TAG}`;
  return { kind: 'configure', schedule: wanted, rotationFunctionArn, source, reason: difference };
}

/** A rotation function is recorded on the secret, and it is none of the orchestrator's. */
function rotatedByAnotherFunction(
  secret: Pick<SecretSummary, 'rotationLambdaArn'>,
  options: Pick<ScheduleOptions, 'rotationFunctionArn' | 'databaseRotationFunctionArn'>,
): boolean {
  const recorded = secret.rotationLambdaArn;
  return (
    recorded !== undefined &&
    recorded !== '' &&
    recorded !== options.rotationFunctionArn &&
    recorded !== options.databaseRotationFunctionArn
  );
}

/**
 * Which of the orchestrator's functions rotates a secret: the database rotation function (when
 * deployed) for a secret tagged with a database strategy or already rotated by it, else the
 * rotation function. A database credential is never moved to the function without drivers.
 */
export function rotationFunctionFor(
  secret: Pick<SecretSummary, 'tags' | 'rotationLambdaArn'>,
  options: Pick<ScheduleOptions, 'rotationFunctionArn' | 'databaseRotationFunctionArn'>,
): string {
  const database = options.databaseRotationFunctionArn;
  if (database === undefined) return options.rotationFunctionArn;
  return asksForDatabaseRotation(secret.tags) || secret.rotationLambdaArn === database
    ? database
    : options.rotationFunctionArn;
}

/** The rule with the longest prefix the name starts with. */
export function ruleFor(name: string, rules: readonly ScheduleRule[]): ScheduleRule | undefined {
  let best: ScheduleRule | undefined;
  for (const rule of rules) {
    if (name.startsWith(rule.prefix) && rule.prefix.length > (best?.prefix.length ?? -1)) best = rule;
  }
  return best;
}

/** What differs between the secret's rotation and the wanted one, or undefined when nothing does. */
function differenceFrom(
  secret: SecretSummary,
  wanted: RotationSchedule,
  rotationFunctionArn: string,
): string | undefined {
  if (!secret.rotationEnabled) return `rotation off → ${describeSchedule(wanted)}`;
  const actual = actualSchedule(secret);
  if (actual === undefined || canonical(actual) !== canonical(wanted)) {
    return `${actual ? describeSchedule(actual) : 'no schedule'} → ${describeSchedule(wanted)}`;
  }
  const window = windowHoursOf(secret.rotationWindow);
  if (wanted.windowHours !== undefined && window !== wanted.windowHours) {
    return `window ${window === undefined ? 'default' : `${window}h`} → ${wanted.windowHours}h`;
  }
  if (secret.rotationLambdaArn !== rotationFunctionArn) return 'rotated by another function';
  return undefined;
}

/**
 * The schedule ListSecrets reports. Its AutomaticallyAfterDays is derived from an expression when
 * there is one, so the expression decides.
 */
function actualSchedule(secret: SecretSummary): RotationSchedule | undefined {
  if (secret.rotationScheduleExpression) {
    return { kind: 'expression', expression: secret.rotationScheduleExpression };
  }
  return secret.rotationIntervalDays === undefined
    ? undefined
    : { kind: 'days', days: secret.rotationIntervalDays };
}

/** One spelling per schedule: `rate(30 days)` is the same as 30 days. */
function canonical(schedule: RotationSchedule): string {
  if (schedule.kind === 'days') return `days:${schedule.days}`;
  const expression = schedule.expression.replace(/\s+/g, ' ').trim();
  const rateInDays = /^rate\(\s*(\d+)\s+days?\s*\)$/i.exec(expression);
  return rateInDays ? `days:${Number(rateInDays[1])}` : `expression:${expression}`;
}

function windowHoursOf(duration: string | undefined): number | undefined {
  const hours = duration === undefined ? undefined : /^(\d+)h$/.exec(duration.trim());
  return hours ? Number(hours[1]) : undefined;
}

/** @example describeSchedule({ kind: 'days', days: 30, windowHours: 4 }) // 'every 30 days, window 4h' */
export function describeSchedule(schedule: RotationSchedule): string {
  const every = schedule.kind === 'days' ? `every ${schedule.days} days` : schedule.expression;
  return schedule.windowHours === undefined ? every : `${every}, window ${schedule.windowHours}h`;
}
