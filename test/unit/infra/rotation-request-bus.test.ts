import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RotationRequestBus } from '../../../infra/lib/rotation-request-bus';
import { resolveIntrinsics } from '../../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
const RESPONDER = `arn:aws:iam::${ACCOUNT}:role/incident-responder`;
const SCANNER = `arn:aws:iam::${ACCOUNT}:role/leak-scanner`;
const BUS = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/rotation-requests`;

/** An identity policy as broad as an admin's, CI's or a power user's: PutEvents on every bus. */
const PUT_ANYWHERE = {
  name: 'put-anywhere',
  policy: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }],
  },
};

function synth(principals: readonly string[]) {
  const stack = new Stack(new App(), 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  new RotationRequestBus(stack, 'Requests', { principals, eventBusName: 'rotation-requests' });
  const template = Template.fromStack(stack);
  const [bus] = Object.values(template.findResources('AWS::Events::EventBus'));
  return {
    template,
    policy: resolveIntrinsics(bus?.Properties.Policy, { 'AWS::Partition': 'aws' }) as object,
  };
}

/**
 * `aws:PrincipalArn` as IAM sets it (the simulator takes it as given): a role's session reads as
 * its role, anything else as itself.
 */
const principalArnOf = (principal: string) =>
  principal.replace(/^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.*$/, 'arn:aws:iam::$1:role/$2');

async function putEvents(resourcePolicy: object, principal: string, identity: 'none' | 'put-anywhere') {
  const result = await runSimulation(
    {
      identityPolicies: identity === 'put-anywhere' ? [PUT_ANYWHERE] : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      request: {
        principal,
        action: 'events:PutEvents',
        resource: { resource: BUS, accountId: ACCOUNT },
        contextVariables: { 'aws:PrincipalArn': principalArnOf(principal) },
      },
    },
    { simulationMode: 'Strict' },
  );
  // A malformed request (unknown action, wrong resource type or context key) must not pass as a denial.
  if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

describe('RotationRequestBus', () => {
  const { template, policy } = synth([RESPONDER, SCANNER, RESPONDER]);

  it('is a custom bus whose policy is set on the bus itself (never deployed without it)', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'rotation-requests' });
  });

  it('names each principal once, in the Allow and in the Deny’s exception', () => {
    const statements = (policy as { Statement: { Sid: string; Principal: unknown; Condition?: unknown }[] })
      .Statement;
    expect(statements.map((s) => s.Sid)).toEqual([
      'AllowPutEventsToNamedPrincipals',
      'DenyPutEventsToUnnamedPrincipals',
    ]);
    expect(statements[0]?.Principal).toEqual({ AWS: [RESPONDER, SCANNER] });
    expect(statements[1]?.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [RESPONDER, SCANNER] } });
  });

  it.each<[string, string, 'none' | 'put-anywhere', string]>([
    ['a named role', RESPONDER, 'none', 'Allowed'],
    ['the other named role', SCANNER, 'none', 'Allowed'],
    [
      'a session of a named role',
      `arn:aws:sts::${ACCOUNT}:assumed-role/leak-scanner/run-42`,
      'none',
      'Allowed',
    ],
    ['another role of this account', `arn:aws:iam::${ACCOUNT}:role/developer`, 'none', 'ExplicitlyDenied'],
    [
      'another role of this account whose identity policy allows PutEvents on *',
      `arn:aws:iam::${ACCOUNT}:role/ci-deployer`,
      'put-anywhere',
      'ExplicitlyDenied',
    ],
    ['this account’s root user', `arn:aws:iam::${ACCOUNT}:root`, 'put-anywhere', 'ExplicitlyDenied'],
    [
      'a role of another account allowed PutEvents on * at home',
      `arn:aws:iam::${OTHER_ACCOUNT}:role/incident-responder`,
      'put-anywhere',
      'ExplicitlyDenied',
    ],
  ])('PutEvents by %s → %s', async (_name, principal, identity, expected) => {
    expect(await putEvents(policy, principal, identity)).toBe(expected);
  });

  describe('with no principal named (the default)', () => {
    const none = synth([]);

    it('has no Allow, and a Deny for everyone', () => {
      expect(none.policy).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyPutEventsToUnnamedPrincipals',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'events:PutEvents',
            Resource: BUS,
          },
        ],
      });
    });

    it.each([RESPONDER, `arn:aws:iam::${ACCOUNT}:root`])(
      'denies PutEvents to %s, whatever its identity policy',
      async (principal) => {
        expect(await putEvents(none.policy, principal, 'put-anywhere')).toBe('ExplicitlyDenied');
      },
    );
  });
});
