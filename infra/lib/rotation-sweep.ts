import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { functionIdentity } from './function-identity';
import { LAMBDA_DEFAULTS, OBSERVABILITY_ENVIRONMENT, REPO_ROOT } from './lambda-defaults';
import { managedSecretArnPattern, nagSecretArnPattern } from './rotation-function-policy';

export interface RotationSweepProps {
  readonly managedPrefixes: readonly string[];
  /** The rotation function the managed secrets use; RotateSecret needs permission to invoke it. */
  readonly rotationFunction: lambda.IFunction;
  /** EventBridge Scheduler expression. @default 'rate(1 hour)' */
  readonly schedule?: string;
  /** Rotations started per run at most. @default 50 */
  readonly maxRotationsPerRun?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The scheduled sweep: a function run by EventBridge Scheduler that lists the managed secrets,
 * publishes their age, starts overdue rotations and reports stuck ones. Its role may list secrets
 * (ListSecrets has no resource-level scoping), rotate and list versions of managed secrets only,
 * and invoke the rotation function (which RotateSecret requires); it cannot read any value.
 */
export class RotationSweep extends Construct {
  readonly sweepFunction: nodejs.NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RotationSweepProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { logGroup, role } = functionIdentity(
      this,
      { logGroup: 'Logs', role: 'Role' },
      {
        description: 'Sweep function of the secret rotation orchestrator (list, rotate; no secret values)',
        logRetention: props.logRetention,
      },
    );
    this.role = role;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListSecrets',
        actions: ['secretsmanager:ListSecrets'],
        resources: ['*'],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RotateManagedSecrets',
        actions: ['secretsmanager:RotateSecret', 'secretsmanager:ListSecretVersionIds'],
        resources: props.managedPrefixes.map((prefix) => managedSecretArnPattern(this, prefix)),
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeRotationFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [props.rotationFunction.functionArn],
      }),
    );
    for (const prefix of new Set(props.managedPrefixes)) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagSecretArnPattern(this, prefix)}]`,
        reason:
          'RotateSecret and ListSecretVersionIds on the secrets under a managed prefix; secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
      });
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permissions; the function filters by the managed prefixes and re-checks every result.',
    });

    this.sweepFunction = new nodejs.NodejsFunction(this, 'Sweep', {
      entry: `${REPO_ROOT}functions/sweep/handler.ts`,
      ...LAMBDA_DEFAULTS,
      memorySize: 512,
      timeout: Duration.minutes(5),
      role: this.role,
      logGroup,
      description: 'Scheduled sweep: secret ages, overdue rotations, stuck rotations',
      environment: {
        ROTATOR_MANAGED_PREFIXES: props.managedPrefixes.join(','),
        ROTATOR_MAX_ROTATIONS_PER_RUN: String(props.maxRotationsPerRun ?? 50),
        ...OBSERVABILITY_ENVIRONMENT,
      },
    });

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.sweepFunction.functionArn],
      }),
    );
    new scheduler.CfnSchedule(this, 'Schedule', {
      scheduleExpression: props.schedule ?? 'rate(1 hour)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.sweepFunction.functionArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 2 },
      },
    });
  }
}
