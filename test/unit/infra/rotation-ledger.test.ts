import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { RotationLedger, type RotationLedgerProps } from '../../../infra/lib/rotation-ledger';
import { rolePolicyDocuments } from '../../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
const ACCOUNT = '123456789012';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/rotation-ledger`;
const HISTORY_INDEX = `${TABLE}/index/history`;
const OTHER_TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/other`;

function synth(props?: RotationLedgerProps) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const ledger = new RotationLedger(stack, 'Ledger', props);
  const grantee = (id: string) =>
    new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  ledger.grantRecordRotation(grantee('RecordRole'));
  ledger.grantPropagation(grantee('PropagationRole'));
  ledger.grantRead(grantee('ReadRole'));
  return { app, stack, template: Template.fromStack(stack) };
}

describe('RotationLedger', () => {
  const { app, stack, template } = synth();

  it('is one on-demand table keyed by pk and sk, with the history index on historyAt', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'historyAt', AttributeType: 'S' },
      ]),
      LocalSecondaryIndexes: [
        {
          IndexName: 'history',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'historyAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      GlobalSecondaryIndexes: Match.absent(),
    });
  });

  it('keeps point-in-time recovery, encryption at rest, and the table itself by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('lets a development stack turn deletion protection and retention off', () => {
    const dev = synth({
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
      tableName: 'dev-ledger',
    });

    dev.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ TableName: 'dev-ledger', DeletionProtectionEnabled: false }),
      DeletionPolicy: 'Delete',
    });
  });

  it('leaves no cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });

  const [tableId = ''] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
  const policiesOf = (role: RegExp) =>
    rolePolicyDocuments(template, role, { 'AWS::Partition': 'aws', [`${tableId}.Arn`]: TABLE });

  /** What each grant must allow; everything else in REQUESTS must be denied. */
  const GRANTS = {
    grantRecordRotation: { role: /^RecordRole/, allowed: ['PutItem table', 'UpdateItem table'] },
    grantPropagation: {
      role: /^PropagationRole/,
      allowed: ['GetItem table', 'PutItem table', 'UpdateItem table'],
    },
    grantRead: {
      role: /^ReadRole/,
      allowed: ['GetItem table', 'BatchGetItem table', 'Query index'],
    },
  };
  const REQUESTS = [
    ['GetItem', 'table', TABLE],
    ['PutItem', 'table', TABLE],
    ['UpdateItem', 'table', TABLE],
    ['BatchGetItem', 'table', TABLE],
    ['Query', 'index', HISTORY_INDEX],
    ['Query', 'table', TABLE],
    ['Scan', 'table', TABLE],
    ['Scan', 'index', HISTORY_INDEX],
    ['DeleteItem', 'table', TABLE],
    ['BatchWriteItem', 'table', TABLE],
    ['DeleteTable', 'table', TABLE],
    ['UpdateTable', 'table', TABLE],
    ['GetItem', 'other', OTHER_TABLE],
    ['PutItem', 'other', OTHER_TABLE],
    ['UpdateItem', 'other', OTHER_TABLE],
  ] as const;
  const cases = Object.entries(GRANTS).flatMap(([grant, { role, allowed }]) =>
    REQUESTS.map(([action, where, resource]) => {
      const expected = allowed.includes(`${action} ${where}`) ? 'Allowed' : 'ImplicitlyDenied';
      return { grant, role, action: `dynamodb:${action}`, where, resource, expected };
    }),
  );

  it.each(cases)('$grant: $action on $where → $expected', async ({ role, action, resource, expected }) => {
    const result = await runSimulation(
      {
        identityPolicies: policiesOf(role),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/grantee`,
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: {},
        },
      },
      { simulationMode: 'Strict' },
    );
    // A malformed request (unknown action, wrong resource type) must not pass as a denial.
    if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
    expect(result.overallResult).toBe(expected);
  });

  it.each(Object.entries(GRANTS))('%s lists no wildcard action', (_grant, { role }) => {
    const actions = policiesOf(role).flatMap(({ policy }) =>
      (policy as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) => s.Action),
    );
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).toMatch(/^dynamodb:[A-Za-z]+$/);
  });
});
