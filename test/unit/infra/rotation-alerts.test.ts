import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { RotationAlerts } from '../../../infra/lib/rotation-alerts';

vi.stubEnv('CDK_VALIDATION', 'false');

describe('RotationAlerts', () => {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  new RotationAlerts(stack, 'Alerts', { managedPrefixes: ['prod/app-team/'] });
  const template = Template.fromStack(stack);

  it.each([
    'OverdueSecrets',
    'StuckRotations',
    'RotationStartFailures',
    'PropagationFailed',
    'ReconcilePropagationFailures',
    'RotationScheduleFailures',
  ])('alarms on %s above zero and notifies the topic', (metricName) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'SecretRotationOrchestrator',
      MetricName: metricName,
      Dimensions: [{ Name: 'service', Value: 'secret-rotation-orchestrator' }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlertsTopic') }],
    });
  });

  it('alarms when no sweep has completed for two sweep intervals, counting missing data as breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'SecretRotationOrchestrator',
      MetricName: 'ManagedSecrets',
      Dimensions: [{ Name: 'service', Value: 'secret-rotation-orchestrator' }],
      Statistic: 'SampleCount',
      Period: 3600,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlertsTopic') }],
    });
  });

  it('sends RotationFailed events for managed secrets of this account only to the topic', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        account: ['123456789012'],
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: {
          eventName: ['RotationFailed'],
          additionalEventData: {
            SecretId: [
              {
                prefix: {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':secretsmanager:us-east-1:123456789012:secret:prod/app-team/',
                    ],
                  ],
                },
              },
            ],
          },
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('AlertsTopic') } })],
    });
  });

  it('encrypts the topic with a rotating key that EventBridge and CloudWatch may use in this account', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
  });

  describe('the topic policy', () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const statements = policy?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    const [ruleId] = Object.keys(template.findResources('AWS::Events::Rule'));

    it('lets CloudWatch publish only for alarms of this account and region', () => {
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            ArnLike: {
              'aws:SourceArn': {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:us-east-1:123456789012:alarm:*'],
                ],
              },
            },
          },
        }),
      );
    });

    it('lets EventBridge publish only for the RotationFailed rule', () => {
      const fromEvents = statements.filter((statement) =>
        JSON.stringify(statement.Principal).includes('events.amazonaws.com'),
      );
      expect(fromEvents).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'sns:Publish',
          Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
        }),
      ]);
    });

    it('allows nothing without a condition', () => {
      const unconditioned = statements.filter(
        (statement) => statement.Effect === 'Allow' && !statement.Condition,
      );
      expect(unconditioned).toEqual([]);
    });

    it('still refuses publishing without TLS', () => {
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    });
  });

  it('has a dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });
});
