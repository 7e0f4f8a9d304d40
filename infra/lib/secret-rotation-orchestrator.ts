import { fileURLToPath } from 'node:url';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { managedPrefixSchema } from '../../shared/config';
import { isManaged } from '../../shared/managed-prefixes';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/observability';
import { type PasswordPolicyInput, passwordPolicyInputSchema } from '../../shared/rotation/password-policy';
import { rotationFunctionStatements } from './rotation-function-policy';

/** A Secrets Manager rotation schedule for a secret that exists outside this stack. */
export interface RotationScheduleProps {
  /** Name of the secret; must be under a managed prefix. */
  readonly secretName: string;
  /** Rotate this long after the last rotation (whole days). One of this or `scheduleExpression`. */
  readonly automaticallyAfter?: Duration;
  /** `rate(…)` or `cron(…)`, as Secrets Manager accepts them. */
  readonly scheduleExpression?: string;
  /** Length of the rotation window, e.g. `Duration.hours(3)`. @default Secrets Manager's default */
  readonly window?: Duration;
  /** Rotate as soon as the schedule is created. @default true (Secrets Manager's default) */
  readonly rotateImmediately?: boolean;
}

export interface SecretRotationOrchestratorProps {
  /** Secret-name prefixes this deployment manages, e.g. `['prod/app-team/']`. Required, no wildcards. */
  readonly managedPrefixes: readonly string[];
  /** Rotation schedules to create. @default none */
  readonly rotationSchedules?: readonly RotationScheduleProps[];
  /** Password policy for every managed secret; tags override it. @default the built-in safe defaults */
  readonly defaultPasswordPolicy?: PasswordPolicyInput;
  /** Customer-managed KMS keys that encrypt managed secrets. @default none (AWS-managed key) */
  readonly kmsKeyArns?: readonly string[];
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
}

const DEFAULTS = {
  logRetention: logs.RetentionDays.THREE_MONTHS,
  memorySize: 256,
  timeout: Duration.seconds(30),
  architecture: lambda.Architecture.ARM_64,
} as const;

const ROTATE_SECRET_ENTRY = fileURLToPath(
  new URL('../../functions/rotate-secret/handler.ts', import.meta.url),
);

/**
 * The orchestrator's AWS side: the rotation function, its log group, its least-privilege role,
 * and rotation schedules for the configured secrets.
 */
export class SecretRotationOrchestrator extends Construct {
  readonly rotationFunction: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SecretRotationOrchestratorProps) {
    super(scope, id);
    validateProps(props);
    const kmsKeyArns = props.kmsKeyArns ?? [];

    this.logGroup = new logs.LogGroup(this, 'RotateSecretLogs', {
      retention: props.logRetention ?? DEFAULTS.logRetention,
    });
    this.role = new iam.Role(this, 'RotateSecretRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Rotation function of the secret rotation orchestrator (managed prefixes only)',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    for (const statement of rotationFunctionStatements(this, props.managedPrefixes, kmsKeyArns)) {
      this.role.addToPolicy(statement);
    }

    this.rotationFunction = new nodejs.NodejsFunction(this, 'RotateSecret', {
      entry: ROTATE_SECRET_ENTRY,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: props.architecture ?? DEFAULTS.architecture,
      memorySize: props.memorySize ?? DEFAULTS.memorySize,
      timeout: props.timeout ?? DEFAULTS.timeout,
      role: this.role,
      logGroup: this.logGroup,
      description: 'Secrets Manager rotation function (createSecret, setSecret, testSecret, finishSecret)',
      environment: functionEnvironment(props),
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        minify: true,
        // Error classes set `name` from the class; minified names would reach logs and callers.
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        externalModules: [],
        forceDockerBundling: false,
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    this.rotationFunction.addPermission('InvokedBySecretsManager', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
    });
    const permission = this.rotationFunction.node.findChild('InvokedBySecretsManager');

    for (const [index, schedule] of (props.rotationSchedules ?? []).entries()) {
      const cfn = new secretsmanager.CfnRotationSchedule(this, `Schedule${index}`, {
        secretId: schedule.secretName,
        rotationLambdaArn: this.rotationFunction.functionArn,
        rotateImmediatelyOnUpdate: schedule.rotateImmediately,
        rotationRules: {
          automaticallyAfterDays: schedule.automaticallyAfter?.toDays(),
          scheduleExpression: schedule.scheduleExpression,
          duration: schedule.window ? `${schedule.window.toHours()}h` : undefined,
        },
      });
      cfn.node.addDependency(permission);
    }
    this.acknowledgeFindings(props.managedPrefixes);
  }

  /** cdk-nag findings this construct accepts on purpose, each with its reason. */
  private acknowledgeFindings(prefixes: readonly string[]): void {
    const stack = Stack.of(this);
    // cdk-nag names unresolved pseudo parameters as <AWS::Partition>, <AWS::Region>, <AWS::AccountId>.
    const show = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const arnStart = `arn:${show(stack.partition, 'Partition')}:secretsmanager:${show(stack.region, 'Region')}:${show(stack.account, 'AccountId')}`;
    for (const prefix of prefixes) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${arnStart}:secret:${prefix}*]`,
        reason:
          'Secret ARNs end in a random suffix, so a managed prefix can only be granted as secret:<prefix>*, the pattern AWS documents; prefixes are validated to contain no wildcard.',
      });
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'secretsmanager:GetRandomPassword has no resource type; IAM accepts only "*" for it.',
    });
  }
}

function functionEnvironment(props: SecretRotationOrchestratorProps): Record<string, string> {
  const environment: Record<string, string> = {
    ROTATOR_MANAGED_PREFIXES: props.managedPrefixes.join(','),
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    NODE_OPTIONS: '--enable-source-maps',
  };
  if (props.defaultPasswordPolicy) {
    environment.ROTATOR_DEFAULT_PASSWORD_POLICY = JSON.stringify(props.defaultPasswordPolicy);
  }
  return environment;
}

function validateProps(props: SecretRotationOrchestratorProps): void {
  if (props.managedPrefixes.length === 0) {
    throw new Error('SecretRotationOrchestrator: managedPrefixes must name at least one prefix');
  }
  for (const prefix of props.managedPrefixes) {
    const checked = managedPrefixSchema.safeParse(prefix);
    if (!checked.success) {
      throw new Error(
        `SecretRotationOrchestrator: managed prefix "${prefix}" ${checked.error.issues[0]?.message}`,
      );
    }
  }
  for (const schedule of props.rotationSchedules ?? []) {
    if (!isManaged(schedule.secretName, props.managedPrefixes)) {
      throw new Error(
        `SecretRotationOrchestrator: rotation schedule for "${schedule.secretName}" is outside the managed prefixes`,
      );
    }
    if ((schedule.automaticallyAfter === undefined) === (schedule.scheduleExpression === undefined)) {
      throw new Error(
        `SecretRotationOrchestrator: schedule for "${schedule.secretName}" needs exactly one of automaticallyAfter or scheduleExpression`,
      );
    }
  }
  if (props.defaultPasswordPolicy) {
    const checked = passwordPolicyInputSchema.safeParse(props.defaultPasswordPolicy);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new Error(
        `SecretRotationOrchestrator: defaultPasswordPolicy.${issue?.path.join('.')} ${issue?.message}`,
      );
    }
  }
}
