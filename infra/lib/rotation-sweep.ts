import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { checkPrefixRules } from '../../shared/managed-prefixes';
import * as z from '../../shared/schema';
import { type RotationRuleInput, rotationRuleSchema } from '../../shared/sweep/schedule-rules';
import { type SweepSettings, sweepEnvironment } from '../../shared/sweep/sweep-config';
import { OrchestratorFunction } from './orchestrator-function';
import {
  allowOnManagedSecrets,
  oneOrMany,
  onlyStage,
  rotateWithOwnFunction,
  rotationFunctionArnsOf,
} from './rotation-function-policy';

export interface RotationSweepProps {
  readonly managedPrefixes: readonly string[];
  /** The rotation function the managed secrets use; RotateSecret needs permission to invoke it. */
  readonly rotationFunction: lambda.IFunction;
  /** The database rotation function, when deployed: the secrets it rotates are managed too. @default none */
  readonly databaseRotationFunction?: lambda.IFunction;
  /** EventBridge Scheduler expression. @default 'rate(1 hour)' */
  readonly schedule?: string;
  /** Rotations started per run at most. @default 50 */
  readonly maxRotationsPerRun?: number;
  /** How late past its schedule a rotation may be before the sweep starts it, in hours (0–720). @default 24 */
  readonly graceHours?: number;
  /** An unfinished rotation older than this is stuck (reported, and repaired if `repairStuck`), in minutes (5–10,080). @default 60 */
  readonly stuckAfterMinutes?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** Remove a stuck rotation's AWSPENDING label (then rotate it if overdue). @default true */
  readonly repairStuck?: boolean;
  /**
   * The rotation ledger (e.g. a `RotationLedger`): its table name goes to the function with the
   * grants. The sweep records every rotation it starts there first (`grantRecordRotation`); given
   * `propagationStarter` too, it also reads it to reconcile (`grantRead`): a current version that
   * never reached the clusters gets a propagation. @default none: rotations are not recorded, no reconcile
   */
  readonly ledger?: {
    readonly tableName: string;
    grantRecordRotation(grantee: iam.IGrantable): void;
    grantRead(grantee: iam.IGrantable): void;
  };
  /**
   * How the sweep starts a propagation (e.g. a `ClusterPropagation`): a grant hook (e.g.
   * states:StartExecution on the workflow) and the workflow it starts. Needs `ledger`.
   * @default none: no reconcile
   */
  readonly propagationStarter?: {
    grantStartPropagation(grantee: iam.IGrantable): void;
    readonly stateMachineArn: string;
  };
  /** Propagations started per run at most by reconciling. @default 20 */
  readonly maxPropagationsPerRun?: number;
  /**
   * Rotation schedules by prefix, which the sweep sets on every secret under the prefix that does
   * not have it (with `rotationFunction`; a secret's `rotator:schedule` tag wins over any rule;
   * the longest prefix wins). Each prefix must lie within a managed prefix.
   * @default none: only tagged secrets get a schedule from the sweep
   */
  readonly rotationRules?: readonly RotationRuleInput[];
  /** Secrets whose schedule the stack sets (`rotationSchedules`); the sweep leaves them alone. @default none */
  readonly stackScheduledSecrets?: readonly string[];
  /** Schedules configured per run at most. @default 50 */
  readonly maxSchedulesPerRun?: number;
}

/**
 * The scheduled sweep: a function run by EventBridge Scheduler that lists the managed secrets,
 * publishes their age, starts overdue rotations (recorded in the ledger first, when given one),
 * reports stuck ones and gives secrets the rotation schedules their prefix rules and tags ask for. Its role may list secrets (ListSecrets has no resource-level scoping), rotate
 * and list versions of managed secrets only, invoke the rotation function (which RotateSecret
 * requires) and, with a ledger, write rotation records to it; it cannot read any value.
 */
/** The schedule group of the sweep's schedule (EventBridge Scheduler's default group). */
export const SWEEP_SCHEDULE_GROUP = 'default';

