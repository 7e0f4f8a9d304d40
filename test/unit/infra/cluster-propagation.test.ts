import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { ClusterPropagation, type ClusterPropagationProps } from '../../../infra/lib/cluster-propagation';
import { rolePolicyDocuments } from '../../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
const ACCOUNT = '123456789012';

function synth(props: Partial<ClusterPropagationProps> = {}, withVpc = false) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const vpc = withVpc ? new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 }) : undefined;
  const construct = new ClusterPropagation(stack, 'Propagation', {
    managedPrefixes: ['prod/app-team/'],
    clusterNames: ['prod-eu-1', 'prod-eu-2'],
    vpc,
    ...props,
  });
  return { app, stack, construct, template: Template.fromStack(stack) };
}

describe('ClusterPropagation', () => {
  const { template } = synth({ restartConcurrency: 3 });

  it('deploys the propagation function with its clusters and limits', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/',
          ROTATOR_CLUSTERS: 'prod-eu-1,prod-eu-2',
          ROTATOR_RESTART_CONCURRENCY: '3',
          ROTATOR_REQUIRE_OPT_IN: 'false',
        }),
      },
    });
  });

  it('maps its role to the RBAC group in every cluster with an access entry', () => {
    template.resourceCountIs('AWS::EKS::AccessEntry', 2);
    for (const clusterName of ['prod-eu-1', 'prod-eu-2']) {
      template.hasResourceProperties('AWS::EKS::AccessEntry', {
        ClusterName: clusterName,
        KubernetesGroups: ['secret-rotation-orchestrator'],
        Type: 'STANDARD',
        PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('PropagationRole'), 'Arn'] },
      });
    }
  });

  it('places the function in the VPC only when asked', () => {
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain('VpcConfig');
    synth({}, true).template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
    });
  });

  it('refuses an empty cluster list', () => {
    expect(() => synth({ clusterNames: [] })).toThrow(/at least one cluster/);
  });

  it.each([
    ['without a VPC', false],
    ['in a VPC', true],
  ])('leaves no unacknowledged cdk-nag finding %s', (_name, withVpc) => {
    const { app, stack } = synth({}, withVpc);
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(
      report.violations.filter((v) =>
        v.violatingResources.some((r) => r.constructPath?.includes('Propagation')),
      ),
    ).toEqual([]);
  });
});

describe('the propagation role, evaluated by an IAM policy simulator', () => {
  const policies = (withVpc: boolean) => {
    const { template } = synth({}, withVpc);
    const [logGroup = ''] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    return rolePolicyDocuments(template, /PropagationRole/, {
      'AWS::Partition': 'aws',
      'AWS::AccountId': ACCOUNT,
      [`${logGroup}.Arn`]: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:propagation:*`,
    });
  };
  const decide = async (action: string, resource: string, withVpc = false) => {
    const result = await runSimulation(
      {
        identityPolicies: policies(withVpc),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/propagation`,
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: {},
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(result.errors.message);
    return result.overallResult;
  };
  const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
  const cluster = (name: string) => `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/${name}`;

  it.each([
    ['secretsmanager:DescribeSecret', secret('prod/app-team/db'), 'Allowed'],
    ['secretsmanager:DescribeSecret', secret('prod/other/db'), 'ImplicitlyDenied'],
    ['secretsmanager:GetSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['secretsmanager:PutSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['eks:DescribeCluster', cluster('prod-eu-1'), 'Allowed'],
    ['eks:DescribeCluster', cluster('prod-eu-2'), 'Allowed'],
    ['eks:DescribeCluster', cluster('staging-eu-1'), 'ImplicitlyDenied'],
    ['eks:UpdateClusterConfig', cluster('prod-eu-1'), 'ImplicitlyDenied'],
    ['eks:CreateAccessEntry', cluster('prod-eu-1'), 'ImplicitlyDenied'],
    ['ec2:CreateNetworkInterface', '*', 'ImplicitlyDenied'],
  ])('%s on %s → %s', async (action, resource, expected) => {
    expect(await decide(action, resource)).toBe(expected);
  });

  it('may manage network interfaces only when placed in a VPC', async () => {
    expect(await decide('ec2:CreateNetworkInterface', '*', true)).toBe('Allowed');
  });
});
