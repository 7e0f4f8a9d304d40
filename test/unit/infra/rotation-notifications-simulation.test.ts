import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RotationNotifications } from '../../../infra/lib/rotation-notifications';
import { rolePolicyDocuments } from '../../support/policy-documents';
import { simulatedDecision } from '../../support/policy-simulation';
import { TEST_ENV } from '../../support/synth-stack';

// See iam-policy-simulation.test.ts: CDK's validation proves nothing here and costs seconds.
vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const ACCOUNT = TEST_ENV.account;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/notify`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/ledger`;
const HISTORY_INDEX = `${TABLE}/index/history`;
const STATE_MACHINE = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:propagation`;
const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
const ROUTE = secret('ops/rotator-notifications/payments');
const DEFAULT_ROUTE = secret('ops/rotator-notifications/default');
const MANAGED = secret('prod/app-team/orders-db');

// Prepare (once for the file): the construct alone, its role's policies with intrinsics resolved.
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'Test', { env: TEST_ENV });
const notifications = new RotationNotifications(stack, 'Notifications', {
  managedPrefixes: ['prod/app-team/', 'staging/app-team/'],
  secretPrefix: 'ops/rotator-notifications/',
  stateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'Workflow', STATE_MACHINE),
  ledger: { tableName: 'ledger', historyIndexArn: HISTORY_INDEX },
  kmsKeyArns: [KEY],
});
const template = Template.fromStack(stack);
const refs = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  [`${stack.getLogicalId(notifications.deadLetterQueue.node.defaultChild as never)}.Arn`]: `arn:aws:sqs:us-east-1:${ACCOUNT}:notify-dead-letters`,
  ...Object.fromEntries(
    Object.keys(template.findResources('AWS::Logs::LogGroup')).map((id) => [
      `${id}.Arn`,
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${id}`,
    ]),
  ),
};
const identityPolicies = rolePolicyDocuments(template, /^NotificationsRole/, refs);
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};

function decide(action: string, resource: string, context: Record<string, string> = {}) {
  return simulatedDecision({
    identityPolicies,
    principal: ROLE,
    action,
    resource,
    accountId: ACCOUNT,
    context,
    resourcePolicy: action.startsWith('kms:') ? DEFAULT_KEY_POLICY : undefined,
  });
}

describe('the notify function’s role, evaluated by an IAM policy simulator', () => {
  it('has policies to evaluate', () => {
    expect(identityPolicies.length).toBeGreaterThan(0);
  });

  it.each([
    ['reads a route secret', 'secretsmanager:GetSecretValue', ROUTE, 'Allowed'],
    ['reads the default route', 'secretsmanager:GetSecretValue', DEFAULT_ROUTE, 'Allowed'],
    ['describes a managed secret (its tags)', 'secretsmanager:DescribeSecret', MANAGED, 'Allowed'],
    ['queries the ledger’s history index', 'dynamodb:Query', HISTORY_INDEX, 'Allowed'],
    ['never reads a managed secret’s value', 'secretsmanager:GetSecretValue', MANAGED, 'ImplicitlyDenied'],
    [
      'never reads a secret beside the route prefix',
      'secretsmanager:GetSecretValue',
      secret('ops/rotator-notifications-old/payments'),
      'ImplicitlyDenied',
    ],
    ['never writes a route', 'secretsmanager:PutSecretValue', ROUTE, 'ImplicitlyDenied'],
    [
      'never moves a managed secret’s labels',
      'secretsmanager:UpdateSecretVersionStage',
      MANAGED,
      'ImplicitlyDenied',
    ],
    ['never rotates', 'secretsmanager:RotateSecret', MANAGED, 'ImplicitlyDenied'],
    ['never lists secrets', 'secretsmanager:ListSecrets', '*', 'ImplicitlyDenied'],
    ['never queries the table itself', 'dynamodb:Query', TABLE, 'ImplicitlyDenied'],
    ['never reads a ledger item', 'dynamodb:GetItem', TABLE, 'ImplicitlyDenied'],
    ['never writes the ledger', 'dynamodb:PutItem', TABLE, 'ImplicitlyDenied'],
    ['never updates the ledger', 'dynamodb:UpdateItem', TABLE, 'ImplicitlyDenied'],
    ['never starts an execution', 'states:StartExecution', STATE_MACHINE, 'ImplicitlyDenied'],
  ])('%s', async (_case, action, resource, expected) => {
    expect(await decide(action, resource)).toBe(expected);
  });

  it('decrypts with the configured key only through Secrets Manager, and only for route secrets', async () => {
    const via = { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' };
    expect(await decide('kms:Decrypt', KEY, { ...via, 'kms:EncryptionContext:SecretARN': ROUTE })).toBe(
      'Allowed',
    );
    expect(await decide('kms:Decrypt', KEY, { ...via, 'kms:EncryptionContext:SecretARN': MANAGED })).toBe(
      'ImplicitlyDenied',
    );
    expect(
      await decide('kms:Decrypt', KEY, {
        'kms:ViaService': 'ssm.us-east-1.amazonaws.com',
        'kms:EncryptionContext:SecretARN': ROUTE,
      }),
    ).toBe('ImplicitlyDenied');
    expect(
      await decide('kms:GenerateDataKey', KEY, { ...via, 'kms:EncryptionContext:SecretARN': ROUTE }),
    ).toBe('ImplicitlyDenied');
  });
});
