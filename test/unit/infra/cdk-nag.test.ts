import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { rotationFunctionStatements } from '../../../infra/lib/rotation-function-policy';
import { BASE_PROPS, synthOrchestrator, TEST_ENV } from '../../support/synth-stack';

describe('cdk-nag AwsSolutions checks', () => {
  it.each([
    ['the default construct', {}],
    [
      'a construct with a KMS key and schedules',
      { kmsKeyArns: ['arn:aws:kms:us-east-1:123456789012:key/abc'] },
    ],
  ])('leave no unacknowledged finding on %s', (_name, props) => {
    const { app, stack } = synthOrchestrator(props);

    const report = new AwsSolutionsChecks(app).validateScope(stack);

    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('do report the wildcard findings the construct acknowledges, and no others', () => {
    // The same statements on a bare role, without the construct's acknowledgements.
    const app = new App();
    const stack = new Stack(app, 'Bare', { env: TEST_ENV });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    for (const statement of rotationFunctionStatements(stack, BASE_PROPS.managedPrefixes, [])) {
      role.addToPolicy(statement);
    }

    const report = new AwsSolutionsChecks(app).validateScope(stack);

    expect(report.violations.map((violation) => violation.ruleName).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:us-east-1:123456789012:secret:prod/app-team/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:us-east-1:123456789012:secret:staging/app-team/*]',
    ]);
  });
});
