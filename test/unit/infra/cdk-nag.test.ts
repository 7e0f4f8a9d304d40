import { App, type Environment, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  rotationFunctionStatements,
  rotationSecretStatements,
} from '../../../infra/lib/rotation-function-policy';
import {
  SecretRotationOrchestrator,
  type SecretRotationOrchestratorProps,
} from '../../../infra/lib/secret-rotation-orchestrator';
import { BASE_PROPS, TEST_ENV } from '../../support/synth-stack';

// CDK's built-in CloudFormation validation costs seconds per process and proves nothing about this
// construct; orchestrator-stack.test.ts keeps it on for the stack as cdk.json builds it.
vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PARTITION_LITERALS = { '@aws-cdk/core:enablePartitionLiterals': true };

/** The environments a stack meets: tests, `cdk synth` without credentials, and the CLI's region only. */
const ENVIRONMENTS: [string, Environment | undefined, Record<string, unknown>][] = [
  ['a concrete account and region', TEST_ENV, {}],
  ['an environment-agnostic stack', undefined, {}],
  ['a known region with partition literals (cdk.json)', { region: 'us-east-1' }, PARTITION_LITERALS],
];

function stackIn(env: Environment | undefined, context: Record<string, unknown>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return new Stack(app, 'Nag', { env });
}

function orchestratorIn(
  env: Environment | undefined,
  context: Record<string, unknown>,
  props: Partial<SecretRotationOrchestratorProps> = {},
) {
  const stack = stackIn(env, context);
  const orchestrator = new SecretRotationOrchestrator(stack, 'Orchestrator', { ...BASE_PROPS, ...props });
  return { stack, orchestrator };
}

/** cdk-nag's acknowledgements (id → reason) on each construct of the tree that carries any. */
function acknowledgements(root: IConstruct): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  for (const construct of root.node.findAll()) {
    const entries = construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    if (entries.length > 0) found.set(construct.node.path, Object.fromEntries(entries));
  }
  return found;
}

const acknowledgedIds = (root: IConstruct) =>
  [...acknowledgements(root).values()].flatMap((acks) =>
    Object.keys(acks).map((id) => id.replace(/^Annotation::/, '')),
  );

describe('cdk-nag AwsSolutions checks', () => {
  // Synthesizing runs CDK's template validation, slow the first time in a process: once, at collection.
  const annotations = Annotations.fromStack(
    orchestratorIn(TEST_ENV, {}, { kmsKeyArns: [KEY], tracing: lambda.Tracing.ACTIVE }).stack,
  );

  it.each([
    ['the default construct', {}],
    [
      'every option: schedules, a KMS key and tracing',
      {
        rotationSchedules: [{ secretName: 'prod/app-team/db', scheduleExpression: 'rate(30 days)' }],
        kmsKeyArns: [KEY],
        tracing: lambda.Tracing.ACTIVE,
      },
    ],
  ])('leave no unacknowledged error or warning on %s', (_name, props) => {
    const { stack } = orchestratorIn(TEST_ENV, {}, props);

    const report = new AwsSolutionsChecks(stack).validateScope(stack);

    expect(report.violations.filter((violation) => violation.severity === 'error')).toEqual([]);
    expect(report.violations.filter((violation) => violation.severity === 'warning')).toEqual([]);
    expect(report.success).toBe(true);
  });

  it.each(ENVIRONMENTS)('leave no unacknowledged finding in %s', (_name, env, context) => {
    const { stack } = orchestratorIn(env, context);

    const report = new AwsSolutionsChecks(stack).validateScope(stack);

    expect(report.violations).toEqual([]);
  });

  it.each(ENVIRONMENTS)(
    'report, in %s, exactly the findings the construct acknowledges when the acknowledgements are missing',
    (_name, env, context) => {
      // The construct's statements on a bare role, which carries no acknowledgement.
      const bare = stackIn(env, context);
      const role = new iam.Role(bare, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      for (const statement of [
        ...rotationFunctionStatements(bare, BASE_PROPS.managedPrefixes, [KEY]),
        ...rotationSecretStatements(
          bare,
          BASE_PROPS.managedPrefixes,
          'arn:aws:lambda:us-east-1:1:function:f',
        ),
      ]) {
        role.addToPolicy(statement);
      }
      const { stack } = orchestratorIn(env, context, { kmsKeyArns: [KEY] });

      const reported = new AwsSolutionsChecks(bare).validateScope(bare).violations.map((v) => v.ruleName);

      expect(reported.sort()).toEqual(acknowledgedIds(stack).sort());
      expect(reported).toContain('AwsSolutions-IAM5[Resource::*]');
    },
  );

  it('names the concrete secret patterns in the acknowledged findings', () => {
    const { stack } = orchestratorIn(TEST_ENV, {});

    expect(acknowledgedIds(stack).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:us-east-1:123456789012:secret:prod/app-team/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:us-east-1:123456789012:secret:staging/app-team/*]',
    ]);
  });

  it('acknowledge findings only on the role and its secret policy, each with its specific reason', () => {
    const { stack, orchestrator } = orchestratorIn(TEST_ENV, {}, { tracing: lambda.Tracing.ACTIVE });

    const found = acknowledgements(stack);

    expect([...found.keys()].sort()).toEqual(
      [orchestrator.role.node.path, orchestrator.secretPolicy.node.path].sort(),
    );
    for (const [id, reason] of Object.entries(found.get(orchestrator.role.node.path) ?? {})) {
      expect(id).toMatch(/\[Resource::\*\]$/);
      expect(reason).toMatch(/GetRandomPassword has no resource type/);
      expect(reason).toMatch(/xray:PutTraceSegments/);
    }
    for (const reason of Object.values(found.get(orchestrator.secretPolicy.node.path) ?? {})) {
      expect(reason).toMatch(/random six-character suffix.*secret:<prefix>\*/);
    }
  });

  it('leave CDK itself with no warning or error on the stack', () => {
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});
