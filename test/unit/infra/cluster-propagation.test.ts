import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { ClusterPropagation, type ClusterPropagationProps } from '../../../infra/lib/cluster-propagation';
import { RotationLedger } from '../../../infra/lib/rotation-ledger';
import { rolePolicyDocuments } from '../../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

function synth(props: Partial<ClusterPropagationProps> = {}, withVpc = false) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
  const vpc = withVpc ? new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 }) : undefined;
  const construct = new ClusterPropagation(stack, 'Propagation', {
    managedPrefixes: ['prod/app-team/'],
    clusterNames: ['prod-eu-1', 'prod-eu-2'],
    ledger: new RotationLedger(stack, 'Ledger'),
    alertTopic: new sns.Topic(stack, 'Alerts', { enforceSSL: true }),
    vpc,
    ...props,
  });
  return { app, stack, construct, template: Template.fromStack(stack) };
}

/** An ARN for every resource of the template, by its logical id, for the simulator. */
function arnsOf(template: Template): Record<string, string> {
  const arns: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
  };
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  for (const [id, { Type }] of Object.entries(resources)) {
    const arn = {
      'AWS::Lambda::Function': `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`,
      'AWS::DynamoDB::Table': `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`,
      'AWS::StepFunctions::StateMachine': `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${id}`,
      'AWS::SNS::Topic': `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`,
      'AWS::Logs::LogGroup': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`,
    }[Type];
    if (arn) {
      arns[id] = arn;
      arns[`${id}.Arn`] = arn;
    }
  }
  return arns;
}

describe('ClusterPropagation', () => {
  const { template } = synth({ restartConcurrency: 3 });

  it('deploys the step function with its clusters, limits and ledger', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/',
          ROTATOR_CLUSTERS: 'prod-eu-1,prod-eu-2',
          ROTATOR_RESTART_CONCURRENCY: '3',
          ROTATOR_EMERGENCY_RESTART_CONCURRENCY: '100',
          ROTATOR_RESTART_PERCENT: '25',
          ROTATOR_CANARY_WORKLOADS: '1',
          ROTATOR_REQUIRE_OPT_IN: 'false',
          ROTATOR_SYNC_TIMEOUT_SECONDS: '300',
          ROTATOR_ROLLOUT_TIMEOUT_SECONDS: '900',
          ROTATOR_LEDGER_TABLE: { Ref: Match.stringLikeRegexp('^Ledger') },
        }),
      },
    });
  });

  it('writes every setting the step reads, the ones not given as the function’s own defaults', () => {
    const variables = (props: Partial<ClusterPropagationProps>) => {
      const { template: t } = synth(props);
      const step = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
        id.startsWith('PropagationPropagationStep'),
      );
      return step?.[1].Properties.Environment.Variables;
    };
    expect(variables({})).toMatchObject({
      ROTATOR_MAX_PLAN_BYTES: '98304',
      ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: '60',
      ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: '5',
      ROTATOR_CLAIM_LEASE_SECONDS: '22200',
    });
    expect(
      variables({
        maxPlanBytes: 4096,
        rolloutWatchInterval: Duration.seconds(2),
        syncTimeout: Duration.minutes(1),
        requireOptIn: true,
      }),
    ).toMatchObject({
      ROTATOR_MAX_PLAN_BYTES: '4096',
      ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: '2',
      ROTATOR_SYNC_TIMEOUT_SECONDS: '60',
      ROTATOR_REQUIRE_OPT_IN: 'true',
    });
    expect(() => synth({ syncTimeout: Duration.millis(1500) })).toThrow(
      /ROTATOR_SYNC_TIMEOUT_SECONDS takes whole seconds/,
    );
  });

  it('deploys the starter, which knows the workflow and the ledger', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^PropagationWorkflowStateMachine') },
          ROTATOR_LEDGER_TABLE: { Ref: Match.stringLikeRegexp('^Ledger') },
        }),
      },
    });
  });

  it('runs a standard state machine with tracing and execution data kept out of its logs', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ IncludeExecutionData: false, Level: 'ALL' }),
    });
  });

  it('alarms to the alert topic when a workflow execution fails, times out or is aborted', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alerts') }],
    });
  });

  it('maps the step function’s role to the RBAC group in every cluster with an access entry', () => {
    template.resourceCountIs('AWS::EKS::AccessEntry', 2);
    for (const clusterName of ['prod-eu-1', 'prod-eu-2']) {
      template.hasResourceProperties('AWS::EKS::AccessEntry', {
        ClusterName: clusterName,
        KubernetesGroups: ['secret-rotation-orchestrator'],
        Type: 'STANDARD',
        PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PropagationRole'), 'Arn'] },
      });
    }
  });

  it('places only the step function in the VPC, and only when asked', () => {
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain('VpcConfig');
    const inVpc = synth({}, true).template.findResources('AWS::Lambda::Function', {
      Properties: { VpcConfig: Match.anyValue() },
    });
    expect(Object.keys(inVpc)).toEqual([expect.stringMatching(/^PropagationPropagationStep/)]);
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

describe('the propagation roles, evaluated by an IAM policy simulator', () => {
  const decide = async (
    roles: RegExp,
    action: string,
    resource: string,
    withVpc = false,
    contextVariables: Record<string, string> = {},
  ) => {
    const { template } = synth({}, withVpc);
    const result = await runSimulation(
      {
        identityPolicies: rolePolicyDocuments(template, roles, arnsOf(template)),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/propagation`,
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables,
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(result.errors.message);
    return result.overallResult;
  };
  const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
  const cluster = (name: string) => `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${name}`;
  const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/`;
  const STEP = /^PropagationRole/;
  const STARTER = /^PropagationStarterRole/;
  const MACHINE = /^PropagationWorkflowStateMachineRole/;
  const { template } = synth();
  const ids = arnsOf(template);
  const ledger = Object.keys(ids).find((id) => id.startsWith('Ledger') && !id.includes('.')) ?? '';
  const stateMachine =
    ids[Object.keys(ids).find((id) => id.startsWith('PropagationWorkflowStateMachine')) ?? ''] ?? '';
  const stepFunction =
    ids[Object.keys(ids).find((id) => id.startsWith('PropagationPropagationStep')) ?? ''] ?? '';
  const starterFunction =
    ids[Object.keys(ids).find((id) => id.startsWith('PropagationPropagateSecret')) ?? ''] ?? '';

  it.each([
    [STEP, 'secretsmanager:DescribeSecret', secret('prod/app-team/db'), 'Allowed'],

    [STEP, 'secretsmanager:DescribeSecret', secret('prod/other/db'), 'ImplicitlyDenied'],
    [STEP, 'secretsmanager:UpdateSecretVersionStage', secret('prod/other/db'), 'ImplicitlyDenied'],
    [STEP, 'secretsmanager:GetSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    [STEP, 'secretsmanager:PutSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    [STEP, 'eks:DescribeCluster', cluster('prod-eu-1'), 'Allowed'],
    [STEP, 'eks:DescribeCluster', cluster('staging-eu-1'), 'ImplicitlyDenied'],
    [STEP, 'eks:CreateAccessEntry', cluster('prod-eu-1'), 'ImplicitlyDenied'],
    [STEP, 'dynamodb:PutItem', `${table}${ledger}`, 'Allowed'],
    [STEP, 'dynamodb:UpdateItem', `${table}${ledger}`, 'Allowed'],
    // registerMove's consistent read of the summary (Claim failed with AccessDenied without it).
    [STEP, 'dynamodb:GetItem', `${table}${ledger}`, 'Allowed'],
    [STEP, 'dynamodb:GetItem', `${table}other`, 'ImplicitlyDenied'],
    [STEP, 'dynamodb:Query', `${table}${ledger}`, 'ImplicitlyDenied'],
    [STEP, 'dynamodb:Query', `${table}${ledger}/index/history`, 'ImplicitlyDenied'],
    [STEP, 'dynamodb:BatchGetItem', `${table}${ledger}`, 'ImplicitlyDenied'],
    [STEP, 'dynamodb:Scan', `${table}${ledger}`, 'ImplicitlyDenied'],
    [STEP, 'dynamodb:DeleteItem', `${table}${ledger}`, 'ImplicitlyDenied'],
    [STEP, 'dynamodb:PutItem', `${table}other`, 'ImplicitlyDenied'],
    [STEP, 'states:StartExecution', stateMachine, 'ImplicitlyDenied'],
    [STEP, 'ec2:CreateNetworkInterface', '*', 'ImplicitlyDenied'],
    [STARTER, 'secretsmanager:DescribeSecret', secret('prod/app-team/db'), 'Allowed'],
    [STARTER, 'secretsmanager:GetSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    [STARTER, 'secretsmanager:UpdateSecretVersionStage', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    [STARTER, 'states:StartExecution', stateMachine, 'Allowed'],
    [
      STARTER,
      'states:StartExecution',
      `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:other`,
      'ImplicitlyDenied',
    ],
    [STARTER, 'states:DeleteStateMachine', stateMachine, 'ImplicitlyDenied'],
    [STARTER, 'dynamodb:GetItem', `${table}${ledger}`, 'Allowed'],
    [STARTER, 'dynamodb:PutItem', `${table}${ledger}`, 'ImplicitlyDenied'],
    [STARTER, 'eks:DescribeCluster', cluster('prod-eu-1'), 'ImplicitlyDenied'],
    [MACHINE, 'lambda:InvokeFunction', stepFunction, 'Allowed'],
    [MACHINE, 'lambda:InvokeFunction', starterFunction, 'ImplicitlyDenied'],
    [
      MACHINE,
      'sns:Publish',
      `arn:aws:sns:${REGION}:${ACCOUNT}:${Object.keys(ids).find((id) => id.startsWith('Alerts') && !id.includes('.'))}`,
      'Allowed',
    ],
    [MACHINE, 'sns:Publish', `arn:aws:sns:${REGION}:${ACCOUNT}:other`, 'ImplicitlyDenied'],
    [MACHINE, 'secretsmanager:DescribeSecret', secret('prod/app-team/db'), 'ImplicitlyDenied'],
  ])('%s: %s on %s → %s', async (role, action, resource, expected) => {
    expect(await decide(role, action, resource)).toBe(expected);
  });

  it.each([
    ['AWSPREVIOUS', 'Allowed'],
    ['AWSCURRENT', 'ImplicitlyDenied'],
    ['AWSPENDING', 'ImplicitlyDenied'],
  ])('lets the step role move only AWSPREVIOUS (VersionStage %s → %s)', async (stage, expected) => {
    const request = { 'secretsmanager:VersionStage': stage };
    expect(
      await decide(
        STEP,
        'secretsmanager:UpdateSecretVersionStage',
        secret('prod/app-team/db'),
        false,
        request,
      ),
    ).toBe(expected);
  });

  it('lets the step function manage network interfaces only when placed in a VPC', async () => {
    expect(await decide(STEP, 'ec2:CreateNetworkInterface', '*', true)).toBe('Allowed');
  });
});
