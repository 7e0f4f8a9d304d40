import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { RotationEvents } from '../../../infra/lib/rotation-events';

vi.stubEnv('CDK_VALIDATION', 'false');

describe('RotationEvents', () => {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const fn = lambda.Function.fromFunctionAttributes(stack, 'Fn', {
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:propagate',
    role: iam.Role.fromRoleArn(stack, 'FnRole', 'arn:aws:iam::123456789012:role/propagate'),
    sameEnvironment: true,
  });
  new RotationEvents(stack, 'Events', { managedPrefixes: ['prod/app-team/'], propagationFunction: fn });
  const template = Template.fromStack(stack);

  it('gives every rule target retries and the dead-letter queue', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(4);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/DeadLetters/), 'Arn'] } },
        }),
      ]);
    }
  });

  it('filters every rule on the stack’s account', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules.map((rule) => rule.Properties.EventPattern.account)).toEqual(
      Array(4).fill(['123456789012']),
    );
  });

  it('filters on the deploying account when the stack names none', () => {
    const agnostic = new Stack(new App(), 'Agnostic');
    const propagate = lambda.Function.fromFunctionAttributes(agnostic, 'Fn', {
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:propagate',
      role: iam.Role.fromRoleArn(agnostic, 'FnRole', 'arn:aws:iam::123456789012:role/propagate'),
      sameEnvironment: true,
    });
    new RotationEvents(agnostic, 'Events', { managedPrefixes: ['prod/'], propagationFunction: propagate });
    const rules = Object.values(Template.fromStack(agnostic).findResources('AWS::Events::Rule'));
    expect(rules.map((rule) => rule.Properties.EventPattern.account)).toEqual(
      Array(4).fill([{ Ref: 'AWS::AccountId' }]),
    );
  });

  it('keeps an event the propagation function failed on, after Lambda retried it, in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: 'propagate',
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsDeadLetters'), 'Arn'] } },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['propagate'],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsDeadLetters'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('lets only its rules invoke the propagation function', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 4);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsLabelUpdated'), 'Arn'] },
    });
  });

  it('encrypts the dead-letter queue and refuses plain HTTP to it', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });
});
