import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { synthOrchestrator } from '../../support/synth-stack';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const secretArn = (prefix: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:us-east-1:123456789012:secret:${prefix}*`],
  ],
});

describe('SecretRotationOrchestrator', () => {
  const { template } = synthOrchestrator({
    rotationSchedules: [
      { secretName: 'prod/app-team/db', automaticallyAfter: Duration.days(30), window: Duration.hours(4) },
      { secretName: 'staging/app-team/api', scheduleExpression: 'rate(7 days)', rotateImmediately: false },
    ],
    defaultPasswordPolicy: { length: 40, fields: ['password'] },
    kmsKeyArns: [KEY],
  });

  it('deploys the rotation function on nodejs24.x, arm64, with its configuration', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 30,
      Environment: {
        Variables: {
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/,staging/app-team/',
          ROTATOR_DEFAULT_PASSWORD_POLICY: '{"length":40,"fields":["password"]}',
          POWERTOOLS_SERVICE_NAME: 'secret-rotation-orchestrator',
          POWERTOOLS_METRICS_NAMESPACE: 'SecretRotationOrchestrator',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('never gives the function an endpoint override', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    for (const fn of Object.values(functions)) {
      const names = Object.keys(fn.Properties?.Environment?.Variables ?? {});
      expect(names.filter((name) => name.startsWith('AWS_ENDPOINT_URL'))).toEqual([]);
    }
  });

  it('writes logs to its own log group with retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('RotateSecretLogs') } },
    });
  });

  it('gives the role no managed policies', () => {
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it('grants exactly the secret actions on the managed prefixes, GetRandomPassword, logs and KMS via Secrets Manager', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'WriteOwnLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('RotateSecretLogs'), 'Arn'] },
          },
          {
            Sid: 'RotateManagedSecrets',
            Effect: 'Allow',
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Resource: [secretArn('prod/app-team/'), secretArn('staging/app-team/')],
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
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
          },
        ],
      },
    });
  });

  it('lets only Secrets Manager in this account invoke the function', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: '123456789012',
    });
  });

  it('creates a rotation schedule per configured secret, after the invoke permission', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: 'prod/app-team/db',
      RotationLambdaARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('RotateSecret'), 'Arn'] },
      RotationRules: { AutomaticallyAfterDays: 30, Duration: '4h' },
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: 'staging/app-team/api',
      RotateImmediatelyOnUpdate: false,
      RotationRules: { ScheduleExpression: 'rate(7 days)' },
    });
    template.hasResource('AWS::SecretsManager::RotationSchedule', {
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('InvokedBySecretsManager')]),
    });
  });

  it('adds no KMS statement when no key is configured', () => {
    const { template: plain } = synthOrchestrator({ logRetention: logs.RetentionDays.ONE_MONTH });
    const policies = JSON.stringify(plain.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('kms:');
    plain.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it.each([
    ['no managed prefix', { managedPrefixes: [] }, /at least one prefix/],
    ['a wildcard prefix', { managedPrefixes: ['prod/*'] }, /"prod\/\*"/],
    [
      'a schedule outside the prefixes',
      { rotationSchedules: [{ secretName: 'other/db', automaticallyAfter: Duration.days(1) }] },
      /"other\/db" is outside the managed prefixes/,
    ],
    [
      'a schedule with no rule',
      { rotationSchedules: [{ secretName: 'prod/app-team/db' }] },
      /exactly one of automaticallyAfter or scheduleExpression/,
    ],
    ['a bad password policy', { defaultPasswordPolicy: { length: 2 } }, /defaultPasswordPolicy.length/],
  ])('refuses %s at construction', (_name, props, message) => {
    expect(() => synthOrchestrator(props)).toThrow(message);
  });
});
