/**
 * Replica regions, in IAM: the propagation step role may describe the managed secrets' replicas
 * (same account and name, any region), and nothing else there: no value, no other prefix, no other
 * account, no stage move on a replica. Evaluated by the IAM policy simulator over the synthesized
 * role's policies; cdk-nag's finding on the new pattern is acknowledged with a reason.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ClusterPropagation } from '../../../infra/lib/cluster-propagation';
import { RotationLedger } from '../../../infra/lib/rotation-ledger';
import { rolePolicyDocuments } from '../../support/policy-documents';
import { simulatedDecision } from '../../support/policy-simulation';

vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const HOME = '123456789012';
const OTHER = '999999999999';
const STEP_ROLE = `arn:aws:iam::${HOME}:role/propagation-step`;
const secret = (region: string, name = 'prod/app-team/db', account = HOME) =>
  `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;

function synth() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Home', { env: { account: HOME, region: 'us-east-1' } });
  new ClusterPropagation(stack, 'Propagation', {
    managedPrefixes: ['prod/app-team/', 'prod/billing/'],
    clusterNames: ['prod-1'],
    ledger: new RotationLedger(stack, 'Ledger'),
    alertTopic: new sns.Topic(stack, 'Alerts', { enforceSSL: true }),
  });
  const template = Template.fromStack(stack);
  const refs = { 'AWS::Partition': 'aws', 'AWS::AccountId': HOME, 'AWS::Region': 'us-east-1' };
  const resolved = Object.fromEntries(
    [
      ...Object.keys(template.findResources('AWS::DynamoDB::Table')),
      ...Object.keys(template.findResources('AWS::Logs::LogGroup')),
    ].flatMap((id) => [
      [id, `arn:aws:dynamodb:us-east-1:${HOME}:table/${id}`],
      [`${id}.Arn`, `arn:aws:logs:us-east-1:${HOME}:log-group:${id}:*`],
    ]),
  );
  return {
    template,
    identityPolicies: rolePolicyDocuments(template, /^PropagationRole/, { ...refs, ...resolved }),
  };
}

const { template, identityPolicies } = synth();

const decision = (action: string, resource: string) =>
  simulatedDecision({
    identityPolicies,
    principal: STEP_ROLE,
    action,
    resource,
    accountId: resource.split(':')[4] ?? HOME,
    context: {},
  });

describe('the propagation step role and replica regions', () => {
  it.each([
    ['the primary, in its own region', secret('us-east-1')],
    ['a replica in eu-west-1', secret('eu-west-1')],
    ['a replica in ap-south-1', secret('ap-south-1')],
    ['a replica of a secret under the second prefix', secret('eu-west-1', 'prod/billing/api')],
  ])('may DescribeSecret on %s', async (_name, resource) => {
    expect(await decision('secretsmanager:DescribeSecret', resource)).toBe('Allowed');
  });

  it.each([
    [
      'DescribeSecret on an unmanaged secret in a replica region',
      'secretsmanager:DescribeSecret',
      secret('eu-west-1', 'other/db'),
    ],
    [
      'DescribeSecret on the same name in another account',
      'secretsmanager:DescribeSecret',
      secret('eu-west-1', 'prod/app-team/db', OTHER),
    ],
    ['GetSecretValue on a replica', 'secretsmanager:GetSecretValue', secret('eu-west-1')],
    [
      'ListSecretVersionIds on a replica (not used)',
      'secretsmanager:ListSecretVersionIds',
      secret('eu-west-1'),
    ],
    ['UpdateSecretVersionStage on a replica', 'secretsmanager:UpdateSecretVersionStage', secret('eu-west-1')],
    ['PutSecretValue on a replica', 'secretsmanager:PutSecretValue', secret('eu-west-1')],
  ])('is denied %s', async (_name, action, resource) => {
    expect(await decision(action, resource)).toBe('ImplicitlyDenied');
  });

  it('grants it in one statement on secret:<prefix>* in every region of its own account', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Sid?: string }[] } } }).Properties.PolicyDocument
          .Statement,
    );
    const replicas = statements.filter((s) => s.Sid === 'DescribeManagedSecretReplicas');
    expect(replicas).toHaveLength(1);
    expect(JSON.stringify(replicas[0])).toContain(':secretsmanager:*:');
  });
});
