import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** The Secrets Manager actions the rotation function makes on a managed secret, and no others. */
export const ROTATION_SECRET_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

/**
 * The one staging label a role may move with UpdateSecretVersionStage (`secretsmanager:VersionStage`,
 * the request's required VersionStage parameter): the rotation function moves AWSCURRENT (finishSecret;
 * Secrets Manager then moves AWSPREVIOUS itself), the sweep and the request function only remove a
 * stuck AWSPENDING, the propagation step only retires AWSPREVIOUS.
 */
export function onlyStage(stage: 'AWSCURRENT' | 'AWSPENDING' | 'AWSPREVIOUS'): Record<string, unknown> {
  return { StringEquals: { 'secretsmanager:VersionStage': stage } };
}

/**
 * RotateSecret that starts a rotation with the configuration the secret already has, only when that
 * configuration names one of `functionArns` (this project's rotation functions): the request names
 * no function (`secretsmanager:RotationLambdaARN` absent), changes no rotation rules
 * (`secretsmanager:ModifyRotationRules` false whenever the request carries it), and the secret's
 * stored function (`secretsmanager:resource/AllowRotationLambdaArn`) is one of `functionArns`.
 */
export function rotateWithOwnFunction(functionArns: string | readonly string[]): Record<string, unknown> {
  return {
    Null: { 'secretsmanager:RotationLambdaARN': 'true' },
    ArnEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': oneOrMany(functionArns) },
    BoolIfExists: { 'secretsmanager:ModifyRotationRules': 'false' },
  };
}

/** The ARNs of this project's rotation functions a construct was given. */
export function rotationFunctionArnsOf(props: {
  readonly rotationFunction: { readonly functionArn: string };
  readonly databaseRotationFunction?: { readonly functionArn: string } | undefined;
}): string[] {
  return [
    props.rotationFunction.functionArn,
    ...(props.databaseRotationFunction ? [props.databaseRotationFunction.functionArn] : []),
  ];
}

/** One value as itself, several as a list (an IAM condition value may be either). */
export function oneOrMany(values: string | readonly string[]): string | string[] {
  if (typeof values === 'string') return values;
  return values.length === 1 ? (values[0] as string) : [...values];
}

/** ARN pattern of the secrets under one managed prefix, exactly as IAM matches `secret:<prefix>*`. */
export function managedSecretArnPattern(scope: Construct, prefix: string): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${prefix}*`;
}

/**
 * The managed-prefix ARN pattern as cdk-nag prints it in a finding id, where unresolved pseudo
 * parameters appear as <AWS::Partition>, <AWS::Region> and <AWS::AccountId>.
 */
export function nagSecretArnPattern(scope: Construct, prefix: string): string {
  const stack = Stack.of(scope);
  const show = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${show(stack.partition, 'Partition')}:secretsmanager:${show(stack.region, 'Region')}:${show(stack.account, 'AccountId')}:secret:${prefix}*`;
}

/**
 * Allows `actions` on the secrets under the managed prefixes (secret:<prefix>*, the only way to name
 * them: their ARNs end in a random suffix) and acknowledges cdk-nag's IAM5 finding on that pattern
 * for each prefix, with `reason`.
 */
