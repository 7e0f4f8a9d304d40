import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { OrchestratorFunction } from '../../../infra/lib/orchestrator-function';

function synth() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const fn = new OrchestratorFunction(stack, 'Sweep', {
    folder: 'sweep',
    identity: { logGroup: 'Logs', role: 'Role', description: 'Sweep role' },
    logRetention: logs.RetentionDays.ONE_YEAR,
    memorySize: 512,
    timeout: Duration.minutes(5),
    description: 'Scheduled sweep',
    environment: { ROTATOR_MANAGED_PREFIXES: 'prod/' },
  });
  return { stack, fn, template: Template.fromStack(stack) };
}

describe('OrchestratorFunction', () => {
  const { stack, fn, template } = synth();

  it('runs Node 24 on arm64 with the given settings, its environment and the observability variables', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 300,
      Description: 'Scheduled sweep',
      Environment: {
        Variables: {
          ROTATOR_MANAGED_PREFIXES: 'prod/',
          POWERTOOLS_SERVICE_NAME: 'secret-rotation-orchestrator',
          POWERTOOLS_METRICS_NAMESPACE: 'SecretRotationOrchestrator',
        },
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^Logs') } },
    });
  });

  it('creates its log group and role beside it, so their logical ids do not depend on the function', () => {
    expect(stack.getLogicalId(fn.functionLogGroup.node.defaultChild as never)).toMatch(/^Logs[0-9A-F]{8}$/);
    expect(stack.getLogicalId(fn.role.node.defaultChild as never)).toMatch(/^Role[0-9A-F]{8}$/);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('gives the role no managed policy and only its own log group to write to', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Sweep role',
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'WriteOwnLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Logs'), 'Arn'] },
          },
        ],
      },
    });
  });
});
