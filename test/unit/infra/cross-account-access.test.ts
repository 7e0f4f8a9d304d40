/**
 * Clusters in other accounts, in infra: the orchestrator's step role may assume exactly the roles
 * the configured clusters name (and no other), keeps DescribeCluster and access entries for its own
 * clusters, and passes each role to the step; the target account's ClusterAccessRole trusts only
 * that step role with the external id and may describe only its cluster. Both sides are evaluated
 * together by the IAM policy simulator (identity policy in one account, trust policy in the other).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ClusterAccessRole } from '../../../infra/lib/cluster-access-role';
import { ClusterPropagation, type ClusterPropagationProps } from '../../../infra/lib/cluster-propagation';
import { parseDeploymentConfig } from '../../../infra/lib/deployment-config';
import { RotationLedger } from '../../../infra/lib/rotation-ledger';
import { resolveIntrinsics, rolePolicyDocuments } from '../../support/policy-documents';
import { simulatedDecision } from '../../support/policy-simulation';

vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const HOME = '123456789012';
const TARGET = '210987654321';
const STEP_ROLE = `arn:aws:iam::${HOME}:role/propagation-step`;
const ACCESS_ROLE = `arn:aws:iam::${TARGET}:role/rotator-access`;
const OTHER_ROLE = `arn:aws:iam::${TARGET}:role/admin`;
const EXTERNAL_ID = 'orchestrator-prod-7f3a';
const REMOTE = { name: 'prod-eu-2', roleArn: ACCESS_ROLE, externalId: EXTERNAL_ID, region: 'eu-west-1' };
const cluster = (account: string, region: string, name: string) =>
  `arn:aws:eks:${region}:${account}:cluster/${name}`;

function synthHome(clusterNames: ClusterPropagationProps['clusterNames']) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Home', { env: { account: HOME, region: 'us-east-1' } });
  const construct = new ClusterPropagation(stack, 'Propagation', {
    managedPrefixes: ['prod/app-team/'],
    clusterNames,
    ledger: new RotationLedger(stack, 'Ledger'),
    alertTopic: new sns.Topic(stack, 'Alerts', { enforceSSL: true }),
  });
  const template = Template.fromStack(stack);
  const refs = { 'AWS::Partition': 'aws', 'AWS::AccountId': HOME, 'AWS::Region': 'us-east-1' };
  const ledgerRefs = Object.fromEntries(
    Object.keys(template.findResources('AWS::DynamoDB::Table')).flatMap((id) => [
      [id, `arn:aws:dynamodb:us-east-1:${HOME}:table/${id}`],
      [`${id}.Arn`, `arn:aws:dynamodb:us-east-1:${HOME}:table/${id}`],
    ]),
  );
  const logRefs = Object.fromEntries(
    Object.keys(template.findResources('AWS::Logs::LogGroup')).map((id) => [
      `${id}.Arn`,
      `arn:aws:logs:us-east-1:${HOME}:log-group:${id}:*`,
    ]),
  );
  const identityPolicies = rolePolicyDocuments(template, /^PropagationRole/, {
    ...refs,
    ...ledgerRefs,
    ...logRefs,
  });
  return { app, stack, construct, template, identityPolicies };
}

function synthTarget(props: Partial<ConstructorParameters<typeof ClusterAccessRole>[2]> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Target', { env: { account: TARGET, region: 'eu-west-1' } });
  const access = new ClusterAccessRole(stack, 'OrchestratorAccess', {
    orchestratorRoleArn: STEP_ROLE,
    externalId: EXTERNAL_ID,
    clusterName: 'prod-eu-2',
    roleName: 'rotator-access',
    ...props,
  });
  return { app, stack, access, template: Template.fromStack(stack) };
}

describe('ClusterPropagation with a cluster in another account', () => {
  const home = synthHome(['prod-eu-1', REMOTE]);

  it('passes every cluster name, and the role of the remote one, to the step', () => {
    home.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_CLUSTERS: 'prod-eu-1,prod-eu-2',
          ROTATOR_CLUSTER_ACCESS: JSON.stringify({
            'prod-eu-2': { roleArn: ACCESS_ROLE, externalId: EXTERNAL_ID, region: 'eu-west-1' },
          }),
        }),
      },
    });
  });

  it('creates the access entry of its own cluster only: the remote one lives in the target account', () => {
    const entries = Object.values(home.template.findResources('AWS::EKS::AccessEntry'));
    expect(entries.map((e) => e.Properties.ClusterName)).toEqual(['prod-eu-1']);
  });

  it('grants sts:AssumeRole on exactly the configured role, in one statement', () => {
    const statements = home.identityPolicies.flatMap(
      (p) => (p.policy as { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] }).Statement,
    );
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('sts:'))).toEqual([
      expect.objectContaining({
        Sid: 'AssumeClusterAccessRoles',
        Action: 'sts:AssumeRole',
        Resource: ACCESS_ROLE,
      }),
    ]);
  });

  it('refuses a cluster listed twice, in either form', () => {
    expect(() => synthHome(['prod-eu-2', REMOTE])).toThrow(/listed twice: prod-eu-2/);
  });
});

describe('ClusterAccessRole (the target account)', () => {
  const { template, app, stack } = synthTarget();

  it('trusts only the orchestrator step role, and only with the external id', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'rotator-access',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: STEP_ROLE },
            Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } },
          },
        ],
      },
    });
  });

  it('may describe its cluster and nothing else; the access entry maps it to the orchestrator group', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'DescribeTheCluster',
            Action: 'eks:DescribeCluster',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':eks:eu-west-1:210987654321:cluster/prod-eu-2'],
              ],
            },
          },
        ],
      },
    });
    template.resourceCountIs('AWS::IAM::Policy', 1);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'prod-eu-2',
      KubernetesGroups: ['secret-rotation-orchestrator'],
      Type: 'STANDARD',
      PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrchestratorAccessRole'), 'Arn'] },
    });
  });

  it('leaves the access entry out when asked, and refuses an external id STS would refuse', () => {
    synthTarget({ accessEntry: false }).template.resourceCountIs('AWS::EKS::AccessEntry', 0);
    expect(() => synthTarget({ externalId: 'has space' })).toThrow(/externalId must be/);
  });

  it('leaves no cdk-nag finding', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations).toEqual([]);
  });
});

describe('AssumeRole across the accounts, evaluated by an IAM policy simulator', () => {
  const home = synthHome(['prod-eu-1', REMOTE]);
  const target = synthTarget();
  const [roleId = ''] = Object.keys(target.template.findResources('AWS::IAM::Role'));
  const trustPolicy = resolveIntrinsics(
    target.template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument,
    { 'AWS::Partition': 'aws' },
  ) as object;
  const targetPolicies = rolePolicyDocuments(target.template, /^OrchestratorAccessRole/, {
    'AWS::Partition': 'aws',
  });

  /** Another role whose trust policy trusts the whole home account: only the identity policy can refuse. */
  const TRUSTS_HOME_ACCOUNT = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOME}:root` }, Action: 'sts:AssumeRole' },
    ],
  };
  const assume = (principal: string, roleArn: string, externalId: string | undefined, policies = home) =>
    simulatedDecision({
      identityPolicies: policies.identityPolicies,
      principal,
      action: 'sts:AssumeRole',
      resource: roleArn,
      accountId: TARGET,
      context: externalId === undefined ? {} : { 'sts:ExternalId': externalId },
      resourcePolicy: roleArn === ACCESS_ROLE ? trustPolicy : TRUSTS_HOME_ACCOUNT,
    });

  it.each([
    ['the configured role with its external id', STEP_ROLE, ACCESS_ROLE, EXTERNAL_ID, 'Allowed'],
    ['the configured role with another external id', STEP_ROLE, ACCESS_ROLE, 'guess', 'ImplicitlyDenied'],
    ['the configured role without an external id', STEP_ROLE, ACCESS_ROLE, undefined, 'ImplicitlyDenied'],
    ['another role of the target account', STEP_ROLE, OTHER_ROLE, EXTERNAL_ID, 'ImplicitlyDenied'],
    [
      'the configured role, by another principal of the home account',
      `arn:aws:iam::${HOME}:role/someone-else`,
      ACCESS_ROLE,
      EXTERNAL_ID,
      'ImplicitlyDenied',
    ],
  ])('the step role assuming %s: %s', async (_name, principal, roleArn, externalId, expected) => {
    expect(await assume(principal, roleArn, externalId)).toBe(expected);
  });

  it('denies every AssumeRole when no cluster names a role', async () => {
    expect(await assume(STEP_ROLE, ACCESS_ROLE, EXTERNAL_ID, synthHome(['prod-eu-1']))).toBe(
      'ImplicitlyDenied',
    );
  });

  it.each([
    [cluster(TARGET, 'eu-west-1', 'prod-eu-2'), 'Allowed'],
    [cluster(TARGET, 'eu-west-1', 'prod-eu-3'), 'ImplicitlyDenied'],
    [cluster(TARGET, 'us-east-1', 'prod-eu-2'), 'ImplicitlyDenied'],
  ])('the assumed role describing %s: %s', async (resource, expected) => {
    const decision = await simulatedDecision({
      identityPolicies: targetPolicies,
      principal: ACCESS_ROLE,
      action: 'eks:DescribeCluster',
      resource,
      accountId: TARGET,
      context: {},
    });
    expect(decision).toBe(expected);
  });

  it('the step role itself may not describe the remote cluster (only its role may)', async () => {
    const decision = await simulatedDecision({
      identityPolicies: home.identityPolicies,
      principal: STEP_ROLE,
      action: 'eks:DescribeCluster',
      resource: cluster(TARGET, 'eu-west-1', 'prod-eu-2'),
      accountId: TARGET,
      context: {},
    });
    expect(decision).toBe('ImplicitlyDenied');
  });
});

describe('propagation.clusterNames in the deployment configuration', () => {
  const config = (clusterNames: unknown[]) =>
    parseDeploymentConfig({ managedPrefixes: ['prod/app-team/'], propagation: { clusterNames } });

  it('takes plain names and clusters with a role side by side', () => {
    expect(config(['prod-eu-1', REMOTE]).propagation?.clusterNames).toEqual(['prod-eu-1', REMOTE]);
    expect(config([{ name: 'b', roleArn: ACCESS_ROLE }]).propagation?.clusterNames).toEqual([
      { name: 'b', roleArn: ACCESS_ROLE },
    ]);
  });

  it.each([
    ['a cluster listed twice', ['prod-eu-2', REMOTE], /lists cluster prod-eu-2 twice/],
    ['a role ARN that is a user', [{ name: 'b', roleArn: `arn:aws:iam::${TARGET}:user/x` }], /clusterNames/],
    ['a role without a cluster name', [{ roleArn: ACCESS_ROLE }], /clusterNames/],
    ['an unknown field', [{ ...REMOTE, sessionName: 'x' }], /clusterNames/],
  ])('refuses %s', (_name, clusters, message) => {
    expect(() => config(clusters)).toThrow(message);
  });
});
