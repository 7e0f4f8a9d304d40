import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { RotationLedger } from '../../../infra/lib/rotation-ledger';
import { RotationSweep, type RotationSweepProps } from '../../../infra/lib/rotation-sweep';
import { rolePolicyDocuments } from '../../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
const ACCOUNT = '123456789012';
const ROTATION_FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rotate-secret`;

function synth() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const rotationFunction = lambda.Function.fromFunctionArn(stack, 'Rotate', ROTATION_FN);
  new RotationSweep(stack, 'Sweep', {
    managedPrefixes: ['prod/app-team/'],
    rotationFunction,
    schedule: 'rate(30 minutes)',
  });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('RotationSweep', () => {
  const { app, stack, template } = synth();

  it('runs the sweep function on an EventBridge Scheduler schedule through a role of its own', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sweep[0-9A-F]{8}$'), 'Arn'] },
        RoleArn: Match.anyValue(),
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/',
          ROTATOR_MAX_ROTATIONS_PER_RUN: '50',
        }),
      },
    });
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });

  const [logGroup = ''] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
  const identityPolicies = rolePolicyDocuments(template, /SweepRole(?!.*Scheduler)/, {
    'AWS::Partition': 'aws',
    'AWS::AccountId': ACCOUNT,
    [`${logGroup}.Arn`]: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:sweep:*`,
  });
  const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;

  const stage = (name: string) => ({ 'secretsmanager:VersionStage': name });
  const OTHER_FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:rds-single-user`;
  /** The rotation function the secret is configured with (a resource key). */
  const storedFunction = (arn: string) => ({ 'secretsmanager:resource/AllowRotationLambdaArn': arn });
  /** The rotation function the request sets (RotationLambdaARN), as configuring a schedule does. */
  const naming = (arn: string) => ({ 'secretsmanager:RotationLambdaARN': arn });
  it.each<[string, string, string, Record<string, string>?]>([
    ['secretsmanager:ListSecrets', '*', 'Allowed'],
    // Starting an overdue rotation (RotateSecret with the stored configuration): only of a secret
    // this project's function rotates, and without changing its rules (review M5).
    ['secretsmanager:RotateSecret', secret('prod/app-team/db'), 'Allowed', storedFunction(ROTATION_FN)],
    ['secretsmanager:RotateSecret', secret('prod/app-team/db'), 'ImplicitlyDenied', storedFunction(OTHER_FN)],
    ['secretsmanager:RotateSecret', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    [
      'secretsmanager:RotateSecret',
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { ...storedFunction(ROTATION_FN), 'secretsmanager:ModifyRotationRules': 'true' },
    ],
    // Setting a schedule (RotateSecret naming a function): only ever this project's function.
    ['secretsmanager:RotateSecret', secret('prod/app-team/db'), 'Allowed', naming(ROTATION_FN)],
    [
      'secretsmanager:RotateSecret',
      secret('prod/app-team/db'),
      'Allowed',
      { ...naming(ROTATION_FN), ...storedFunction(OTHER_FN), 'secretsmanager:ModifyRotationRules': 'true' },
    ],
    ['secretsmanager:RotateSecret', secret('prod/app-team/db'), 'ImplicitlyDenied', naming(OTHER_FN)],
    [
      'secretsmanager:RotateSecret',
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      { ...naming(OTHER_FN), ...storedFunction(ROTATION_FN) },
    ],
    [
      'secretsmanager:RotateSecret',
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      naming(`${ROTATION_FN}:live`),
    ],
    ['secretsmanager:ListSecretVersionIds', secret('prod/app-team/db'), 'Allowed'],
    // Repair removes AWSPENDING; moving AWSCURRENT back to an older (leaked) version, or
    // AWSPREVIOUS, is refused (review M5).
    ['secretsmanager:UpdateSecretVersionStage', secret('prod/app-team/db'), 'Allowed', stage('AWSPENDING')],
    [
      'secretsmanager:UpdateSecretVersionStage',
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      stage('AWSCURRENT'),
    ],
    [
      'secretsmanager:UpdateSecretVersionStage',
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      stage('AWSPREVIOUS'),
    ],
    [
      'secretsmanager:UpdateSecretVersionStage',
      secret('prod/app-team/db'),
      'ImplicitlyDenied',
      stage('MINE'),
    ],
    ['secretsmanager:UpdateSecretVersionStage', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    [
      'secretsmanager:UpdateSecretVersionStage',
      secret('prod/other/db'),
      'ImplicitlyDenied',
      stage('AWSPENDING'),
    ],
    ['secretsmanager:RotateSecret', secret('prod/other/db'), 'ImplicitlyDenied', storedFunction(ROTATION_FN)],
    ['secretsmanager:RotateSecret', secret('prod/other/db'), 'ImplicitlyDenied', naming(ROTATION_FN)],
    ['secretsmanager:GetSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['secretsmanager:PutSecretValue', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['secretsmanager:DeleteSecret', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    // Setting schedules needs only RotateSecret and the invoke above; turning rotation off or
    // retagging a secret (to steer its schedule) stays out of reach.
    ['secretsmanager:CancelRotateSecret', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['secretsmanager:TagResource', secret('prod/app-team/db'), 'ImplicitlyDenied'],
    ['lambda:InvokeFunction', ROTATION_FN, 'Allowed'],
    ['lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:other`, 'ImplicitlyDenied'],
  ])('the sweep role: %s on %s → %s (%j)', async (action, resource, expected, context = {}) => {
    const result = await runSimulation(
      {
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/sweep`,
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: context,
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(result.errors.message);
    expect(result.overallResult).toBe(expected);
  });
});

describe('RotationSweep with the ledger', () => {
  function synthWith(props: Partial<RotationSweepProps>) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const rotationFunction = lambda.Function.fromFunctionArn(stack, 'Rotate', ROTATION_FN);
    return () =>
      new RotationSweep(stack, 'Sweep', { managedPrefixes: ['prod/app-team/'], rotationFunction, ...props });
  }
  /** Grant hooks that log what was granted to `granted`. */
  function hooks() {
    const granted: string[] = [];
    return {
      granted,
      ledger: {
        tableName: 'rotation-ledger',
        grantRecordRotation: () => void granted.push('ledger.grantRecordRotation'),
        grantRead: () => void granted.push('ledger.grantRead'),
      },
      propagationStarter: {
        grantStartPropagation: () => void granted.push('starter.grantStartPropagation'),
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:p',
      },
    };
  }
  const variablesOf = (sweep: RotationSweep) =>
    Object.values(Template.fromStack(Stack.of(sweep)).findResources('AWS::Lambda::Function'))[0]?.Properties
      .Environment.Variables;

  it('with a ledger and a starter: grants through the hooks and configures the function to record and reconcile', () => {
    const { granted, ...props } = hooks();
    const sweep = synthWith({ ...props, maxPropagationsPerRun: 7 })();
    expect(granted).toEqual([
      'ledger.grantRecordRotation',
      'ledger.grantRead',
      'starter.grantStartPropagation',
    ]);
    Template.fromStack(Stack.of(sweep)).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_LEDGER_TABLE: 'rotation-ledger',
          ROTATOR_MAX_PROPAGATIONS_PER_RUN: '7',
          ROTATOR_PROPAGATION_STATE_MACHINE_ARN: props.propagationStarter.stateMachineArn,
          ROTATOR_REPAIR_STUCK: 'true',
        }),
      },
    });
  });

  it('with a ledger alone: grants only the record and configures the function to record, not to reconcile', () => {
    const { granted, ledger } = hooks();
    const variables = variablesOf(synthWith({ ledger })());
    expect(granted).toEqual(['ledger.grantRecordRotation']);
    expect(variables).toMatchObject({ ROTATOR_LEDGER_TABLE: 'rotation-ledger' });
    expect(variables).not.toHaveProperty('ROTATOR_PROPAGATION_STATE_MACHINE_ARN');
    expect(variables).not.toHaveProperty('ROTATOR_MAX_PROPAGATIONS_PER_RUN');
  });

  it('writes the grace and stuck thresholds, given or by default, and the reconcile lease with reconciling', () => {
    expect(variablesOf(synthWith({})())).toMatchObject({
      ROTATOR_SWEEP_GRACE_HOURS: '24',
      ROTATOR_STUCK_AFTER_MINUTES: '60',
    });
    const { granted: _, ...props } = hooks();
    expect(variablesOf(synthWith({ ...props, graceHours: 2, stuckAfterMinutes: 30 })())).toMatchObject({
      ROTATOR_SWEEP_GRACE_HOURS: '2',
      ROTATOR_STUCK_AFTER_MINUTES: '30',
      ROTATOR_PROPAGATION_LEASE_MINUTES: '370',
    });
  });

  it('neither records nor reconciles by default', () => {
    expect(variablesOf(synthWith({})())).not.toHaveProperty('ROTATOR_LEDGER_TABLE');
  });

  it.each([
    [
      'a starter without a ledger',
      { propagationStarter: hooks().propagationStarter },
      /propagationStarter needs ledger/,
    ],
  ])('refuses %s', (_name, props, message) => {
    expect(synthWith(props)).toThrow(message);
  });
});

describe('RotationSweep enforcing rotation schedules', () => {
  function variablesWith(props: Partial<RotationSweepProps>) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const rotationFunction = lambda.Function.fromFunctionArn(stack, 'Rotate', ROTATION_FN);
    new RotationSweep(stack, 'Sweep', { managedPrefixes: ['prod/app-team/'], rotationFunction, ...props });
    return Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0]?.Properties
      .Environment.Variables;
  }

  it('gives the function the rotation function, the rules as JSON, the secrets the stack schedules and the cap', () => {
    const rules = [
      { prefix: 'prod/app-team/', automaticallyAfterDays: 30, windowHours: 4 },
      { prefix: 'prod/app-team/payments/', scheduleExpression: 'cron(0 4 ? * SUN *)' },
    ];
    const variables = variablesWith({
      rotationRules: rules,
      stackScheduledSecrets: ['prod/app-team/db-password', 'prod/app-team/other'],
      maxSchedulesPerRun: 9,
    });
    expect(variables).toMatchObject({
      ROTATOR_ROTATION_FUNCTION_ARN: ROTATION_FN,
      ROTATOR_ROTATION_RULES: JSON.stringify(rules),
      ROTATOR_STACK_SCHEDULED_SECRETS: 'prod/app-team/db-password,prod/app-team/other',
      ROTATOR_MAX_SCHEDULES_PER_RUN: '9',
    });
  });

  it('without rules still names the rotation function (tagged secrets get their schedule), 50 a run', () => {
    const variables = variablesWith({});
    expect(variables).toMatchObject({
      ROTATOR_ROTATION_FUNCTION_ARN: ROTATION_FN,
      ROTATOR_MAX_SCHEDULES_PER_RUN: '50',
    });
    expect(variables).not.toHaveProperty('ROTATOR_ROTATION_RULES');
    expect(variables).not.toHaveProperty('ROTATOR_STACK_SCHEDULED_SECRETS');
  });

  it.each([
    [
      'a rule outside the managed prefixes',
      [{ prefix: 'prod/', automaticallyAfterDays: 30 }],
      /rotationRules\.0\.prefix: "prod\/" is not within a managed prefix/,
    ],
    [
      'a rule with both schedules',
      [{ prefix: 'prod/app-team/', automaticallyAfterDays: 30, scheduleExpression: 'rate(1 day)' }],
      /rotationRules\.0: needs exactly one of automaticallyAfterDays or scheduleExpression/,
    ],
  ])('refuses %s at synth', (_name, rotationRules, message) => {
    expect(() => variablesWith({ rotationRules })).toThrow(message);
  });
});

describe('RotationSweep recording in a RotationLedger', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const ledger = new RotationLedger(stack, 'Ledger');
  new RotationSweep(stack, 'Sweep', {
    managedPrefixes: ['prod/app-team/'],
    rotationFunction: lambda.Function.fromFunctionArn(stack, 'Rotate', ROTATION_FN),
    ledger,
  });
  const template = Template.fromStack(stack);
  const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/rotation-ledger`;
  const OTHER_TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/other`;
  const [tableId = ''] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
  const [logGroup = ''] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
  const identityPolicies = rolePolicyDocuments(template, /SweepRole(?!.*Scheduler)/, {
    'AWS::Partition': 'aws',
    'AWS::AccountId': ACCOUNT,
    [`${logGroup}.Arn`]: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:sweep:*`,
    [`${tableId}.Arn`]: TABLE,
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });

  it.each([
    ['PutItem', TABLE, 'Allowed'],
    ['UpdateItem', TABLE, 'Allowed'],
    ['PutItem', OTHER_TABLE, 'ImplicitlyDenied'],
    ['UpdateItem', OTHER_TABLE, 'ImplicitlyDenied'],
    ['GetItem', TABLE, 'ImplicitlyDenied'],
    ['BatchGetItem', TABLE, 'ImplicitlyDenied'],
    ['Query', `${TABLE}/index/history`, 'ImplicitlyDenied'],
    ['Scan', TABLE, 'ImplicitlyDenied'],
    ['DeleteItem', TABLE, 'ImplicitlyDenied'],
    ['BatchWriteItem', TABLE, 'ImplicitlyDenied'],
    ['DeleteTable', TABLE, 'ImplicitlyDenied'],
  ])('the sweep role: dynamodb:%s on %s → %s', async (action, resource, expected) => {
    const result = await runSimulation(
      {
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/sweep`,
          action: `dynamodb:${action}`,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: {},
        },
      },
      { simulationMode: 'Strict' },
    );
    if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
    expect(result.overallResult).toBe(expected);
  });
});
