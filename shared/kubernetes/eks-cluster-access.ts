import * as z from '../schema';

/** An EKS cluster name, as CreateCluster accepts it. */
export const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/**
 * How the propagation step reaches a cluster in another account (or region): the role it assumes
 * there (STS AssumeRole, with the external id its trust policy asks for), then DescribeCluster and
 * the EKS token with that role's credentials, in `region` (default: the step's own region).
 */
export const clusterAccessSchema = z.strictObject({
  roleArn: z
    .string()
    .check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN')),
  /** STS allows 2–1,224 characters of `[\w+=,.@:/-]`. */
  externalId: z.optional(
    z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be a valid STS external id')),
  ),
  region: z.optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region'))),
});
export type ClusterAccess = z.infer<typeof clusterAccessSchema>;

/** A cluster in the deployment's configuration: a name (this account and region), or one with its access. */
export const clusterTargetSchema = z.union([
  z.string().check(z.regex(EKS_CLUSTER_NAME, 'must be an EKS cluster name')),
  z.extend(clusterAccessSchema, {
    name: z.string().check(z.regex(EKS_CLUSTER_NAME, 'must be an EKS cluster name')),
  }),
]);
export type ClusterTarget = z.infer<typeof clusterTargetSchema>;

/** The cluster's name, whichever form it is written in. */
export function clusterNameOf(target: ClusterTarget): string {
  return typeof target === 'string' ? target : target.name;
}

/**
 * The access of the clusters that have one, by name (the step function's
 * `ROTATOR_CLUSTER_ACCESS`); clusters written as plain names are left out.
 * @example clusterAccessByName(['a', { name: 'b', roleArn }]) // { b: { roleArn } }
 */
export function clusterAccessByName(targets: readonly ClusterTarget[]): Record<string, ClusterAccess> {
  return Object.fromEntries(
    targets.flatMap((t) => {
      if (typeof t === 'string') return [];
      const { name, ...access } = t;
      return [[name, access] as const];
    }),
  );
}

/** Names written twice: the workflow keys its state and the ledger by cluster name. */
export function duplicateClusterNames(targets: readonly ClusterTarget[]): string[] {
  const names = targets.map(clusterNameOf);
  return [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
}
