import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RotationRequests, type RotationRequestsProps } from '../../../infra/lib/rotation-requests';
import { rolePolicyDocuments } from '../../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const ACCOUNT = '123456789012';
const ROTATION_FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotate-secret`;
const RESPONDER = `arn:aws:iam::${ACCOUNT}:role/incident-responder`;
const SCANNER = `arn:aws:iam::${ACCOUNT}:role/leak-scanner`;
const OTHER = `arn:aws:iam::${ACCOUNT}:role/developer`;
const REQUEST_FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotation-request`;
const LEDGER_TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/rotation-ledger`;
const HISTORY_INDEX = `${LEDGER_TABLE}/index/history`;

/**
 * Stands in for RotationLedger: PutItem/UpdateItem on its table (recording a rotation), and its
 * read grant (GetItem/BatchGetItem on the table, Query on the history index).
 */
const ledger = {
  tableName: 'rotation-ledger',
  grantRecordRotation: (grantee: iam.IGrantable) =>
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [LEDGER_TABLE],
      }),
    ),
  grantRead: (grantee: iam.IGrantable) => {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [LEDGER_TABLE],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [HISTORY_INDEX] }),
    );
  },
};

function synth(props: Partial<RotationRequestsProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const requests = new RotationRequests(stack, 'Requests', {
    managedPrefixes: ['prod/app-team/'],
    rotationFunction: lambda.Function.fromFunctionArn(stack, 'Rotate', ROTATION_FN),
    ledger,
    emergencyPrincipals: [RESPONDER, SCANNER],
    ...props,
  });
  return { app, stack, requests, template: Template.fromStack(stack) };
}

describe('RotationRequests', () => {
  const { app, stack, requests, template } = synth();
  const [fnId = ''] = Object.keys(template.findResources('AWS::Lambda::Function'));

  it('runs the request function with the prefixes, the stuck threshold, the emergency cooldown and the ledger table', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/',
          ROTATOR_STUCK_AFTER_MINUTES: '60',
          ROTATOR_EMERGENCY_COOLDOWN_MINUTES: '15',
          ROTATOR_LEDGER_TABLE: 'rotation-ledger',
        }),
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('AWS_ENDPOINT_URL');
  });

  it.each([
    [Duration.hours(1), '60'],
    [Duration.minutes(0), '0'],
  ])('writes the emergencyCooldown prop (%s) to the function', (cooldown, minutes) => {
    synth({ emergencyCooldown: cooldown }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ROTATOR_EMERGENCY_COOLDOWN_MINUTES: minutes }) },
    });
  });

  it('refuses an emergency cooldown that is not whole minutes at synth', () => {
    expect(() => synth({ emergencyCooldown: Duration.seconds(90) })).toThrow(/whole minutes/);
  });

  it('reserves a small concurrency for the request function, so a flood of requests is bounded (review H1)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ROTATOR_STUCK_AFTER_MINUTES: '60' }) },
      ReservedConcurrentExecutions: 5,
    });
  });

  it('puts the AWS_IAM function URL, never a public one, on its own emergency function, not on the request function (review H1)', () => {
    const emergencyId = stack.getLogicalId(
      requests.emergencyFunction?.node.defaultChild as lambda.CfnFunction,
    );
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [emergencyId, 'Arn'] },
    });
    expect(emergencyId).not.toBe(fnId);
    expect(requests.functionUrl).toBeDefined();
    // Only EventBridge may invoke the request function; the URL principals only the emergency one.
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map(
      (p) => p.Properties,
    );
    const onRequest = permissions.filter((p) => JSON.stringify(p.FunctionName).includes(fnId));
    expect(onRequest.map((p) => p.Principal)).toEqual(['events.amazonaws.com']);
    const onEmergency = permissions.filter((p) => JSON.stringify(p.FunctionName).includes(emergencyId));
    expect(onEmergency.map((p) => p.Principal).sort()).toEqual(
      [RESPONDER, RESPONDER, SCANNER, SCANNER].sort(),
    );
    // Its own role, with the same secret statements as the request function's.
    expect(requests.emergencyFunction?.role).not.toBe(requests.role);
    const sids = (role: iam.Role) =>
      JSON.stringify(Stack.of(role).resolve((role.node.tryFindChild('DefaultPolicy') as iam.Policy).document))
        .match(/"Sid":"[A-Za-z]+"/g)
        ?.sort();
    expect(sids(requests.emergencyFunction?.role as iam.Role)).toEqual(sids(requests.role));
  });

  it('reserves a smaller concurrency for the emergency function', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('IAM-authorized function URL'),
      ReservedConcurrentExecutions: 2,
    });
  });

  it('creates no function URL and no emergency function when no emergency principal is named', () => {
    const none = synth({ emergencyPrincipals: [] });
    none.template.resourceCountIs('AWS::Lambda::Url', 0);
    none.template.resourceCountIs('AWS::Lambda::Function', 1);
    none.template.resourceCountIs('AWS::Lambda::Permission', 1); // EventBridge's only
    expect(none.requests.functionUrl).toBeUndefined();
    expect(none.requests.emergencyFunction).toBeUndefined();
  });

  it('routes the custom event put on its own bus in this account and region for managed secrets (name or ARN) to the function, with retries and a DLQ', () => {
    const [busId] = Object.keys(template.findResources('AWS::Events::EventBus'));
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: {
        account: [ACCOUNT],
        region: ['us-east-1'],
        source: ['secret-rotation-orchestrator'],
        'detail-type': ['Secret Rotation Requested'],
        detail: {
          secretId: [
            { prefix: 'prod/app-team/' },
            {
              prefix: {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    `:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/app-team/`,
                  ],
                ],
              },
            },
          ],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('lets the request and emergency principals, and nobody else, put events on its bus', () => {
    const SENDER = `arn:aws:iam::${ACCOUNT}:role/ticket-bot`;
    const bus = synth({ requestPrincipals: [SENDER] }).template.findResources('AWS::Events::EventBus');
    const [policy] = Object.values(bus).map((r) => r.Properties.Policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: { AWS: [SENDER, RESPONDER, SCANNER] } }),
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [SENDER, RESPONDER, SCANNER] } },
      }),
    ]);
  });

  it('names exactly the emergency principals, and nobody else, in the URL permissions', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map(
      (r) => r.Properties,
    );
    const viaUrl = permissions.filter((p) => p.FunctionUrlAuthType === 'AWS_IAM' || p.InvokedViaFunctionUrl);
    expect(viaUrl.map((p) => `${p.Action} ${p.Principal}`).sort()).toEqual(
      [RESPONDER, SCANNER]
        .flatMap((who) => [`lambda:InvokeFunction ${who}`, `lambda:InvokeFunctionUrl ${who}`])
        .sort(),
    );
    // The only other permission is EventBridge's, for this rule.
    expect(permissions.filter((p) => !viaUrl.includes(p))).toEqual([
      expect.objectContaining({ Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction' }),
    ]);
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });

  // The function's resource policy, as Lambda builds it from each AWS::Lambda::Permission.
  const resourcePolicy = {
    Version: '2012-10-17',
    Statement: Object.values(template.findResources('AWS::Lambda::Permission')).map(({ Properties: p }) => ({
      Effect: 'Allow',
      Principal: /^(arn:|\d{12}$)/.test(p.Principal) ? { AWS: p.Principal } : { Service: p.Principal },
      Action: p.Action,
      Resource: REQUEST_FN,
      ...(p.FunctionUrlAuthType
        ? { Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': p.FunctionUrlAuthType } } }
        : {}),
      ...(p.InvokedViaFunctionUrl ? { Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } } : {}),
    })),
  };

  it.each([
    [RESPONDER, 'lambda:InvokeFunctionUrl', { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }, 'Allowed'],
    [SCANNER, 'lambda:InvokeFunctionUrl', { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }, 'Allowed'],
    [RESPONDER, 'lambda:InvokeFunction', { 'lambda:InvokedViaFunctionUrl': 'true' }, 'Allowed'],
    [OTHER, 'lambda:InvokeFunctionUrl', { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }, 'ImplicitlyDenied'],
    [OTHER, 'lambda:InvokeFunction', { 'lambda:InvokedViaFunctionUrl': 'true' }, 'ImplicitlyDenied'],
    [RESPONDER, 'lambda:InvokeFunction', {}, 'ImplicitlyDenied'],
  ])('the function URL: %s calling %s %j → %s', async (principal, action, context, expected) => {
    const result = await runSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy,
        request: {
          principal,
          action,
          resource: { resource: REQUEST_FN, accountId: ACCOUNT },
          contextVariables: context,
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    expect(result.overallResult).toBe(expected);
  });

  const [logGroup = ''] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
  const [queue = ''] = Object.keys(template.findResources('AWS::SQS::Queue'));
  const DLQ = `arn:aws:sqs:us-east-1:${ACCOUNT}:requests-dead-letters`;
  const identityPolicies = rolePolicyDocuments(template, /RequestsRole/, {
    'AWS::Partition': 'aws',
    'AWS::AccountId': ACCOUNT,
    [`${logGroup}.Arn`]: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:requests:*`,
    [`${queue}.Arn`]: DLQ,
  });
  const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
  const PENDING = { 'secretsmanager:VersionStage': 'AWSPENDING' };
  const OTHER_FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rds-single-user`;
  /** The rotation function the secret is configured with (a resource key). */
  const STORED_OWN = { 'secretsmanager:resource/AllowRotationLambdaArn': ROTATION_FN };
  const ROTATE = 'secretsmanager:RotateSecret';
  const ALLOWED: [string, Record<string, string>][] = [
    ['secretsmanager:DescribeSecret', {}],
    [ROTATE, STORED_OWN],
    ['secretsmanager:UpdateSecretVersionStage', PENDING],
    ['secretsmanager:ListSecretVersionIds', {}],
  ];
  const UPDATE_STAGE = 'secretsmanager:UpdateSecretVersionStage';

  it.each<[string, string, string, Record<string, string>?]>([
    ...ALLOWED.map(([action, context]): [string, string, string, Record<string, string>] => [
      action,
      secret('prod/app-team/db'),
      'Allowed',
      context,
    ]),
    ...ALLOWED.map(([action, context]): [string, string, string, Record<string, string>] => [
      action,
      secret('prod/other-team/db'),
      'ImplicitlyDenied',
      context,
    ]),
    ...ALLOWED.map(([action, context]): [string, string, string, Record<string, string>] => [
      action,
      secret('prod/app-teamX/db'),
      'ImplicitlyDenied',
      context,
    ]),
    // Repair removes AWSPENDING only: moving AWSCURRENT back to an older (possibly leaked) version,
    // or AWSPREVIOUS, is refused (review M5).
    [
      UPDATE_STAGE,
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { 'secretsmanager:VersionStage': 'AWSCURRENT' },
    ],
    [
      UPDATE_STAGE,
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { 'secretsmanager:VersionStage': 'AWSPREVIOUS' },
    ],
    [UPDATE_STAGE, secret('prod/app-team/db'), 'ImplicitlyDenied'],
    // RotateSecret only with the stored configuration of a secret this project's function rotates:
    // never another function's secret, never setting a function or changing the rules (review M5).
    [
      ROTATE,
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { 'secretsmanager:resource/AllowRotationLambdaArn': OTHER_FN },
    ],
    [ROTATE, secret('prod/app-team/db'), 'ImplicitlyDenied'],
    [
      ROTATE,
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { ...STORED_OWN, 'secretsmanager:RotationLambdaARN': ROTATION_FN },
    ],
    [
      ROTATE,
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { ...STORED_OWN, 'secretsmanager:RotationLambdaARN': OTHER_FN },
    ],
    [
      ROTATE,
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { ...STORED_OWN, 'secretsmanager:ModifyRotationRules': 'true' },
    ],
    [
      ROTATE,
      secret('prod/app-team/db'),
      'Allowed',
      { ...STORED_OWN, 'secretsmanager:ModifyRotationRules': 'false' },
    ],
    ['secretsmanager:GetSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['secretsmanager:PutSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['secretsmanager:DeleteSecret', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['secretsmanager:ListSecrets', '*', 'ImplicitlyDenied'],
    ['lambda:InvokeFunction', ROTATION_FN, 'Allowed'],
    ['lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:other`, 'ImplicitlyDenied'],
    ['dynamodb:PutItem', LEDGER_TABLE, 'Allowed'],
    ['dynamodb:Query', HISTORY_INDEX, 'Allowed'],
    ['dynamodb:Query', LEDGER_TABLE, 'ImplicitlyDenied'],
    ['dynamodb:Scan', LEDGER_TABLE, 'ImplicitlyDenied'],
    ['sqs:SendMessage', DLQ, 'Allowed'],
  ])('the request role: %s on %s → %s (%j)', async (action, resource, expected, context = {}) => {
    const result = await runSimulation(
      {
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/requests`,
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: context,
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    expect(result.overallResult).toBe(expected);
  });
});
