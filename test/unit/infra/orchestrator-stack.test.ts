import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseDeploymentConfig } from '../../../infra/lib/deployment-config';
import { OrchestratorStack, orchestratorPropsFrom } from '../../../infra/lib/orchestrator-stack';
import { loadRotationConfig } from '../../../shared/config';
import { loadRequestConfig } from '../../../shared/requests/request-config';
import { loadSweepConfig } from '../../../shared/sweep/sweep-config';
import { loadStarterConfig } from '../../../shared/workflow/starter-config';
import { loadWorkflowConfig, WORKFLOW_DEFAULTS } from '../../../shared/workflow/workflow-config';

const CDK_JSON = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'));

/** The stack as `cdk synth` builds it without credentials: cdk.json's context and flags, no env. */
function appFromCdkJson() {
  const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [] } });
  const config = parseDeploymentConfig(app.node.tryGetContext('orchestrator'));
  const stack = new OrchestratorStack(app, 'SecretRotationOrchestrator', { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

describe('orchestratorPropsFrom', () => {
  it('turns days and hours into durations and retention days into RetentionDays', () => {
    const props = orchestratorPropsFrom(
      parseDeploymentConfig({
        managedPrefixes: ['prod/app-team/'],
        rotationSchedules: [
          {
            secretName: 'prod/app-team/a',
            automaticallyAfterDays: 30,
            windowHours: 4,
            rotateImmediately: false,
          },
          { secretName: 'prod/app-team/b', scheduleExpression: 'rate(4 hours)' },
        ],
        logRetentionDays: 365,
      }),
    );

    expect(props.logRetention).toBe(logs.RetentionDays.ONE_YEAR);
    expect(props.rotationSchedules?.map((schedule) => schedule.automaticallyAfter?.toDays())).toEqual([
      30,
      undefined,
    ]);
    expect(props.rotationSchedules?.map((schedule) => schedule.window?.toHours())).toEqual([4, undefined]);
    expect(props.rotationSchedules?.[0]?.rotateImmediately).toBe(false);
    expect(props.rotationSchedules?.[1]?.scheduleExpression).toBe('rate(4 hours)');
  });

  it('never shares arrays with the configuration', () => {
    const config = parseDeploymentConfig({ managedPrefixes: ['prod/app-team/'] });

    const props = orchestratorPropsFrom(config);

    expect(props.managedPrefixes).toEqual(config.managedPrefixes);
    expect(props.managedPrefixes).not.toBe(config.managedPrefixes);
  });
});

describe('OrchestratorStack built from cdk.json', () => {
  // Synthesize once (CDK's template validation is slow the first time in a process).
  const { app, stack } = appFromCdkJson();
  const template = Template.fromStack(stack);

  it('schedules the sample secret every 30 days in a four-hour window', () => {
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: 'prod/app-team/db-password',
      RotationRules: { AutomaticallyAfterDays: 30, Duration: '4h' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_MANAGED_PREFIXES: 'prod/app-team/,staging/app-team/',
          ROTATOR_DEFAULT_PASSWORD_POLICY: '{"length":32}',
        }),
      },
    });
  });

  it("gives the sweep cdk.json's rotation rules, the rotation function, and the secrets the stack schedules", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROTATOR_ROTATION_RULES: JSON.stringify(CDK_JSON.context.orchestrator.rotationRules),
          ROTATOR_STACK_SCHEDULED_SECRETS: 'prod/app-team/db-password',
          ROTATOR_ROTATION_FUNCTION_ARN: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^OrchestratorRotateSecret'), 'Arn'],
          },
        }),
      },
    });
  });

  it("gives every function an environment its own cold-start parser accepts, with the stack's settings", () => {
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }
    >;
    // What CloudFormation resolves at deploy time, by the type of the resource referenced.
    const deployed = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const ref = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      const type = resources[ref.Ref ?? ref['Fn::GetAtt']?.[0] ?? '']?.Type;
      if (type === 'AWS::DynamoDB::Table') return 'rotation-ledger';
      if (type === 'AWS::StepFunctions::StateMachine') return 'arn:aws:states:us-east-1:1:stateMachine:p';
      if (type === 'AWS::Lambda::Function') return 'arn:aws:lambda:us-east-1:1:function:f';
      throw new Error(`unexpected ${JSON.stringify(value)}`);
    };
    const environmentOf = (logicalIdStart: string) => {
      const [fn] = Object.entries(resources).filter(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(logicalIdStart),
      );
      const variables = fn?.[1].Properties.Environment?.Variables ?? {};
      return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, deployed(value)]));
    };
    const { managedPrefixes, propagation } = CDK_JSON.context.orchestrator;

    expect(loadRotationConfig(environmentOf('OrchestratorRotateSecret'))).toEqual({
      managedPrefixes,
      defaultPasswordPolicy: { length: 32 },
      databaseTlsByDefault: false,
      databaseRdsCertificates: true,
    });
    expect(loadRotationConfig(environmentOf('OrchestratorRotateDatabaseSecret'))).toEqual({
      managedPrefixes,
      defaultPasswordPolicy: { length: 32 },
      databaseTlsByDefault: true,
      databaseRdsCertificates: true,
    });
    expect(loadRequestConfig(environmentOf('RequestsRotationRequest'))).toMatchObject({
      managedPrefixes,
      ledgerTableName: 'rotation-ledger',
    });
    expect(loadSweepConfig(environmentOf('Sweep'))).toMatchObject({
      managedPrefixes,
      ledgerTableName: 'rotation-ledger',
      stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:p',
      schedules: { rotationFunctionArn: 'arn:aws:lambda:us-east-1:1:function:f' },
    });
    expect(loadStarterConfig(environmentOf('PropagationPropagateSecret'))).toEqual({
      managedPrefixes,
      stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:p',
      ledgerTableName: 'rotation-ledger',
    });
    expect(loadWorkflowConfig(environmentOf('PropagationPropagationStep'))).toEqual({
      ...WORKFLOW_DEFAULTS,
      managedPrefixes,
      clusters: propagation.clusterNames,
      restartConcurrency: propagation.restartConcurrency,
      ledgerTableName: 'rotation-ledger',
    });
  });

  it('stays environment-agnostic, scoping grants with pseudo parameters', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'RotateManagedSecrets',
            Resource: Match.arrayWith([
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':secretsmanager:',
                    { Ref: 'AWS::Region' },
                    ':',
                    { Ref: 'AWS::AccountId' },
                    ':secret:prod/app-team/*',
                  ],
                ],
              },
            ]),
          }),
        ]),
      },
    });
  });

  it('alarms to the alert topic on Errors and Throttles of every function and on every queue', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties,
    );
    const alarmed = (metricName: string, dimension: string) =>
      alarms
        .filter((alarm) => alarm.MetricName === metricName && alarm.AlarmActions?.length === 1)
        .map((alarm) => alarm.Dimensions?.find((d: { Name: string }) => d.Name === dimension)?.Value?.Ref);
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));

    expect(functions.length).toBeGreaterThanOrEqual(5);
    expect(alarmed('Errors', 'FunctionName').sort()).toEqual([...functions].sort());
    expect(alarmed('Throttles', 'FunctionName').sort()).toEqual([...functions].sort());
    expect(queues.length).toBeGreaterThanOrEqual(2);
    expect(
      alarms
        .filter((alarm) => alarm.MetricName === 'ApproximateNumberOfMessagesVisible')
        .map((alarm) => alarm.Dimensions[0].Value['Fn::GetAtt'][0])
        .sort(),
    ).toEqual([...queues].sort());
  });

  it('alarms when any EventBridge rule cannot deliver, or its dead-letter queue, and when the sweep schedule drops an invocation', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties,
    );
    const ruleIds = Object.keys(template.findResources('AWS::Events::Rule'));
    const alarmedRules = (metricName: string) =>
      alarms
        .filter(
          (a) => a.Namespace === 'AWS/Events' && a.MetricName === metricName && a.AlarmActions?.length === 1,
        )
        .map((a) => a.Dimensions.find((d: { Name: string }) => d.Name === 'RuleName')?.Value?.Ref)
        .sort();

    expect(ruleIds.length).toBeGreaterThanOrEqual(6);
    expect(alarmedRules('FailedInvocations')).toEqual([...ruleIds].sort());
    expect(alarmedRules('InvocationsFailedToBeSentToDlq')).toEqual([...ruleIds].sort());
    // The request rule is on its own bus: its metrics carry EventBusName as well.
    const onCustomBus = alarms.filter(
      (a) =>
        a.MetricName === 'FailedInvocations' &&
        a.Dimensions.some((d: { Name: string }) => d.Name === 'EventBusName'),
    );
    expect(onCustomBus).toHaveLength(1);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/Scheduler',
        MetricName: 'InvocationDroppedCount',
        Dimensions: [{ Name: 'ScheduleGroup', Value: 'default' }],
        Statistic: 'Sum',
        Threshold: 0,
      }),
    );
  });

  it("passes the app's cdk-nag validation plugin on synth", () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('fails synth when a finding is left unacknowledged, so the plugin really runs', () => {
    const { app: tampered, stack: tamperedStack } = appFromCdkJson();
    new iam.Role(tamperedStack, 'Unreviewed', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    }).addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));

    let failure: unknown;
    try {
      tampered.synth();
    } catch (error) {
      failure = error;
    }

    expect(String(failure)).toMatch(/^ValidationFailed/);
    expect(String(failure)).toMatch(
      /Unreviewed\/DefaultPolicy\/Resource[\s\S]*AwsSolutions-IAM5\[Resource::\*\]/,
    );
    expect(String(failure)).not.toContain('RotateSecretRole');
  });
});

describe('the stack’s request settings from cdk.json', () => {
  it('admits the configured request principals on the request bus and sets the emergency cooldown', () => {
    const requester = 'arn:aws:iam::123456789012:role/security-scanner';
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = parseDeploymentConfig({
      managedPrefixes: ['prod/app-team/'],
      requestPrincipals: [requester],
      emergencyCooldownMinutes: 30,
    });
    const template = Template.fromStack(new OrchestratorStack(app, 'Stack', { config }));

    const [bus] = Object.values(template.findResources('AWS::Events::EventBus'));
    expect(JSON.stringify(bus)).toContain(requester);
    const requestFunction = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f).includes('ROTATOR_EMERGENCY_COOLDOWN_MINUTES'),
    ) as { Properties: { Environment: { Variables: Record<string, string> } } } | undefined;
    expect(requestFunction?.Properties.Environment.Variables.ROTATOR_EMERGENCY_COOLDOWN_MINUTES).toBe('30');
  });
});
