import { type Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { clusterAccessByName, clusterNameOf } from '../../shared/kubernetes/eks-cluster-access';
import { type WorkflowSettings, workflowEnvironment } from '../../shared/workflow/workflow-config';
import { KUBERNETES_CLIENT_BUNDLING } from './bundling/kubernetes-client';
import type { ClusterPropagationProps } from './cluster-propagation';
import { OrchestratorFunction } from './orchestrator-function';
import { allowOnManagedSecrets, onlyStage } from './rotation-function-policy';

/** Why DescribeSecret is granted on `secret:<prefix>*` (the steps and the starter). */
export const DESCRIBE_REASON =
  'DescribeSecret on the secrets under a managed prefix; secret ARNs end in a random suffix, so only secret:<prefix>* names them all. No action that reads values is granted.';

/**
 * The function that runs the workflow's steps, in `scope` (a ClusterPropagation, so its ids are
 * the construct's own): it may describe managed secrets (never read values), retire their
 * AWSPREVIOUS, describe the configured clusters and write the ledger.
 */
export function propagationStepsFunction(
  scope: Construct,
  props: ClusterPropagationProps,
  timeout: Duration,
): OrchestratorFunction {
  const fn = new OrchestratorFunction(scope, 'PropagationStep', {
    folder: 'propagation-step',
    identity: {
      logGroup: 'Logs',
      role: 'Role',
      description: 'Propagation steps of the secret rotation orchestrator (no secret values)',
    },
    logRetention: props.logRetention,
    bundling: KUBERNETES_CLIENT_BUNDLING,
    memorySize: 512,
    // Each step is short; the restart step watches rollouts for up to a minute before handing
    // the wait back to the state machine.
    timeout,
    description: 'Runs one step of the propagation workflow: claim, plan, resync, restart, verify, record',
    vpc: props.vpc,
    vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
    securityGroups: props.securityGroups ? [...props.securityGroups] : undefined,
    environment: workflowEnvironment(workflowSettings(props)),
  });
  allowOnManagedSecrets(scope, fn.role, {
    sid: 'DescribeManagedSecrets',
    actions: ['secretsmanager:DescribeSecret'],
    prefixes: props.managedPrefixes,
    reason: DESCRIBE_REASON,
  });
  replicaDescribe(scope, fn.role, props.managedPrefixes);
  // Retiring the previous version moves only AWSPREVIOUS; never AWSCURRENT or AWSPENDING.
  allowOnManagedSecrets(scope, fn.role, {
    sid: 'RetirePreviousVersions',
    actions: ['secretsmanager:UpdateSecretVersionStage'],
    prefixes: props.managedPrefixes,
    conditions: onlyStage('AWSPREVIOUS'),
    reason:
      'UpdateSecretVersionStage, only for AWSPREVIOUS (a condition), on the secrets under a managed prefix: retiring the previous version. Secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
  });
  // A cluster reached through a role of its own is described with that role (ClusterAccessRole).
  const ownClusters = props.clusterNames.filter((c): c is string => typeof c === 'string');
  if (ownClusters.length > 0) {
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeConfiguredClusters',
        actions: ['eks:DescribeCluster'],
        resources: ownClusters.map((name) =>
          Stack.of(scope).formatArn({ service: 'eks', resource: 'cluster', resourceName: name }),
        ),
      }),
    );
  }
  if (props.vpc) fn.role.addToPolicy(vpcAccessStatement());
  props.ledger.grantPropagation(fn.role);
  return fn;
}

/**
 * DescribeSecret on the managed secrets' replicas: same account and name, any region (a replica's
 * ARN differs from its primary's in the region only). The plan and sync steps read a replica's
 * version stages in its own region before resyncing the stores that read it. Never a value.
 */
function replicaDescribe(scope: Construct, role: iam.Role, prefixes: readonly string[]): void {
  const stack = Stack.of(scope);
  const arn = (prefix: string, partition: string, account: string) =>
    `arn:${partition}:secretsmanager:*:${account}:secret:${prefix}*`;
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'DescribeManagedSecretReplicas',
      actions: ['secretsmanager:DescribeSecret'],
      resources: prefixes.map((prefix) => arn(prefix, stack.partition, stack.account)),
    }),
  );
  const show = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  for (const prefix of new Set(prefixes)) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn(prefix, show(stack.partition, 'Partition'), show(stack.account, 'AccountId'))}]`,
      reason:
        "DescribeSecret on the managed secrets in every region of this account: their replicas, whose regions are the secrets' own setting (ReplicationStatus), checked before a store reading a replica is resynced. Secret ARNs end in a random suffix, so only secret:<prefix>* names them. No action that reads values is granted.",
    });
  }
}

/** The step function's settings from the props; what they leave out keeps the function's default. */
function workflowSettings(props: ClusterPropagationProps): WorkflowSettings {
  return {
    managedPrefixes: props.managedPrefixes,
    clusters: props.clusterNames.map(clusterNameOf),
    clusterAccess: clusterAccessByName(props.clusterNames),
    ledgerTableName: props.ledger.tableName,
    restartConcurrency: props.restartConcurrency,
    emergencyRestartConcurrency: props.emergencyRestartConcurrency,
    restartPercent: props.restartPercent,
    canaryWorkloads: props.canaryWorkloads,
    requireOptIn: props.requireOptIn,
    autoRollback: props.autoRollback,
    restartWindows: props.restartWindows,
    maxPlanBytes: props.maxPlanBytes,
    syncTimeoutMs: props.syncTimeout?.toMilliseconds(),
    rolloutTimeoutMs: props.rolloutTimeout?.toMilliseconds(),
    rolloutPollIntervalMs: props.rolloutWatchInterval?.toMilliseconds(),
  };
}

function vpcAccessStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'RunInVpc',
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  });
}
