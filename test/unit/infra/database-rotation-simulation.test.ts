import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SecretRotationOrchestrator } from '../../../infra/lib/secret-rotation-orchestrator';
import { rolePolicyDocuments } from '../../support/policy-documents';
import { simulatedDecision } from '../../support/policy-simulation';
import { BASE_PROPS, TEST_ENV } from '../../support/synth-stack';

// See iam-policy-simulation.test.ts: CDK's validation proves nothing here and costs seconds.
vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const ACCOUNT = TEST_ENV.account;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const secret = (name: string, suffix = 'AbCdEf') =>
  `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-${suffix}`;
const MASTER = secret('rds!db-1234/master', 'Q1w2E3');
const MANAGED_SECRET = secret('prod/app-team/orders-db');
const GENERATED_FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotate-secret`;
const DATABASE_FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotate-database-secret`;

// Prepare (once for the file): the stack with both rotation functions, the database one in a VPC
// with one master secret, and each role's synthesized policies with intrinsics resolved.
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'Test', { env: TEST_ENV });
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
const orchestrator = new SecretRotationOrchestrator(stack, 'Orchestrator', {
  ...BASE_PROPS,
  kmsKeyArns: [KEY],
  databaseRotation: {
    masterSecretArns: [MASTER],
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  },
  rotationSchedules: [
    {
      secretName: 'prod/app-team/orders-db',
      scheduleExpression: 'rate(30 days)',
      rotationFunction: 'database',
    },
    { secretName: 'prod/app-team/api-token', scheduleExpression: 'rate(30 days)' },
  ],
});
const template = Template.fromStack(stack);
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const refs = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  [`${logicalId(orchestrator.rotationFunction)}.Arn`]: GENERATED_FUNCTION,
  // biome-ignore lint/style/noNonNullAssertion: deployed above
  [`${logicalId(orchestrator.databaseRotationFunction!)}.Arn`]: DATABASE_FUNCTION,
  ...Object.fromEntries(
    Object.keys(template.findResources('AWS::Logs::LogGroup')).map((id) => [
      `${id}.Arn`,
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${id}`,
    ]),
  ),
};
const ROLES = {
  database: rolePolicyDocuments(template, /RotateDatabaseSecretRole/, refs),
  generated: rolePolicyDocuments(template, /RotateSecretRole/, refs),
};
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};

function decide(
  role: keyof typeof ROLES,
  action: string,
  resource: string,
  context: Record<string, string> = {},
) {
  return simulatedDecision({
    identityPolicies: ROLES[role],
    principal: `arn:aws:iam::${ACCOUNT}:role/${role}`,
    action,
    resource,
    accountId: ACCOUNT,
    context,
    resourcePolicy: action.startsWith('kms:') ? DEFAULT_KEY_POLICY : undefined,
  });
}

const rotatedBy = (arn: string) => ({ 'secretsmanager:resource/AllowRotationLambdaArn': arn });

describe('the database rotation function, evaluated by an IAM policy simulator', () => {
  it('reads exactly the configured master secrets, and the rotation function reads none', async () => {
    expect(await decide('database', 'secretsmanager:GetSecretValue', MASTER)).toBe('Allowed');
    expect(await decide('generated', 'secretsmanager:GetSecretValue', MASTER)).toBe('ImplicitlyDenied');
    // Another master, the same name with another suffix, and a write to the master: refused.
    expect(await decide('database', 'secretsmanager:GetSecretValue', secret('rds!db-9999/master'))).toBe(
      'ImplicitlyDenied',
    );
    expect(await decide('database', 'secretsmanager:GetSecretValue', secret('rds!db-1234/master'))).toBe(
      'ImplicitlyDenied',
    );
    expect(await decide('database', 'secretsmanager:PutSecretValue', MASTER)).toBe('ImplicitlyDenied');
  });

  it('decrypts only the master secrets (and managed ones) through Secrets Manager', async () => {
    const via = { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' };
    expect(
      await decide('database', 'kms:Decrypt', KEY, { ...via, 'kms:EncryptionContext:SecretARN': MASTER }),
    ).toBe('Allowed');
    expect(
      await decide('database', 'kms:Decrypt', KEY, {
        ...via,
        'kms:EncryptionContext:SecretARN': secret('rds!db-9999/master'),
      }),
    ).toBe('ImplicitlyDenied');
    expect(
      await decide('generated', 'kms:Decrypt', KEY, { ...via, 'kms:EncryptionContext:SecretARN': MASTER }),
    ).toBe('ImplicitlyDenied');
  });

  it('each function works only on the managed secrets it rotates', async () => {
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']) {
      expect(await decide('database', action, MANAGED_SECRET, rotatedBy(DATABASE_FUNCTION))).toBe('Allowed');
      expect(await decide('database', action, MANAGED_SECRET, rotatedBy(GENERATED_FUNCTION))).toBe(
        'ImplicitlyDenied',
      );
      expect(await decide('generated', action, MANAGED_SECRET, rotatedBy(DATABASE_FUNCTION))).toBe(
        'ImplicitlyDenied',
      );
    }
  });

  it('manages network interfaces in its VPC; the rotation function outside a VPC cannot', async () => {
    expect(await decide('database', 'ec2:CreateNetworkInterface', '*')).toBe('Allowed');
    expect(await decide('generated', 'ec2:CreateNetworkInterface', '*')).toBe('ImplicitlyDenied');
  });
});

describe('the database rotation function, synthesized', () => {
  it('runs in the given VPC subnets with a security group, the rotation function in none', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const config = (fn: { node: { defaultChild?: unknown } }) =>
      (
        (functions[logicalId(fn)]?.Properties ?? {}) as {
          VpcConfig?: { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
        }
      ).VpcConfig;
    // biome-ignore lint/style/noNonNullAssertion: deployed above
    const vpcConfig = config(orchestrator.databaseRotationFunction!);
    expect(vpcConfig?.SubnetIds).toHaveLength(2);
    expect(vpcConfig?.SecurityGroupIds).toHaveLength(1);
    expect(config(orchestrator.rotationFunction)).toBeUndefined();
  });

  it('is invoked by Secrets Manager only for secrets under the managed prefixes, as the rotation function', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map(
      (p) => p.Properties as { FunctionName: { 'Fn::GetAtt': [string] }; SourceArn: string },
    );
    // biome-ignore lint/style/noNonNullAssertion: deployed above
    const database = logicalId(orchestrator.databaseRotationFunction!);
    const sources = permissions
      .filter((p) => p.FunctionName['Fn::GetAtt'][0] === database)
      .map((p) => JSON.stringify(p.SourceArn));
    expect(sources).toHaveLength(BASE_PROPS.managedPrefixes.length);
    for (const prefix of BASE_PROPS.managedPrefixes) {
      expect(sources.some((source) => source.includes(`secret:${prefix}*`))).toBe(true);
    }
  });

  it('is the function of the schedules that ask for it', () => {
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule')).map(
      (s) => s.Properties as { SecretId: string; RotationLambdaARN: { 'Fn::GetAtt': [string] } },
    );
    const byFunction = Object.fromEntries(
      schedules.map((s) => [s.SecretId, s.RotationLambdaARN['Fn::GetAtt'][0]]),
    );
    expect(byFunction).toEqual({
      // biome-ignore lint/style/noNonNullAssertion: deployed above
      'prod/app-team/orders-db': logicalId(orchestrator.databaseRotationFunction!),
      'prod/app-team/api-token': logicalId(orchestrator.rotationFunction),
    });
  });
});
