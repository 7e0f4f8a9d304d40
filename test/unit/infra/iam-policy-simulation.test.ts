import { afterAll, describe, expect, it, vi } from 'vitest';
import { rolePolicyDocuments } from '../../support/policy-documents';
import { simulatedDecision } from '../../support/policy-simulation';
import { synthOrchestrator } from '../../support/synth-stack';

// CDK's built-in CloudFormation validation costs seconds per process and proves nothing about this
// construct; orchestrator-stack.test.ts keeps it on for the stack as cdk.json builds it.
vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/rotate-secret`;
const FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotate-secret`;
const OTHER_FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rds-single-user`;
const LOG_GROUP = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:rotate`;
const secret = (name: string, account = ACCOUNT, region = 'us-east-1') =>
  `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;
const MANAGED_SECRET = secret('prod/app-team/db-password');
/** A KMS call Secrets Manager makes for a managed secret: its SecretARN encryption context. */
const VIA_SECRETS_MANAGER = {
  'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com',
  'kms:EncryptionContext:SecretARN': MANAGED_SECRET,
};

// Prepare (once for the file): the role's policy from the synthesized template, intrinsics resolved
// for partition 'aws' (Fn::Join with Ref AWS::Partition, and the log group's Arn attribute).
const { template } = synthOrchestrator({ kmsKeyArns: [KEY] });
const [rotationFunction = ''] = Object.keys(template.findResources('AWS::Lambda::Function'));
const identityPolicies = rolePolicyDocuments(template, /RotateSecretRole/, {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  'OrchestratorRotateSecretLogs4B7CBED2.Arn': `${LOG_GROUP}:*`,
  [`${rotationFunction}.Arn`]: FUNCTION,
});

/** KMS honours identity policies only when the key policy delegates to IAM, as the default key policy does. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};
/** A secret in another account whose resource policy trusts the role: only the identity policy can refuse. */
const TRUSTING_SECRET_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'secretsmanager:*', Resource: '*' }],
};

interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
  readonly resourcePolicy?: object;
}

/**
 * What every call the function makes carries: the secret names this function as its rotation
 * function (Secrets Manager invokes it for no other), and finishSecret's UpdateSecretVersionStage
 * names AWSCURRENT. A case's own context replaces these values ('' leaves a key out).
 */
const ROTATED_BY_THIS_FUNCTION = { 'secretsmanager:resource/AllowRotationLambdaArn': FUNCTION };
const CALL_CONTEXT: Record<string, Record<string, string>> = {
  'secretsmanager:DescribeSecret': ROTATED_BY_THIS_FUNCTION,
  'secretsmanager:GetSecretValue': ROTATED_BY_THIS_FUNCTION,
  'secretsmanager:PutSecretValue': ROTATED_BY_THIS_FUNCTION,
  'secretsmanager:UpdateSecretVersionStage': {
    ...ROTATED_BY_THIS_FUNCTION,
    'secretsmanager:VersionStage': 'AWSCURRENT',
  },
};

function decide({ action, resource, context = {}, resourcePolicy }: Request) {
  return simulatedDecision({
    identityPolicies,
    principal: ROLE,
    action,
    resource,
    accountId: resource.split(':')[4] || ACCOUNT,
    context: Object.fromEntries(
      Object.entries({ ...CALL_CONTEXT[action], ...context }).filter(([, value]) => value !== ''),
    ),
    resourcePolicy: resourcePolicy ?? (action.startsWith('kms:') ? DEFAULT_KEY_POLICY : undefined),
  });
}

const SECRET_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

describe('the rotation function role, evaluated by an IAM policy simulator', () => {
  it('is two synthesized identity policies (the secret statements name the function, so they have their own)', () => {
    expect(identityPolicies).toHaveLength(2);
  });

  // GetSecretValue and the other secret actions only on secrets whose rotation function is this one
  // (review M5): a managed secret rotated by another function, or by none, stays unreadable.
  it.each(
    SECRET_ACTIONS.flatMap((action): [string, string, Record<string, string>][] => [
      [
        action,
        'rotated by another function',
        { 'secretsmanager:resource/AllowRotationLambdaArn': OTHER_FUNCTION },
      ],
      [action, 'with no rotation function', { 'secretsmanager:resource/AllowRotationLambdaArn': '' }],
      [
        action,
        'naming a version of this function',
        { 'secretsmanager:resource/AllowRotationLambdaArn': `${FUNCTION}:1` },
      ],
    ]),
  )('does not allow %s on a managed secret %s', async (action, _name, context) => {
    expect(await decide({ action, resource: MANAGED_SECRET, context })).toBe('ImplicitlyDenied');
  });

  it.each<[string, Request]>([
    ...SECRET_ACTIONS.flatMap((action): [string, Request][] => [
      [`${action} on a managed secret`, { action, resource: MANAGED_SECRET }],
      [
        `${action} on a nested secret of the other prefix`,
        { action, resource: secret('staging/app-team/a/b') },
      ],
    ]),
    ['secretsmanager:GetRandomPassword', { action: 'secretsmanager:GetRandomPassword', resource: '*' }],
  ])('allows %s', async (_name, request) => {
    expect(await decide(request)).toBe('Allowed');
  });

  it.each<[string, Request]>(
    SECRET_ACTIONS.flatMap((action): [string, Request][] => [
      [`${action} on another team's secret`, { action, resource: secret('prod/other-team/x') }],
      [
        `${action} past the prefix's slash (prod/app-teamX/)`,
        { action, resource: secret('prod/app-teamX/db') },
      ],
      [
        `${action} on the prefix's parent name (prod/app-team)`,
        { action, resource: secret('prod/app-team') },
      ],
      [`${action} on another environment (dev/app-team/)`, { action, resource: secret('dev/app-team/db') }],
      [`${action} in different case (Prod/app-team/)`, { action, resource: secret('Prod/app-team/db') }],
      [
        `${action} on the prefix in another account, even if that secret trusts the role`,
        {
          action,
          resource: secret('prod/app-team/db-password', OTHER_ACCOUNT),
          resourcePolicy: TRUSTING_SECRET_POLICY,
        },
      ],
      [
        `${action} on the prefix in another region`,
        { action, resource: secret('prod/app-team/db-password', ACCOUNT, 'eu-west-1') },
      ],
    ]),
  )('does not allow %s', async (_name, request) => {
    expect(await decide(request)).toBe('ImplicitlyDenied');
  });

  // finishSecret moves AWSCURRENT (a rollback moves it back and takes AWSPREVIOUS off the failed
  // version); the function never removes AWSPENDING (review M5: the stages each role may move).
  it('allows UpdateSecretVersionStage of AWSPREVIOUS on its own secrets only (a rollback’s clean-up)', async () => {
    const context = { 'secretsmanager:VersionStage': 'AWSPREVIOUS' };
    const action = 'secretsmanager:UpdateSecretVersionStage';
    expect(await decide({ action, resource: MANAGED_SECRET, context })).toBe('Allowed');
    expect(
      await decide({
        action,
        resource: MANAGED_SECRET,
        context: { ...context, 'secretsmanager:resource/AllowRotationLambdaArn': OTHER_FUNCTION },
      }),
    ).toBe('ImplicitlyDenied');
  });

  it.each<[string, Record<string, string>]>([
    ['removing AWSPENDING', { 'secretsmanager:VersionStage': 'AWSPENDING' }],
    ['moving a label of its own', { 'secretsmanager:VersionStage': 'MINE' }],
    ['with no stage named', { 'secretsmanager:VersionStage': '' }],
  ])('does not allow UpdateSecretVersionStage %s on a managed secret', async (_name, context) => {
    expect(
      await decide({ action: 'secretsmanager:UpdateSecretVersionStage', resource: MANAGED_SECRET, context }),
    ).toBe('ImplicitlyDenied');
  });

  it.each([
    'secretsmanager:DeleteSecret',
    'secretsmanager:PutResourcePolicy',
    'secretsmanager:UpdateSecret',
    'secretsmanager:RotateSecret',
    'secretsmanager:CancelRotateSecret',
    'secretsmanager:TagResource',
  ])('does not allow %s even on a managed secret', async (action) => {
    expect(await decide({ action, resource: MANAGED_SECRET })).toBe('ImplicitlyDenied');
  });

  it.each<[string, string, Request]>([
    [
      'kms:Decrypt through Secrets Manager here',
      'Allowed',
      { action: 'kms:Decrypt', resource: KEY, context: VIA_SECRETS_MANAGER },
    ],
    [
      'kms:GenerateDataKey through Secrets Manager here',
      'Allowed',
      { action: 'kms:GenerateDataKey', resource: KEY, context: VIA_SECRETS_MANAGER },
    ],
    ['kms:Decrypt called directly', 'ImplicitlyDenied', { action: 'kms:Decrypt', resource: KEY }],
    // Only a managed secret's data keys (review M5): Secrets Manager's SecretARN encryption context.
    [
      "kms:Decrypt through Secrets Manager for another team's secret",
      'ImplicitlyDenied',
      {
        action: 'kms:Decrypt',
        resource: KEY,
        context: { ...VIA_SECRETS_MANAGER, 'kms:EncryptionContext:SecretARN': secret('prod/other-team/x') },
      },
    ],
    [
      'kms:GenerateDataKey through Secrets Manager for a secret past the prefix (prod/app-teamX/)',
      'ImplicitlyDenied',
      {
        action: 'kms:GenerateDataKey',
        resource: KEY,
        context: { ...VIA_SECRETS_MANAGER, 'kms:EncryptionContext:SecretARN': secret('prod/app-teamX/db') },
      },
    ],
    [
      'kms:Decrypt through Secrets Manager for the prefix in another account',
      'ImplicitlyDenied',
      {
        action: 'kms:Decrypt',
        resource: KEY,
        context: {
          ...VIA_SECRETS_MANAGER,
          'kms:EncryptionContext:SecretARN': secret('prod/app-team/db-password', OTHER_ACCOUNT),
        },
      },
    ],
    [
      'kms:Decrypt through Secrets Manager without an encryption context',
      'ImplicitlyDenied',
      {
        action: 'kms:Decrypt',
        resource: KEY,
        context: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
      },
    ],
    [
      'kms:Decrypt through Secrets Manager for a nested secret of the other prefix',
      'Allowed',
      {
        action: 'kms:Decrypt',
        resource: KEY,
        context: {
          ...VIA_SECRETS_MANAGER,
          'kms:EncryptionContext:SecretARN': secret('staging/app-team/a/b'),
        },
      },
    ],
    [
      'kms:Decrypt through another service',
      'ImplicitlyDenied',
      {
        action: 'kms:Decrypt',
        resource: KEY,
        context: { ...VIA_SECRETS_MANAGER, 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
      },
    ],
    [
      'kms:Decrypt through Secrets Manager in another region',
      'ImplicitlyDenied',
      {
        action: 'kms:Decrypt',
        resource: KEY,
        context: { ...VIA_SECRETS_MANAGER, 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
      },
    ],
    [
      'kms:Decrypt on another key',
      'ImplicitlyDenied',
      { action: 'kms:Decrypt', resource: OTHER_KEY, context: VIA_SECRETS_MANAGER },
    ],
    [
      'kms:Encrypt, not granted, through Secrets Manager',
      'ImplicitlyDenied',
      { action: 'kms:Encrypt', resource: KEY, context: VIA_SECRETS_MANAGER },
    ],
  ])('decides %s: %s', async (_name, expected, request) => {
    expect(await decide(request)).toBe(expected);
  });

  it.each<[string, string, Request]>([
    [
      'logs:CreateLogStream in its log group',
      'Allowed',
      { action: 'logs:CreateLogStream', resource: `${LOG_GROUP}:*` },
    ],
    [
      'logs:PutLogEvents to its own stream',
      'Allowed',
      { action: 'logs:PutLogEvents', resource: `${LOG_GROUP}:log-stream:abc` },
    ],
    [
      "logs:PutLogEvents to another group's stream",
      'ImplicitlyDenied',
      {
        action: 'logs:PutLogEvents',
        resource: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:other:log-stream:abc`,
      },
    ],
    [
      'logs:DeleteLogGroup on its group',
      'ImplicitlyDenied',
      { action: 'logs:DeleteLogGroup', resource: `${LOG_GROUP}:*` },
    ],
  ])('decides %s: %s', async (_name, expected, request) => {
    expect(await decide(request)).toBe(expected);
  });
});
