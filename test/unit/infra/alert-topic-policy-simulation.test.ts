import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RotationAlerts } from '../../../infra/lib/rotation-alerts';
import { resolveIntrinsics } from '../../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:alerts`;
const RULE = `arn:aws:events:us-east-1:${ACCOUNT}:rule/rotation-failed`;
const alarm = (account = ACCOUNT, region = 'us-east-1') =>
  `arn:aws:cloudwatch:${region}:${account}:alarm:Overdue`;

// Prepare (once for the file): the synthesized topic policy, its topic and rule resolved to the ARNs above.
const stack = new Stack(new App(), 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
new RotationAlerts(stack, 'Alerts', { managedPrefixes: ['prod/app-team/'] });
const template = Template.fromStack(stack);
const logicalId = (type: string) => Object.keys(template.findResources(type))[0] ?? '';
const [topicPolicy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
const resourcePolicy = resolveIntrinsics(topicPolicy?.Properties.PolicyDocument, {
  'AWS::Partition': 'aws',
  [logicalId('AWS::SNS::Topic')]: TOPIC,
  [`${logicalId('AWS::Events::Rule')}.Arn`]: RULE,
}) as object;

interface Publish {
  readonly service: string;
  readonly sourceArn: string;
  readonly sourceAccount?: string;
  readonly secureTransport?: 'true' | 'false';
}

async function decide({ service, sourceArn, sourceAccount = ACCOUNT, secureTransport = 'true' }: Publish) {
  const result = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      request: {
        principal: service,
        action: 'sns:Publish',
        resource: { resource: TOPIC, accountId: ACCOUNT },
        contextVariables: {
          'aws:SourceArn': sourceArn,
          'aws:SourceAccount': sourceAccount,
          'aws:SecureTransport': secureTransport,
        },
      },
    },
    { simulationMode: 'Strict' },
  );
  // A malformed request (unknown action, wrong resource type or context key) must not pass as a denial.
  if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

describe('the alert topic policy, evaluated by an IAM policy simulator', () => {
  it.each<[string, string, Publish]>([
    [
      'an alarm of this account and region',
      'Allowed',
      { service: 'cloudwatch.amazonaws.com', sourceArn: alarm() },
    ],
    [
      'an alarm of another account',
      'ImplicitlyDenied',
      { service: 'cloudwatch.amazonaws.com', sourceArn: alarm(OTHER_ACCOUNT), sourceAccount: OTHER_ACCOUNT },
    ],
    [
      'an alarm of this account in another region',
      'ImplicitlyDenied',
      { service: 'cloudwatch.amazonaws.com', sourceArn: alarm(ACCOUNT, 'eu-west-1') },
    ],
    [
      'an alarm of this account without TLS',
      'ExplicitlyDenied',
      { service: 'cloudwatch.amazonaws.com', sourceArn: alarm(), secureTransport: 'false' },
    ],
    ['the RotationFailed rule', 'Allowed', { service: 'events.amazonaws.com', sourceArn: RULE }],
    [
      'another EventBridge rule of this account',
      'ImplicitlyDenied',
      { service: 'events.amazonaws.com', sourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/other` },
    ],
    [
      'another service in this account',
      'ImplicitlyDenied',
      { service: 's3.amazonaws.com', sourceArn: 'arn:aws:s3:::some-bucket' },
    ],
  ])('decides sns:Publish from %s: %s', async (_name, expected, request) => {
    expect(await decide(request)).toBe(expected);
  });
});