export function allowOnManagedSecrets(
  scope: Construct,
  role: iam.Role,
  grant: {
    readonly sid: string;
    readonly actions: readonly string[];
    readonly prefixes: readonly string[];
    readonly reason: string;
    readonly conditions?: Record<string, unknown>;
  },
): void {
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: grant.sid,
      actions: [...grant.actions],
      resources: grant.prefixes.map((prefix) => managedSecretArnPattern(scope, prefix)),
      conditions: grant.conditions,
    }),
  );
  for (const prefix of new Set(grant.prefixes)) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagSecretArnPattern(scope, prefix)}]`,
      reason: grant.reason,
    });
  }
}

/**
 * The rotation function's secret permissions: the four secret actions on managed prefixes only, and
 * only on secrets whose rotation function is `functionArn` (the function itself), as AWS's own
 * rotation roles are scoped (`secretsmanager:resource/AllowRotationLambdaArn`). They name the
 * function, so they cannot sit in the policy the function itself depends on.
 */
export function rotationSecretStatements(
  scope: Construct,
  managedPrefixes: readonly string[],
  functionArn: string,
): iam.PolicyStatement[] {
  const resources = managedPrefixes.map((prefix) => managedSecretArnPattern(scope, prefix));
  const rotatedByThisFunction = {
    ArnEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': functionArn },
  };
  return [
    new iam.PolicyStatement({
      sid: 'RotateManagedSecrets',
      actions: ROTATION_SECRET_ACTIONS.filter(
        (action) => action !== 'secretsmanager:UpdateSecretVersionStage',
      ),
      resources,
      conditions: rotatedByThisFunction,
    }),
    // finishSecret moves AWSCURRENT to the new version (and a rollback moves it back); it never
    // removes AWSPENDING.
    new iam.PolicyStatement({
      sid: 'MakeRotatedVersionsCurrent',
      actions: ['secretsmanager:UpdateSecretVersionStage'],
      resources,
      conditions: { ...rotatedByThisFunction, ...onlyStage('AWSCURRENT') },
    }),
    // A rollback leaves the failed version with no label: it takes away the AWSPREVIOUS that
    // Secrets Manager puts there when AWSCURRENT moves back (shared/rotation/roll-back.ts).
    new iam.PolicyStatement({
      sid: 'RetireRolledBackVersions',
      actions: ['secretsmanager:UpdateSecretVersionStage'],
      resources,
      conditions: { ...rotatedByThisFunction, ...onlyStage('AWSPREVIOUS') },
    }),
  ];
}

/**
 * The rotation function's other permissions: GetRandomPassword (which has no resource), and KMS
 * only when called through Secrets Manager in this region for a secret under a managed prefix (the
 * `SecretARN` encryption context Secrets Manager puts on every data key of a secret).
 */
export function rotationFunctionStatements(
  scope: Construct,
  managedPrefixes: readonly string[],
  kmsKeyArns: readonly string[],
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'GeneratePasswords',
      actions: ['secretsmanager:GetRandomPassword'],
      resources: ['*'],
    }),
  ];
  if (kmsKeyArns.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'UseSecretKeysThroughSecretsManager',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [...kmsKeyArns],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` },
          StringLike: {
            'kms:EncryptionContext:SecretARN': managedPrefixes.map((prefix) =>
              managedSecretArnPattern(scope, prefix),
            ),
          },
        },
      }),
    );
  }
  return statements;
}

/** What Lambda does with a function's role to attach it to a VPC (AWSLambdaVPCAccessExecutionRole's EC2 part). */
export const VPC_NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/**
 * The database rotation function's permissions beyond the rotation function's: GetSecretValue on
 * exactly the configured master secrets (and their KMS keys only through Secrets Manager, for those
 * secrets), and the network interfaces Lambda manages when the function runs in a VPC.
 */
export function databaseRotationStatements(
  scope: Construct,
  masterSecretArns: readonly string[],
  kmsKeyArns: readonly string[],
  inVpc: boolean,
): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  const masters = [...new Set(masterSecretArns)];
  if (masters.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadMasterSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: masters,
      }),
    );
    if (kmsKeyArns.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DecryptMasterSecretsThroughSecretsManager',
          actions: ['kms:Decrypt'],
          resources: [...kmsKeyArns],
          conditions: {
            StringEquals: {
              'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com`,
              'kms:EncryptionContext:SecretARN': masters,
            },
          },
        }),
      );
    }
  }
  if (inVpc) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'AttachToVpc',
        actions: [...VPC_NETWORK_INTERFACE_ACTIONS],
        resources: ['*'],
      }),
    );
  }
  return statements;
}
