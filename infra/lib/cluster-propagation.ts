import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionIdentity } from './function-identity';
import { LAMBDA_DEFAULTS, OBSERVABILITY_ENVIRONMENT, REPO_ROOT } from './lambda-defaults';
import { managedSecretArnPattern, nagSecretArnPattern } from './rotation-function-policy';

/** The Kubernetes group the RBAC manifest (infra/kubernetes/rbac.yaml) binds. */
export const KUBERNETES_GROUP = 'secret-rotation-orchestrator';

export interface ClusterPropagationProps {
  /** Secret-name prefixes this deployment manages (as for the rotation function). */
  readonly managedPrefixes: readonly string[];
  /** Names of the EKS clusters, in the stack's account and region, that consume managed secrets. */
  readonly clusterNames: readonly string[];
  /** Workloads restarted at once per wave. @default 5 */
  readonly restartConcurrency?: number;
  /** Restart only workloads that opt in by annotation. @default false */
  readonly requireOptIn?: boolean;
  /** For private cluster endpoints: the VPC the function runs in. @default no VPC (public endpoints) */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default a security group CDK creates with all outbound allowed */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** One propagation runs through all clusters in one invocation. @default Duration.minutes(15) */
  readonly timeout?: Duration;
}

const ENTRY = `${REPO_ROOT}functions/propagate-secret/handler.ts`;

/**
 * The propagation function and everything it needs in AWS: a role that may describe managed secrets
 * (never read their values) and the configured clusters, an EKS access entry per cluster mapping that
 * role to the Kubernetes group the RBAC manifest binds, its log group, and optional VPC placement.
 */
export class ClusterPropagation extends Construct {
  readonly propagationFunction: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly accessEntries: readonly eks.CfnAccessEntry[];

  constructor(scope: Construct, id: string, props: ClusterPropagationProps) {
    super(scope, id);
    if (props.clusterNames.length === 0)
      throw new Error(`ClusterPropagation ${this.node.path}: name at least one cluster`);
    const stack = Stack.of(this);
    const { logGroup, role } = functionIdentity(
      this,
      { logGroup: 'Logs', role: 'Role' },
      {
        description:
          'Propagation function of the secret rotation orchestrator (describe only; no secret values)',
        logRetention: props.logRetention,
      },
    );
    this.role = role;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeManagedSecrets',
        actions: ['secretsmanager:DescribeSecret'],
        resources: props.managedPrefixes.map((prefix) => managedSecretArnPattern(this, prefix)),
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeConfiguredClusters',
        actions: ['eks:DescribeCluster'],
        resources: props.clusterNames.map((name) =>
          stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: name }),
        ),
      }),
    );
    if (props.vpc) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'RunInVpc',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    this.acknowledgeWildcards(props);

    this.propagationFunction = new nodejs.NodejsFunction(this, 'PropagateSecret', {
      entry: ENTRY,
      ...LAMBDA_DEFAULTS,
      memorySize: 512,
      timeout: props.timeout ?? Duration.minutes(15),
      role: this.role,
      logGroup,
      description: 'Carries a rotated secret version through EKS clusters: resync, restart, verify',
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.securityGroups ? [...props.securityGroups] : undefined,
      environment: {
        ROTATOR_MANAGED_PREFIXES: props.managedPrefixes.join(','),
        ROTATOR_CLUSTERS: props.clusterNames.join(','),
        ROTATOR_RESTART_CONCURRENCY: String(props.restartConcurrency ?? 5),
        ROTATOR_REQUIRE_OPT_IN: String(props.requireOptIn ?? false),
        ...OBSERVABILITY_ENVIRONMENT,
      },
    });
    this.accessEntries = props.clusterNames.map(
      (clusterName) =>
        new eks.CfnAccessEntry(this, `AccessEntry[${clusterName}]`, {
          clusterName,
          principalArn: this.role.roleArn,
          kubernetesGroups: [KUBERNETES_GROUP],
          type: 'STANDARD',
        }),
    );
  }

  private acknowledgeWildcards(props: ClusterPropagationProps): void {
    for (const prefix of new Set(props.managedPrefixes)) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagSecretArnPattern(this, prefix)}]`,
        reason:
          'DescribeSecret on the secrets under a managed prefix; secret ARNs end in a random suffix, so only secret:<prefix>* names them all. No action that reads values is granted.',
      });
    }
    if (props.vpc) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Lambda creates and deletes its VPC network interfaces; these EC2 actions take no resource-level scoping.',
      });
    }
  }
}
