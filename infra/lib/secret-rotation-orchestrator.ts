import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IDependable } from 'constructs';
import { Construct } from 'constructs';
import { rotationEnvironment } from '../../shared/config';
import { DATABASE_BUNDLING } from './lambda-defaults';
import { OrchestratorFunction } from './orchestrator-function';
import {
  ORCHESTRATOR_DEFAULTS,
  orchestratorPropsProblems,
  type RotationScheduleProps,
  type SecretRotationOrchestratorProps,
} from './orchestrator-props';
import {
  databaseRotationStatements,
  managedSecretArnPattern,
  nagSecretArnPattern,
  rotationFunctionStatements,
  rotationSecretStatements,
} from './rotation-function-policy';

export type {
  DatabaseRotationProps,
  RotationScheduleProps,
  SecretRotationOrchestratorProps,
} from './orchestrator-props';

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
  /** The database rotation function (`databaseRotation`), with its own role. */
  readonly databaseRotationFunction: OrchestratorFunction | undefined;
  /** Both rotation functions' ARNs: the secrets the requests and the sweep may rotate name one of them. */
  readonly rotationFunctionArns: readonly string[];
  readonly rotationSchedules: readonly secretsmanager.CfnRotationSchedule[];

  constructor(scope: Construct, id: string, props: SecretRotationOrchestratorProps) {
    super(scope, id);
    const problems = orchestratorPropsProblems(props, Stack.of(this).region);
    if (problems.length > 0) {
      throw new Error(`SecretRotationOrchestrator ${this.node.path}: ${problems.join('; ')}`);
    }

    const generated = this.addRotationFunction(props, {
      id: 'RotateSecret',
      folder: 'rotate-secret',
      roleDescription: 'Rotation function of the secret rotation orchestrator (managed prefixes only)',
      description: 'Secrets Manager rotation function (createSecret, setSecret, testSecret, finishSecret)',
    });
    this.rotationFunction = generated.fn;
    this.logGroup = this.rotationFunction.functionLogGroup;
    this.role = this.rotationFunction.role;
    this.secretPolicy = generated.secretPolicy;

    const databases = props.databaseRotation;
    const database = databases
      ? this.addRotationFunction(props, {
          id: 'RotateDatabaseSecret',
          folder: 'rotate-database-secret',
          roleDescription:
            'Database rotation function of the secret rotation orchestrator (managed prefixes, configured master secrets)',
          description:
            'Secrets Manager rotation function for PostgreSQL and MySQL credentials (createSecret, setSecret, testSecret, finishSecret)',
          databaseTlsByDefault: databases.tlsByDefault ?? false,
          databaseRdsCertificates: databases.rdsCertificates ?? true,
          bundling: DATABASE_BUNDLING,
          vpc: databases.vpc && {
            vpc: databases.vpc,
            vpcSubnets: databases.vpcSubnets,
            securityGroups: databases.securityGroups && [...databases.securityGroups],
          },
        })
      : undefined;
    this.databaseRotationFunction = database?.fn;
    if (database && databases) {
      for (const statement of databaseRotationStatements(
        this,
        databases.masterSecretArns ?? [],
        props.kmsKeyArns ?? [],
        databases.vpc !== undefined,
      )) {
        database.fn.role.addToPolicy(statement);
      }
      if (databases.vpc !== undefined) {
        Validations.of(database.fn.role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'secretsmanager:GetRandomPassword has no resource type, and Lambda manages the network interfaces of a function in a VPC through its role with EC2 actions that take no resource (AWSLambdaVPCAccessExecutionRole names "*" too).',
        });
      }
    }
    this.rotationFunctionArns = [generated.fn.functionArn, ...(database ? [database.fn.functionArn] : [])];

    this.rotationSchedules = (props.rotationSchedules ?? []).map((schedule) => {
      const rotatedBy = schedule.rotationFunction === 'database' && database ? database : generated;
      const cfn = this.scheduleRotation(schedule, rotatedBy.fn.functionArn);
      // Secrets Manager invokes the function as the schedule is created.
      cfn.node.addDependency(...rotatedBy.permissions, rotatedBy.secretPolicy);
      return cfn;
    });
  }

  /**
   * One rotation function with its least-privilege role: the four secret actions on managed
   * secrets whose rotation function it is, and one invoke permission per prefix.
   */
  private addRotationFunction(
    props: SecretRotationOrchestratorProps,
    spec: {
      readonly id: string;
      readonly folder: string;
      readonly roleDescription: string;
      readonly description: string;
      readonly databaseTlsByDefault?: boolean;
      readonly databaseRdsCertificates?: boolean;
      readonly vpc?: Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
      readonly bundling?: nodejs.BundlingOptions;
    },
  ): { fn: OrchestratorFunction; secretPolicy: iam.Policy; permissions: IDependable[] } {
    const tracing = props.tracing ?? ORCHESTRATOR_DEFAULTS.tracing;
    const fn = new OrchestratorFunction(this, spec.id, {
      folder: spec.folder,
      identity: { logGroup: `${spec.id}Logs`, role: `${spec.id}Role`, description: spec.roleDescription },
      logRetention: props.logRetention ?? ORCHESTRATOR_DEFAULTS.logRetention,
      architecture: props.architecture ?? ORCHESTRATOR_DEFAULTS.architecture,
      memorySize: props.memorySize ?? ORCHESTRATOR_DEFAULTS.memorySize,
      timeout: props.timeout ?? ORCHESTRATOR_DEFAULTS.timeout,
      tracing,
      description: spec.description,
      environment: rotationEnvironment({
        managedPrefixes: props.managedPrefixes,
        defaultPasswordPolicy: props.defaultPasswordPolicy,
        databaseTlsByDefault: spec.databaseTlsByDefault,
        databaseRdsCertificates: spec.databaseRdsCertificates,
      }),
      ...spec.vpc,
      ...(spec.bundling && { bundling: spec.bundling }),
    });
    for (const statement of rotationFunctionStatements(this, props.managedPrefixes, props.kmsKeyArns ?? [])) {
      fn.role.addToPolicy(statement);
    }
    // A policy of its own: its statements name the function, and the function depends on the role's
    // default policy, so there they would make a cycle. Schedules wait for it (below).
    const secretPolicy = new iam.Policy(this, `${spec.id}Policy`, {
      roles: [fn.role],
      statements: rotationSecretStatements(this, props.managedPrefixes, fn.functionArn),
    });
    this.acknowledgeWildcards(fn.role, secretPolicy, props.managedPrefixes, tracing);

    // One permission per prefix, each for the secrets under it (Secrets Manager invokes with the
    // secret as aws:SourceArn; Lambda matches SourceArn with ArnLike): another team's secret in this
    // account cannot be pointed at this function.
    const permissions = [...new Set(props.managedPrefixes)].map((prefix) => {
      const permissionId = `InvokedBySecretsManager[${prefix.replaceAll('/', '|')}]`;
      fn.addPermission(permissionId, {
        principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
        sourceAccount: Stack.of(this).account,
        sourceArn: managedSecretArnPattern(this, prefix),
      });
      return fn.node.findChild(permissionId);
    });
    return { fn, secretPolicy, permissions };
  }

  /**
   * One schedule per secret. The construct id comes from the secret's name (`|` for `/`, a character
   * secret names cannot hold), so adding or removing another schedule never renames this one. A new
   * logical id creates the schedule again, then deletes the old resource, and that delete turns the
   * secret's rotation off (aws-cloudformation/cloudformation-coverage-roadmap#1813).
   */
  private scheduleRotation(
    schedule: RotationScheduleProps,
    rotationLambdaArn: string,
  ): secretsmanager.CfnRotationSchedule {
    return new secretsmanager.CfnRotationSchedule(
      this,
      `Schedule[${schedule.secretName.replaceAll('/', '|')}]`,
      {
        secretId: schedule.secretName,
        rotationLambdaArn,
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
  private acknowledgeWildcards(
    role: iam.Role,
    secretPolicy: iam.Policy,
    prefixes: readonly string[],
    tracing: lambda.Tracing,
  ): void {
    for (const prefix of new Set(prefixes)) {
      Validations.of(secretPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagSecretArnPattern(this, prefix)}]`,
        reason:
          'Secret ARNs end in a random six-character suffix, so the secrets under a managed prefix can only be granted as secret:<prefix>*, the pattern AWS documents; prefixes are validated to hold no wildcard, the statements apply only to secrets whose rotation function is this one, and the function refuses other secrets before any call.',
      });
    }
    const traced = tracing !== lambda.Tracing.DISABLED;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `secretsmanager:GetRandomPassword has no resource type, so IAM accepts only "*" for it${
        traced ? '; likewise xray:PutTraceSegments and xray:PutTelemetryRecords, added for tracing' : ''
      }.`,
    });
  }
}
