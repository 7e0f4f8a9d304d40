import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { rotationEnvironment } from '../../shared/config';
import { OrchestratorFunction } from './orchestrator-function';
import {
  ORCHESTRATOR_DEFAULTS,
  orchestratorPropsProblems,
  type RotationScheduleProps,
  type SecretRotationOrchestratorProps,
} from './orchestrator-props';
import {
  managedSecretArnPattern,
  nagSecretArnPattern,
  rotationFunctionStatements,
  rotationSecretStatements,
} from './rotation-function-policy';

export type { RotationScheduleProps, SecretRotationOrchestratorProps } from './orchestrator-props';

/**
 * The orchestrator's AWS side: the rotation function, its log group, its least-privilege role, the
 * permission for Secrets Manager to invoke it, and rotation schedules for existing secrets.
 *
 * @example
 * new SecretRotationOrchestrator(this, 'Rotation', {
 *   managedPrefixes: ['prod/app-team/'],
 *   rotationSchedules: [{ secretName: 'prod/app-team/db', automaticallyAfter: Duration.days(30) }],
 * });
 */
export class SecretRotationOrchestrator extends Construct {
  readonly rotationFunction: OrchestratorFunction;
  readonly role: iam.Role;
  /** The role's secret permissions, only on secrets whose rotation function is this function. */
  readonly secretPolicy: iam.Policy;
  readonly logGroup: logs.LogGroup;
  readonly rotationSchedules: readonly secretsmanager.CfnRotationSchedule[];

  constructor(scope: Construct, id: string, props: SecretRotationOrchestratorProps) {
    super(scope, id);
    const problems = orchestratorPropsProblems(props, Stack.of(this).region);
    if (problems.length > 0) {
      throw new Error(`SecretRotationOrchestrator ${this.node.path}: ${problems.join('; ')}`);
    }
    const tracing = props.tracing ?? ORCHESTRATOR_DEFAULTS.tracing;

    this.rotationFunction = new OrchestratorFunction(this, 'RotateSecret', {
      folder: 'rotate-secret',
      identity: {
        logGroup: 'RotateSecretLogs',
        role: 'RotateSecretRole',
        description: 'Rotation function of the secret rotation orchestrator (managed prefixes only)',
      },
      logRetention: props.logRetention ?? ORCHESTRATOR_DEFAULTS.logRetention,
      architecture: props.architecture ?? ORCHESTRATOR_DEFAULTS.architecture,
      memorySize: props.memorySize ?? ORCHESTRATOR_DEFAULTS.memorySize,
      timeout: props.timeout ?? ORCHESTRATOR_DEFAULTS.timeout,
      tracing,
      description: 'Secrets Manager rotation function (createSecret, setSecret, testSecret, finishSecret)',
      environment: rotationEnvironment({
        managedPrefixes: props.managedPrefixes,
        defaultPasswordPolicy: props.defaultPasswordPolicy,
      }),
    });
    this.logGroup = this.rotationFunction.functionLogGroup;
    this.role = this.rotationFunction.role;
    for (const statement of rotationFunctionStatements(this, props.managedPrefixes, props.kmsKeyArns ?? [])) {
      this.role.addToPolicy(statement);
    }
    // A policy of its own: its statements name the function, and the function depends on the role's
    // default policy, so there they would make a cycle. Schedules wait for it (below).
    this.secretPolicy = new iam.Policy(this, 'RotateSecretPolicy', {
      roles: [this.role],
      statements: rotationSecretStatements(this, props.managedPrefixes, this.rotationFunction.functionArn),
    });
    this.acknowledgeWildcards(props.managedPrefixes, tracing);

    // One permission per prefix, each for the secrets under it (Secrets Manager invokes with the
    // secret as aws:SourceArn; Lambda matches SourceArn with ArnLike): another team's secret in this
    // account cannot be pointed at this function.
    const permissions = [...new Set(props.managedPrefixes)].map((prefix) => {
      const id = `InvokedBySecretsManager[${prefix.replaceAll('/', '|')}]`;
      this.rotationFunction.addPermission(id, {
        principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
        sourceAccount: Stack.of(this).account,
        sourceArn: managedSecretArnPattern(this, prefix),
      });
      return this.rotationFunction.node.findChild(id);
    });

    this.rotationSchedules = (props.rotationSchedules ?? []).map((schedule) => {
      const cfn = this.scheduleRotation(schedule);
      // Secrets Manager invokes the function as the schedule is created.
      cfn.node.addDependency(...permissions, this.secretPolicy);
      return cfn;
    });
  }

  /**
   * One schedule per secret. The construct id comes from the secret's name (`|` for `/`, a character
   * secret names cannot hold), so adding or removing another schedule never renames this one. A new
   * logical id creates the schedule again, then deletes the old resource, and that delete turns the
   * secret's rotation off (aws-cloudformation/cloudformation-coverage-roadmap#1813).
   */
  private scheduleRotation(schedule: RotationScheduleProps): secretsmanager.CfnRotationSchedule {
    return new secretsmanager.CfnRotationSchedule(
      this,
      `Schedule[${schedule.secretName.replaceAll('/', '|')}]`,
      {
        secretId: schedule.secretName,
        rotationLambdaArn: this.rotationFunction.functionArn,
        rotateImmediatelyOnUpdate: schedule.rotateImmediately,
        rotationRules: {
          automaticallyAfterDays: schedule.automaticallyAfter?.toDays(),
          scheduleExpression: schedule.scheduleExpression,
          duration: schedule.window ? `${schedule.window.toHours()}h` : undefined,
        },
      },
    );
  }

  /**
   * The cdk-nag findings this construct accepts on purpose (AwsSolutions-IAM5 on the role's secret
   * policy and default policy), each acknowledged by its exact finding id and with its reason.
   */
  private acknowledgeWildcards(prefixes: readonly string[], tracing: lambda.Tracing): void {
    for (const prefix of new Set(prefixes)) {
      Validations.of(this.secretPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagSecretArnPattern(this, prefix)}]`,
        reason:
          'Secret ARNs end in a random six-character suffix, so the secrets under a managed prefix can only be granted as secret:<prefix>*, the pattern AWS documents; prefixes are validated to hold no wildcard, the statements apply only to secrets whose rotation function is this one, and the function refuses other secrets before any call.',
      });
    }
    const traced = tracing !== lambda.Tracing.DISABLED;
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `secretsmanager:GetRandomPassword has no resource type, so IAM accepts only "*" for it${
        traced ? '; likewise xray:PutTraceSegments and xray:PutTelemetryRecords, added for tracing' : ''
      }.`,
    });
  }
}
