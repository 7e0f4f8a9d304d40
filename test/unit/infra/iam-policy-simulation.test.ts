import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { rolePolicyDocuments } from '../../support/policy-documents';
import { synthOrchestrator } from '../../support/synth-stack';

const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/rotate-secret`;
const secret = (name: string, account = ACCOUNT, region = 'us-east-1') =>
  `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;

const { template } = synthOrchestrator({ kmsKeyArns: [KEY] });
const identityPolicies = rolePolicyDocuments(template, /RotateSecretRole/, {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  'OrchestratorRotateSecretLogs4B7CBED2.Arn': `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:rotate:*`,
});

/** KMS honours identity policies only when the key policy delegates to IAM, as the default key policy does. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};

async function decide(action: string, resource: string, context: Record<string, string> = {}) {
  const account = resource.split(':')[4] || ACCOUNT;
  const result = await runSimulation(
    {
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: action.startsWith('kms:') ? DEFAULT_KEY_POLICY : undefined,
      request: {
        principal: ROLE,
        action,
        resource: { resource, accountId: account },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation failed: ${result.errors.message}`);
  return result.overallResult;
}

const ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

describe('the rotation function role, evaluated by an IAM policy simulator', () => {
  it('finds the synthesized identity policy', () => {
    expect(identityPolicies).toHaveLength(1);
  });

  it.each(
    ROTATION_ACTIONS.flatMap((action) => [
      [action, secret('prod/app-team/db')],
      [action, secret('staging/app-team/nested/api-key')],
    ]),
  )('allows %s on the managed secret %s', async (action, resource) => {
    expect(await decide(action, resource)).toBe('Allowed');
  });

  it('allows GetRandomPassword', async () => {
    expect(await decide('secretsmanager:GetRandomPassword', '*')).toBe('Allowed');
  });

  it.each(
    ROTATION_ACTIONS.flatMap((action) => [
      [action, secret('prod/other-team/db')],
      [action, secret('prod/app-teamX/db')],
      [action, secret('prod/app-team', ACCOUNT)],
      [action, secret('dev/app-team/db')],
      [action, secret('prod/app-team/db', '999999999999')],
      [action, secret('prod/app-team/db', ACCOUNT, 'eu-west-1')],
    ]),
  )('denies %s on %s (outside the prefixes, account or region)', async (action, resource) => {
    expect(await decide(action, resource)).toBe('ImplicitlyDenied');
  });

  it.each([
    'secretsmanager:DeleteSecret',
    'secretsmanager:PutResourcePolicy',
    'secretsmanager:UpdateSecret',
    'secretsmanager:RotateSecret',
    'secretsmanager:TagResource',
  ])('denies %s even on a managed secret', async (action) => {
    expect(await decide(action, secret('prod/app-team/db'))).toBe('ImplicitlyDenied');
  });

  it('allows the configured KMS key only through Secrets Manager in its region', async () => {
    const via = (service: string) => ({ 'kms:ViaService': service });
    expect(await decide('kms:Decrypt', KEY, via('secretsmanager.us-east-1.amazonaws.com'))).toBe('Allowed');
    expect(await decide('kms:GenerateDataKey', KEY, via('secretsmanager.us-east-1.amazonaws.com'))).toBe(
      'Allowed',
    );
    expect(await decide('kms:Decrypt', KEY)).toBe('ImplicitlyDenied');
    expect(await decide('kms:Decrypt', KEY, via('s3.us-east-1.amazonaws.com'))).toBe('ImplicitlyDenied');
    expect(await decide('kms:Decrypt', KEY, via('secretsmanager.eu-west-1.amazonaws.com'))).toBe(
      'ImplicitlyDenied',
    );
    expect(await decide('kms:Decrypt', OTHER_KEY, via('secretsmanager.us-east-1.amazonaws.com'))).toBe(
      'ImplicitlyDenied',
    );
  });

  it('allows writing only to its own log group', async () => {
    const stream = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:rotate:log-stream:abc`;
    const otherStream = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:other:log-stream:abc`;
    expect(await decide('logs:PutLogEvents', stream)).toBe('Allowed');
    expect(await decide('logs:PutLogEvents', otherStream)).toBe('ImplicitlyDenied');
    expect(await decide('logs:DeleteLogGroup', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:rotate:*`)).toBe(
      'ImplicitlyDenied',
    );
  });
});
