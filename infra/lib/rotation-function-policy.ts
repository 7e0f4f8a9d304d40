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
 * The rotation function's permissions: the four secret actions on managed prefixes only,
 * GetRandomPassword (which has no resource), and KMS only when called through Secrets Manager.
 */
export function rotationFunctionStatements(
  scope: Construct,
  managedPrefixes: readonly string[],
  kmsKeyArns: readonly string[],
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'RotateManagedSecrets',
      actions: [...ROTATION_SECRET_ACTIONS],
      resources: managedPrefixes.map((prefix) => managedSecretArnPattern(scope, prefix)),
    }),
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
        },
      }),
    );
  }
  return statements;
}