export class RotationSweep extends Construct {
  readonly sweepFunction: OrchestratorFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RotationSweepProps) {
    super(scope, id);
    this.sweepFunction = new OrchestratorFunction(this, 'Sweep', {
      folder: 'sweep',
      identity: {
        logGroup: 'Logs',
        role: 'Role',
        description: 'Sweep function of the secret rotation orchestrator (list, rotate; no secret values)',
      },
      logRetention: props.logRetention,
      memorySize: 512,
      timeout: Duration.minutes(5),
      description: 'Scheduled sweep: secret ages, overdue and stuck rotations, reconcile with the ledger',
      environment: sweepEnvironment({
        managedPrefixes: props.managedPrefixes,
        graceMs: optionalMs(props.graceHours, 3_600_000),
        stuckAfterMs: optionalMs(props.stuckAfterMinutes, 60_000),
        maxRotationsPerRun: props.maxRotationsPerRun,
        repairStuck: props.repairStuck,
        ledger: ledgerSettings(this, props),
        schedules: scheduleSettings(this, props),
      }),
    });
    this.role = this.sweepFunction.role;
    this.grantSweepActions(props);
    grantLedger(this.role, props);
    this.scheduleSweep(props.schedule ?? 'rate(1 hour)');
  }

  /** List (no resource-level scoping), rotate managed secrets and remove their AWSPENDING, invoke the rotation function. */
  private grantSweepActions(props: RotationSweepProps): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListSecrets',
        actions: ['secretsmanager:ListSecrets'],
        resources: ['*'],
      }),
    );
    const rotationFunctionArns = rotationFunctionArnsOf(props);
    allowOnManagedSecrets(this, this.role, {
      sid: 'ListVersionsOfManagedSecrets',
      actions: ['secretsmanager:ListSecretVersionIds'],
      prefixes: props.managedPrefixes,
      reason:
        'ListSecretVersionIds on the secrets under a managed prefix; secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    // Starting an overdue rotation: only of a secret that this project's function already rotates,
    // with its stored rules.
    allowOnManagedSecrets(this, this.role, {
      sid: 'RotateWithThisFunction',
      actions: ['secretsmanager:RotateSecret'],
      prefixes: props.managedPrefixes,
      conditions: rotateWithOwnFunction(rotationFunctionArns),
      reason:
        'RotateSecret on the secrets under a managed prefix whose rotation function is this project’s (conditions); secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    // Setting a schedule: the function a secret gets is always one of this project's, never another one.
    allowOnManagedSecrets(this, this.role, {
      sid: 'ScheduleWithThisFunction',
      actions: ['secretsmanager:RotateSecret'],
      prefixes: props.managedPrefixes,
      conditions: { ArnEquals: { 'secretsmanager:RotationLambdaARN': oneOrMany(rotationFunctionArns) } },
      reason:
        'RotateSecret naming this project’s rotation function (a condition) on the secrets under a managed prefix: setting schedules. Secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    // Repair only removes a stuck rotation's AWSPENDING label; AWSCURRENT and AWSPREVIOUS stay out
    // of reach, so this role cannot move AWSCURRENT back to an older, possibly leaked version.
    allowOnManagedSecrets(this, this.role, {
      sid: 'RemoveStuckPendingLabels',
      actions: ['secretsmanager:UpdateSecretVersionStage'],
      prefixes: props.managedPrefixes,
      conditions: onlyStage('AWSPENDING'),
      reason:
        'UpdateSecretVersionStage, only for AWSPENDING (a condition), on the secrets under a managed prefix: repairing a stuck rotation. Secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeRotationFunction',
        actions: ['lambda:InvokeFunction'],
        resources: rotationFunctionArns,
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permissions; the function filters by the managed prefixes and re-checks every result.',
    });
  }

  /** EventBridge Scheduler runs the sweep through a role of its own, retrying twice. */
  private scheduleSweep(expression: string): void {
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.sweepFunction.functionArn],
      }),
    );
    // The group whose metrics the stack's FailureAlarms watch (schedules without one are in `default`).
    new scheduler.CfnSchedule(this, 'Schedule', {
      scheduleExpression: expression,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.sweepFunction.functionArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 2 },
      },
    });
  }
}

/**
 * Schedule settings: the rotation function every schedule uses, the rules (validated here as at the
 * sweep's cold start), the secrets the stack schedules itself and the per-run cap. RotateSecret and
 * lambda:InvokeFunction on the function are granted already.
 */
function scheduleSettings(sweep: RotationSweep, props: RotationSweepProps): SweepSettings['schedules'] {
  const rules = z.array(rotationRuleSchema).check(
    z.superRefine((value, ctx) => {
      checkPrefixRules(value, props.managedPrefixes, ctx, []);
    }),
  );
  const parsed = rules.safeParse(props.rotationRules ?? []);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `rotationRules.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`RotationSweep ${sweep.node.path}: ${problems.join('; ')}`);
  }
  return {
    rotationFunctionArn: props.rotationFunction.functionArn,
    databaseRotationFunctionArn: props.databaseRotationFunction?.functionArn,
    rules: parsed.data,
    stackScheduledSecrets: props.stackScheduledSecrets,
    maxPerRun: props.maxSchedulesPerRun,
  };
}

/**
 * The ledger settings of the sweep's environment: the table of the ledger it records in and, with a
 * propagation starter as well, the workflow it reconciles with. A starter without a ledger is
 * refused at synth.
 */
function ledgerSettings(sweep: RotationSweep, props: RotationSweepProps): SweepSettings['ledger'] {
  const { ledger, propagationStarter } = props;
  if (!ledger) {
    if (propagationStarter) {
      throw new Error(
        `RotationSweep ${sweep.node.path}: propagationStarter needs ledger (reconcile reads the ledger)`,
      );
    }
    return undefined;
  }
  if (!propagationStarter) return { tableName: ledger.tableName };
  return {
    tableName: ledger.tableName,
    reconcile: {
      stateMachineArn: propagationStarter.stateMachineArn,
      maxPropagationsPerRun: props.maxPropagationsPerRun,
    },
  };
}

/**
 * Grants what {@link ledgerSettings} configures, from the same props, so grants and table name
 * cannot disagree: recording with a ledger; reading it and starting propagations with a starter too.
 */
function grantLedger(role: iam.IGrantable, props: RotationSweepProps): void {
  const { ledger, propagationStarter } = props;
  if (!ledger) return;
  ledger.grantRecordRotation(role);
  if (!propagationStarter) return;
  ledger.grantRead(role);
  propagationStarter.grantStartPropagation(role);
}

function optionalMs(amount: number | undefined, msPerUnit: number): number | undefined {
  return amount === undefined ? undefined : amount * msPerUnit;
}
