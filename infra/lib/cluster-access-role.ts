import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { KUBERNETES_GROUP } from './cluster-propagation';

export interface ClusterAccessRoleProps {
  /**
   * The orchestrator's propagation step role, in the orchestrator's account
   * (`ClusterPropagation.role.roleArn` there, e.g. from a stack output): the only principal trusted.
   */
  readonly orchestratorRoleArn: string;
  /**
   * The external id the orchestrator sends (its `propagation.clusterNames[].externalId`); the trust
   * policy refuses AssumeRole without it. 2–1,224 characters of `[\w+=,.@:/-]`.
   */
  readonly externalId: string;
  /** The EKS cluster, in this stack's account and region, that the role may describe and reach. */
  readonly clusterName: string;
  /** @default a name CloudFormation generates */
  readonly roleName?: string;
  /**
   * Create the EKS access entry that maps this role to the Kubernetes group the RBAC manifest
   * (infra/kubernetes/rbac.yaml) binds; false when the cluster's access entries are managed
   * elsewhere (then create one for `role.roleArn` with the group `secret-rotation-orchestrator`).
   * @default true
   */
  readonly accessEntry?: boolean;
}

/**
 * For the account that holds a cluster (the TARGET account): the role the orchestrator's
 * propagation step assumes to reach that cluster. Its trust policy names only the orchestrator's
 * step role and requires the external id (`sts:ExternalId`); its one permission is
 * eks:DescribeCluster on that cluster; the access entry maps it to the orchestrator's Kubernetes
 * group, whose rights the RBAC manifest sets. See docs/cross-account.md.
 * @example new ClusterAccessRole(stack, 'OrchestratorAccess', { orchestratorRoleArn, externalId, clusterName: 'prod-eu-1' })
 */
export class ClusterAccessRole extends Construct {
  readonly role: iam.Role;
  readonly accessEntry?: eks.CfnAccessEntry;

  constructor(scope: Construct, id: string, props: ClusterAccessRoleProps) {
    super(scope, id);
    if (!/^[\w+=,.@:/-]{2,1224}$/.test(props.externalId)) {
      throw new Error(
        `ClusterAccessRole ${this.node.path}: externalId must be 2-1224 characters of [\\w+=,.@:/-]`,
      );
    }
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: `The secret rotation orchestrator reaches EKS cluster ${props.clusterName} with this role`,
      assumedBy: new iam.ArnPrincipal(props.orchestratorRoleArn).withConditions({
        StringEquals: { 'sts:ExternalId': props.externalId },
      }),
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeTheCluster',
        actions: ['eks:DescribeCluster'],
        resources: [
          Stack.of(this).formatArn({ service: 'eks', resource: 'cluster', resourceName: props.clusterName }),
        ],
      }),
    );
    if (props.accessEntry ?? true) {
      this.accessEntry = new eks.CfnAccessEntry(this, 'AccessEntry', {
        clusterName: props.clusterName,
        principalArn: this.role.roleArn,
        kubernetesGroups: [KUBERNETES_GROUP],
        type: 'STANDARD',
      });
    }
  }
}
