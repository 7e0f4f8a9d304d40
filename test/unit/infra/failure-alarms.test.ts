import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { FailureAlarms } from '../../../infra/lib/failure-alarms';

vi.stubEnv('CDK_VALIDATION', 'false');

describe('FailureAlarms', () => {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const topic = sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:123456789012:alerts');
  const fn = (name: string) =>
    lambda.Function.fromFunctionArn(stack, name, `arn:aws:lambda:us-east-1:123456789012:function:${name}`);
  new FailureAlarms(stack, 'Failures', {
    topic,
    functions: { Sweep: fn('sweep'), RotateSecret: fn('rotate') },
    deadLetterQueues: {
      EventsDeadLetters: sqs.Queue.fromQueueArn(
        stack,
        'Queue',
        'arn:aws:sqs:us-east-1:123456789012:dead-letters',
      ),
    },
  });
  const template = Template.fromStack(stack);

  it.each([
    ['sweep', 'Errors'],
    ['sweep', 'Throttles'],
    ['rotate', 'Errors'],
    ['rotate', 'Throttles'],
  ])('alarms when function %s reports any %s in five minutes', (functionName, metricName) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Dimensions: [{ Name: 'FunctionName', Value: functionName }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alerts'],
    });
  });

  it('alarms while a dead-letter queue holds a message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: 'dead-letters' }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alerts'],
    });
  });

  it('creates exactly those alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });
});
