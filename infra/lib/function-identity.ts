import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * A function's own log group and role: assumed by Lambda, with no managed policies, allowed only to
 * write to that log group. Callers add the statements the function needs.
 */
export function functionIdentity(
  scope: Construct,
  ids: { readonly logGroup: string; readonly role: string },
  options: { readonly description: string; readonly logRetention?: logs.RetentionDays },
): { logGroup: logs.LogGroup; role: iam.Role } {
  const logGroup = new logs.LogGroup(scope, ids.logGroup, {
    retention: options.logRetention ?? logs.RetentionDays.THREE_MONTHS,
  });
  const role = new iam.Role(scope, ids.role, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: options.description,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  return { logGroup, role };
}
