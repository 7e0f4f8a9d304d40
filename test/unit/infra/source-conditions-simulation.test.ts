import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PropagationWorkflow } from '../../../infra/lib/propagation-workflow';
import { resolveIntrinsics } from '../../support/policy-documents';
import { synthOrchestrator } from '../../support/synth-stack';

// Confused-deputy guards (review M5): the services that act for this stack do so only for its own
// resources. Each resource policy or trust policy is read from the synthesized template and
// evaluated by the same IAM policy simulator as the roles' identity policies.
vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
const FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotate-secret`;
const secret = (name: string, account = ACCOUNT, region = 'us-east-1') =>
  `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;

async function decide(
  resourcePolicy: object,
  request: { principal: string; action: string; resource: string; context: Record<string, string> },
) {
  const result = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context,
      },
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

describe("the rotation function's invoke permission for Secrets Manager", () => {
  const { template } = synthOrchestrator();
  // Lambda turns each AWS::Lambda::Permission into one statement of the function's resource policy:
  // SourceAccount as StringEquals, SourceArn as ArnLike.
  const [rotationFunction = ''] = Object.keys(template.findResources('AWS::Lambda::Function'));
  const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map(
    (resource) =>
      resolveIntrinsics(resource.Properties, {
        'AWS::Partition': 'aws',
        [`${rotationFunction}.Arn`]: FUNCTION,
      }) as Record<string, string>,
  );

  it('is one permission per managed prefix', () => {
    expect(permissions.map((p) => p.SourceArn).sort()).toEqual([
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/app-team/*`,
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:staging/app-team/*`,
    ]);
  });
  const resourcePolicy = {
    Version: '2012-10-17',
    Statement: permissions.map((p) => ({
      Effect: 'Allow',
      Principal: { Service: p.Principal },
      Action: p.Action,
      Resource: FUNCTION,
      Condition: {
        ...(p.SourceAccount && { StringEquals: { 'AWS:SourceAccount': p.SourceAccount } }),
        ...(p.SourceArn && { ArnLike: { 'AWS:SourceArn': p.SourceArn } }),
      },
    })),
  };
  const invokeFor = (sourceArn: string, sourceAccount = ACCOUNT) =>
    decide(resourcePolicy, {
      principal: 'secretsmanager.amazonaws.com',
      action: 'lambda:InvokeFunction',
      resource: FUNCTION,
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount },
    });

  it.each([
    ['a secret under a managed prefix', secret('prod/app-team/db')],
    ['a nested secret under the other prefix', secret('staging/app-team/a/b')],
  ])('lets Secrets Manager invoke it for %s', async (_name, arn) => {
    expect(await invokeFor(arn)).toBe('Allowed');
  });

  it.each([
    // Before, SourceAccount alone let any team point its secret at this function.
    ["another team's secret in this account", secret('prod/other-team/db')],
    ['a secret past the prefix (prod/app-teamX/)', secret('prod/app-teamX/db')],
    ['the prefix in another region', secret('prod/app-team/db', ACCOUNT, 'eu-west-1')],
  ])('does not let Secrets Manager invoke it for %s', async (_name, arn) => {
    expect(await invokeFor(arn)).toBe('ImplicitlyDenied');
  });

  it('does not let Secrets Manager invoke it for the prefix in another account', async () => {
    expect(await invokeFor(secret('prod/app-team/db', OTHER_ACCOUNT), OTHER_ACCOUNT)).toBe(
      'ImplicitlyDenied',
    );
  });
});

// CDK already gives the state machine's own role aws:SourceAccount and an ArnLike aws:SourceArn
// (arn:…:states:<region>:<account>:stateMachine:*); this keeps it so.
describe("the propagation workflow's role trust", () => {
  const stack = new Stack(new App(), 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const workflow = new PropagationWorkflow(stack, 'Workflow', {
    stepFunction: new lambda.Function(stack, 'Step', {
      runtime: lambda.Runtime.NODEJS_LATEST,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    }),
    alertTopic: sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:us-east-1:${ACCOUNT}:alerts`),
  });
  const template = Template.fromStack(stack);
  const roleId = stack.getLogicalId(workflow.stateMachine.role.node.defaultChild as never);
  const trust = resolveIntrinsics(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument, {
    'AWS::Partition': 'aws',
  }) as object;
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/propagation-workflow`;
  const machine = (account = ACCOUNT, region = 'us-east-1') =>
    `arn:aws:states:${region}:${account}:stateMachine:propagation`;
  const assume = (sourceArn: string | undefined, sourceAccount: string | undefined) =>
    decide(trust, {
      principal: 'states.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: ROLE,
      context: {
        ...(sourceArn && { 'aws:SourceArn': sourceArn }),
        ...(sourceAccount && { 'aws:SourceAccount': sourceAccount }),
      },
    });

  it('is the role the state machine runs as', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
  });

  it('lets Step Functions assume it for a state machine of this account and region', async () => {
    expect(await assume(machine(), ACCOUNT)).toBe('Allowed');
  });

  it.each<[string, string | undefined, string | undefined]>([
    ['a state machine of another account', machine(OTHER_ACCOUNT), OTHER_ACCOUNT],
    ['a state machine of this account in another region', machine(ACCOUNT, 'eu-west-1'), ACCOUNT],
    ['a request naming no source', undefined, undefined],
    ['an activity, not a state machine', `arn:aws:states:us-east-1:${ACCOUNT}:activity:x`, ACCOUNT],
  ])('does not let Step Functions assume it for %s', async (_name, sourceArn, sourceAccount) => {
    expect(await assume(sourceArn, sourceAccount)).toBe('ImplicitlyDenied');
  });
});
