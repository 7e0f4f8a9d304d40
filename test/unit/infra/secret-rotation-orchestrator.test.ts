import { type CfnElement, Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SecretRotationOrchestratorProps } from '../../../infra/lib/secret-rotation-orchestrator';
import { synthOrchestrator } from '../../support/synth-stack';

// CDK's built-in CloudFormation validation costs seconds per process and proves nothing about this
// construct; orchestrator-stack.test.ts keeps it on for the stack as cdk.json builds it.
vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const secretArnPattern = (prefix: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:us-east-1:123456789012:secret:${prefix}*`],
  ],
});
const SCHEDULES = [
  {
    secretName: 'prod/app-team/db-password',
    automaticallyAfter: Duration.days(30),
    window: Duration.hours(4),
  },
  { secretName: 'staging/app-team/api', scheduleExpression: 'rate(7 days)', rotateImmediately: false },
];

describe('SecretRotationOrchestrator', () => {
  // Prepare (once for the file): a fully configured construct.
  const { stack, orchestrator, template } = synthOrchestrator({
    rotationSchedules: SCHEDULES,
    defaultPasswordPolicy: { length: 40, fields: ['password'] },
    kmsKeyArns: [KEY],
  });
  const logicalId = (construct: IConstruct) =>
    stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);

  it('runs the rotation function on nodejs24.x, arm64, 256 MiB, 30 s, without tracing by default', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 30,
      TracingConfig: Match.absent(),
      Role: { 'Fn::GetAtt': [logicalId(orchestrator.role), 'Arn'] },
    });
  });

  it('configures the function through its environment, without Node’s source-map support (the map ships beside the bundle)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/,staging/app-team/',
          ROTATOR_DEFAULT_PASSWORD_POLICY: '{"length":40,"fields":["password"]}',
          POWERTOOLS_SERVICE_NAME: 'secret-rotation-orchestrator',
          POWERTOOLS_METRICS_NAMESPACE: 'SecretRotationOrchestrator',
          NODE_OPTIONS: Match.absent(),
        },
      },
    });
  });

  it('never gives the function an endpoint override', () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    const names = Object.keys(fn?.Properties?.Environment?.Variables ?? {});

    expect(names).toContain('ROTATOR_MANAGED_PREFIXES');
    expect(names.filter((name) => name.startsWith('AWS_ENDPOINT_URL'))).toEqual([]);
  });

  it('leaves the password policy variable out when no default policy is given', () => {
    const { template: plain } = synthOrchestrator();

    plain.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/,staging/app-team/',
          ROTATOR_DEFAULT_PASSWORD_POLICY: Match.absent(),
        },
      },
    });
  });

  it('writes logs to its own log group, kept three months', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: logicalId(orchestrator.logGroup) } },
    });
  });

  it('gives the role no managed policy and lets only Lambda assume it', () => {
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.absent(),
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
      },
    });
  });

  it('grants exactly its logs, GetRandomPassword and KMS via Secrets Manager for managed secrets, in its default policy', () => {
    template.resourceCountIs('AWS::IAM::Policy', 2);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(orchestrator.role) }],
      PolicyName: Match.stringLikeRegexp('DefaultPolicy'),
      PolicyDocument: {
        // A literal array: these statements and no others, in this order.
        Statement: [
          {
            Sid: 'WriteOwnLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logicalId(orchestrator.logGroup), 'Arn'] },
          },
          {
            Sid: 'GeneratePasswords',
            Effect: 'Allow',
            Action: 'secretsmanager:GetRandomPassword',
            Resource: '*',
          },
          {
            Sid: 'UseSecretKeysThroughSecretsManager',
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: KEY,
            // Only for a managed secret's data keys (Secrets Manager's SecretARN encryption context).
            Condition: {
              StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
              StringLike: {
                'kms:EncryptionContext:SecretARN': [
                  secretArnPattern('prod/app-team/'),
                  secretArnPattern('staging/app-team/'),
                ],
              },
            },
          },
        ],
      },
    });
  });

  it('grants the secret actions on the managed prefixes only for secrets this function rotates, in a policy of their own', () => {
    const rotatedByThisFunction = {
      ArnEquals: {
        'secretsmanager:resource/AllowRotationLambdaArn': {
          'Fn::GetAtt': [logicalId(orchestrator.rotationFunction), 'Arn'],
        },
      },
    };
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(orchestrator.role) }],
      PolicyName: Match.stringLikeRegexp('RotateSecretPolicy'),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'RotateManagedSecrets',
            Effect: 'Allow',
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
            ],
            Resource: [secretArnPattern('prod/app-team/'), secretArnPattern('staging/app-team/')],
            Condition: rotatedByThisFunction,
          },
          {
            Sid: 'MakeRotatedVersionsCurrent',
            Effect: 'Allow',
            Action: 'secretsmanager:UpdateSecretVersionStage',
            Resource: [secretArnPattern('prod/app-team/'), secretArnPattern('staging/app-team/')],
            Condition: {
              ...rotatedByThisFunction,
              StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' },
            },
          },
          {
            Sid: 'RetireRolledBackVersions',
            Effect: 'Allow',
            Action: 'secretsmanager:UpdateSecretVersionStage',
            Resource: [secretArnPattern('prod/app-team/'), secretArnPattern('staging/app-team/')],
            Condition: {
              ...rotatedByThisFunction,
              StringEquals: { 'secretsmanager:VersionStage': 'AWSPREVIOUS' },
            },
          },
        ],
      },
    });
  });

  it('adds no KMS statement when no key is configured', () => {
    const { template: plain } = synthOrchestrator();

    const statements = JSON.stringify(plain.findResources('AWS::IAM::Policy'));

    expect(statements).toContain('secretsmanager:GetRandomPassword');
    expect(statements).not.toContain('kms:');
  });

  it('lets only Secrets Manager, for this account and a secret under a managed prefix, invoke the function', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 2);
    for (const prefix of ['prod/app-team/', 'staging/app-team/']) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [logicalId(orchestrator.rotationFunction), 'Arn'] },
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: '123456789012',
        SourceArn: secretArnPattern(prefix),
      });
    }
  });

  it('creates one rotation schedule per configured secret, with its rules, after the invoke permission', () => {
    const functionArn = { 'Fn::GetAtt': [logicalId(orchestrator.rotationFunction), 'Arn'] };
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: 'prod/app-team/db-password',
      RotationLambdaARN: functionArn,
      RotateImmediatelyOnUpdate: Match.absent(),
      RotationRules: { AutomaticallyAfterDays: 30, Duration: '4h', ScheduleExpression: Match.absent() },
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: 'staging/app-team/api',
      RotationLambdaARN: functionArn,
      RotateImmediatelyOnUpdate: false,
      RotationRules: { ScheduleExpression: 'rate(7 days)', AutomaticallyAfterDays: Match.absent() },
    });
    const permissions = ['prod|app-team|', 'staging|app-team|'].map((prefix) =>
      logicalId(orchestrator.rotationFunction.node.findChild(`InvokedBySecretsManager[${prefix}]`)),
    );
    // And after the secret policy: Secrets Manager invokes the function as the schedule is created.
    const after = [...permissions, logicalId(orchestrator.secretPolicy)].sort();
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(schedules.map((schedule) => [...schedule.DependsOn].sort())).toEqual([after, after]);
  });

  it("keeps a schedule's logical id when another schedule is removed", () => {
    const [, staging] = orchestrator.rotationSchedules;
    const { stack: smaller, orchestrator: fewer } = synthOrchestrator({
      rotationSchedules: SCHEDULES.slice(1),
    });

    const before = stack.getLogicalId(staging as CfnElement);
    const after = smaller.getLogicalId(fewer.rotationSchedules[0] as CfnElement);

    expect(after).toBe(before);
  });

  it('applies the sizing, retention, architecture and tracing it is given', () => {
    const { template: custom } = synthOrchestrator({
      memorySize: 512,
      timeout: Duration.minutes(2),
      architecture: lambda.Architecture.X86_64,
      logRetention: logs.RetentionDays.ONE_YEAR,
      tracing: lambda.Tracing.ACTIVE,
    });

    custom.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 120,
      Architectures: ['x86_64'],
      TracingConfig: { Mode: 'Active' },
    });
    custom.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    custom.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
        ]),
      },
    });
  });

  it('leaves the caller props untouched', () => {
    const props = structuredCloneFrozen({ managedPrefixes: ['prod/app-team/'], kmsKeyArns: [KEY] });

    expect(() => synthOrchestrator(props)).not.toThrow();
    expect(props).toEqual({ managedPrefixes: ['prod/app-team/'], kmsKeyArns: [KEY] });
  });

  it.each<[string, Partial<SecretRotationOrchestratorProps>, RegExp]>([
    ['no managed prefix', { managedPrefixes: [] }, /managedPrefixes must name at least one prefix/],
    ['a wildcard prefix', { managedPrefixes: ['prod/*'] }, /"prod\/\*" must not contain a wildcard/],
    // The review's synth with ["prod/payments", "p"] produced secret:prod/payments* and secret:p*.
    [
      'a prefix without a trailing slash',
      { managedPrefixes: ['prod/payments'] },
      /managed prefix "prod\/payments" must end with "\/"/,
    ],
    [
      'a prefix within another',
      { managedPrefixes: ['prod/app-team/', 'prod/app-team/payments/'] },
      /"prod\/app-team\/payments\/" and "prod\/app-team\/" overlap/,
    ],
    [
      'a schedule outside the prefixes',
      { rotationSchedules: [{ secretName: 'prod/other-team/db', automaticallyAfter: Duration.days(1) }] },
      /"prod\/other-team\/db" is outside the managed prefixes/,
    ],
    ['a bad password policy', { defaultPasswordPolicy: { length: 2 } }, /defaultPasswordPolicy\.length: /],
  ])('refuses %s at construction', (_name, props, message) => {
    expect(() => synthOrchestrator(props)).toThrow(message);
  });
});

/** A deep-frozen copy: any write by the construct would throw in strict mode. */
function structuredCloneFrozen<T extends object>(value: T): T {
  const copy = structuredClone(value);
  for (const nested of Object.values(copy)) if (typeof nested === 'object' && nested) Object.freeze(nested);
  return Object.freeze(copy);
}
