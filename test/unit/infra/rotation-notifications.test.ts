import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseDeploymentConfig } from '../../../infra/lib/deployment-config';
import { OrchestratorStack } from '../../../infra/lib/orchestrator-stack';
import { loadNotifyConfig } from '../../../shared/notifications/notify-config';

const CDK_JSON = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'));
const ORCHESTRATOR = CDK_JSON.context.orchestrator;
const NOTIFICATIONS = { secretPrefix: 'ops/rotator-notifications/' };

/** The stack as cdk.json builds it, plus `notifications`, with the app's cdk-nag plugin. */
function stackWith(notifications: unknown) {
  const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [] } });
  const config = parseDeploymentConfig({ ...ORCHESTRATOR, notifications });
  const stack = new OrchestratorStack(app, 'SecretRotationOrchestrator', { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

const { app, stack, template } = stackWith(NOTIFICATIONS);
const notifyId = () => {
  const notifications = stack.notifications;
  if (!notifications) throw new Error('no notifications construct');
  return stack.getLogicalId(notifications.notifyFunction.node.defaultChild as never);
};

describe('RotationNotifications in the stack', () => {
  it('is absent without a notifications section', () => {
    const { stack: plain } = stackWith(undefined);
    expect(plain.notifications).toBeUndefined();
  });

  it('triggers on the workflow’s ended executions, from this account and region only', () => {
    const stateMachine = stack.propagation?.workflow.stateMachine;
    if (!stateMachine) throw new Error('no workflow');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        account: [{ Ref: 'AWS::AccountId' }],
        region: [{ Ref: 'AWS::Region' }],
        detail: {
          status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: stack.getLogicalId(stateMachine.node.defaultChild as never) }],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [notifyId(), 'Arn'] },
          DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }),
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
  });

  it('lets Lambda retry nothing and parks a failed notification in its own dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: notifyId() },
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('gives the function an environment its own cold-start parser accepts', () => {
    const fn = template.findResources('AWS::Lambda::Function')[notifyId()];
    const env = fn?.Properties.Environment.Variables as Record<string, unknown>;
    const resolved = Object.fromEntries(
      Object.entries(env).map(([key, value]) => [
        key,
        typeof value === 'string' ? value : key.endsWith('_ARN') ? 'arn:aws:states:x' : 'table',
      ]),
    );
    expect(loadNotifyConfig(resolved)).toMatchObject({
      managedPrefixes: ORCHESTRATOR.managedPrefixes,
      notificationsPrefix: NOTIFICATIONS.secretPrefix,
      defaultRoute: 'default',
      webhookTimeoutMs: 5000,
      webhookAttempts: 3,
    });
    expect(fn?.Properties.Timeout).toBe(45);
  });

  it('grants describe on managed secrets, GetSecretValue on the routes, Query on the history index, and nothing else', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => /NotificationsRole/.test(role.Ref)),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s: { Sid: string; Action: unknown }) => [s.Sid, s.Action]).sort()).toEqual(
      [
        ['DescribeManagedSecrets', 'secretsmanager:DescribeSecret'],
        ['ReadLedgerHistory', 'dynamodb:Query'],
        ['ReadNotificationRoutes', 'secretsmanager:GetSecretValue'],
        ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
        // Lambda's on-failure destination: its own dead-letter queue.
        [undefined, ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']],
      ].sort(),
    );
    const routes = statements.find((s: { Sid: string }) => s.Sid === 'ReadNotificationRoutes');
    expect(JSON.stringify(routes.Resource)).toContain(':secret:ops/rotator-notifications/*');
    expect(JSON.stringify(routes.Resource)).not.toContain('app-team');
  });

  it('alarms on the function’s errors and throttles, its queue and its rule', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const on = (metric: string) =>
      alarms.filter((a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes('Notifications'));
    expect(on('Errors')).toHaveLength(1);
    expect(on('Throttles')).toHaveLength(1);
    expect(on('ApproximateNumberOfMessagesVisible')).toHaveLength(1);
    expect(on('FailedInvocations')).toHaveLength(1);
    expect(on('InvocationsFailedToBeSentToDlq')).toHaveLength(1);
  });

  it("passes the app's cdk-nag validation plugin on synth (the route prefix's IAM5 acknowledged with a reason)", () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('grants kms:Decrypt on configured keys only through Secrets Manager, for route secrets', () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template: withKey } = stackWith({ ...NOTIFICATIONS, kmsKeyArns: [key] });
    withKey.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DecryptRoutesThroughSecretsManager',
            Action: 'kms:Decrypt',
            Resource: key,
            Condition: {
              StringEquals: { 'kms:ViaService': Match.anyValue() },
              StringLike: { 'kms:EncryptionContext:SecretARN': Match.anyValue() },
            },
          }),
        ]),
      },
    });
  });
});

describe('the notifications section of cdk.json', () => {
  it.each([
    [
      'without propagation',
      { ...ORCHESTRATOR, propagation: undefined },
      NOTIFICATIONS,
      /notifications: .*needs propagation/,
    ],
    [
      'a prefix inside a managed prefix',
      ORCHESTRATOR,
      { secretPrefix: 'prod/app-team/hooks/' },
      /notifications\.secretPrefix: must lie outside the managed prefixes/,
    ],
    [
      'a prefix around a managed prefix',
      ORCHESTRATOR,
      { secretPrefix: 'prod/' },
      /notifications\.secretPrefix: must have at least two segments/,
    ],
    [
      'a prefix without its slash',
      ORCHESTRATOR,
      { secretPrefix: 'ops/hooks' },
      /notifications\.secretPrefix: must end with "\/"/,
    ],
    [
      'a default route with a slash',
      ORCHESTRATOR,
      { ...NOTIFICATIONS, defaultRoute: 'a/b' },
      /notifications\.defaultRoute/,
    ],
    [
      'an unknown field',
      ORCHESTRATOR,
      { ...NOTIFICATIONS, webhookUrl: 'https://x' },
      /notifications: Unrecognized key/,
    ],
  ])('refuses %s', (_case, orchestrator, notifications, problem) => {
    expect(() => parseDeploymentConfig({ ...orchestrator, notifications })).toThrow(problem);
  });

  it('refuses a route prefix that is a managed prefix itself', () => {
    expect(() =>
      parseDeploymentConfig({ ...ORCHESTRATOR, notifications: { secretPrefix: 'staging/app-team/' } }),
    ).toThrow(/must lie outside the managed prefixes/);
  });
});
