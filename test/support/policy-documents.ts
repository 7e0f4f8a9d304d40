import type { Template } from 'aws-cdk-lib/assertions';

/** Replaces CloudFormation intrinsics in a synthesized policy with concrete values for partition 'aws'. */
export function resolveIntrinsics(value: unknown, refs: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, refs));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) {
    const resolved = refs[String(object.Ref)];
    if (resolved === undefined) throw new Error(`No value for Ref ${String(object.Ref)}`);
    return resolved;
  }
  if ('Fn::GetAtt' in object) {
    const [logicalId] = object['Fn::GetAtt'] as [string, string];
    const resolved = refs[`${logicalId}.Arn`] ?? refs[logicalId];
    if (resolved === undefined) throw new Error(`No value for GetAtt ${logicalId}`);
    return resolved;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveIntrinsics(part, refs)).join(separator);
  }
  return Object.fromEntries(
    Object.entries(object).map(([key, item]) => [key, resolveIntrinsics(item, refs)]),
  );
}

/** The identity policy documents attached to the role whose logical id matches `rolePattern`. */
export function rolePolicyDocuments(template: Template, rolePattern: RegExp, refs: Record<string, string>) {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
    (policy.Properties.Roles as { Ref: string }[]).some((role) => rolePattern.test(role.Ref)),
  );
  return policies.map(([name, policy]) => ({
    name,
    policy: resolveIntrinsics(policy.Properties.PolicyDocument, refs),
  }));
}
