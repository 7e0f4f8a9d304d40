import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  type ClusterTarget,
  clusterAccessByName,
  duplicateClusterNames,
} from '../../shared/kubernetes/eks-cluster-access';
import type { RestartWindowsConfig } from '../../shared/workflow/restart-window-policy';
import type { OrchestratorFunction } from './orchestrator-function';
import { propagationStarterFunction } from './propagation-starter';
import { propagationStepsFunction } from './propagation-steps';
import { PropagationWorkflow } from './propagation-workflow';
import { managedSecretArnPattern } from './rotation-function-policy';

/** The propagation step function's timeout, and each workflow Task's. */
const STEP_TIMEOUT = Duration.minutes(2);

/** The Kubernetes group the RBAC manifest (infra/kubernetes/rbac.yaml) binds. */
export const KUBERNETES_GROUP = 'secret-rotation-orchestrator';

/** The ledger grants propagation needs (see RotationLedger). */
export interface PropagationLedger {
  readonly tableName: string;
  grantPropagation(grantee: iam.IGrantable): iam.Grant;
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

export interface ClusterPropagationProps {
  /** Secret-name prefixes this deployment manages (as for the rotation function). */
  readonly managedPrefixes: readonly string[];
  /**
   * The EKS clusters that consume managed secrets: a name (a cluster in the stack's account and
   * region, whose access entry this construct creates), or `{ name, roleArn, externalId?, region? }`
   * for one reached through a role in its own account (see ClusterAccessRole and
   * docs/cross-account.md: that account holds the role and the access entry).
   */
  readonly clusterNames: readonly ClusterTarget[];
  /** Where each propagation is claimed (exactly once) and recorded. */
  readonly ledger: PropagationLedger;
  /** Failed propagations are published here. */
  readonly alertTopic: sns.ITopic;
  /**
   * The database rotation function: it revokes the previous credential of the secrets it rotates
   * once every consumer runs the new one. @default none
   */
  readonly revokeFunction?: lambda.IFunction;
  /**
   * The rotation functions that may move AWSCURRENT back after a failed propagation, by the name
   * of the state that invokes each (see PropagationWorkflowProps). @default none
   */
  readonly rollBackFunctions?: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Roll every secret back after a propagation whose rollouts failed, where its strategy allows;
   * without it only secrets tagged `rotator:rollback=true`. Needs `rollBackFunctions`. @default false
   */
  readonly autoRollback?: boolean;
  /** Workloads rolling out at once per cluster (1–500). @default 25 */
  readonly restartConcurrency?: number;
  /** Rollouts in flight per cluster for an emergency rotation (1–500, never below restartConcurrency). @default 100 */
  readonly emergencyRestartConcurrency?: number;
  /** At most this percentage of a cluster's affected workloads rolling out at once (1–100). @default 25 */
  readonly restartPercent?: number;
  /** Workloads restarted and verified alone before any other, per cluster (0–10; emergencies skip it). @default 1 */
  readonly canaryWorkloads?: number;
  /** Restart only workloads that opt in by annotation. @default false */
  readonly requireOptIn?: boolean;
  /**
   * When workloads may restart: a default window and windows by namespace (syntax in
   * shared/workflow/restart-window.ts); a workload's annotation wins. @default none: any time
   */
  readonly restartWindows?: RestartWindowsConfig;
  /** How long ESO may take to confirm a resync (whole seconds, 5 s–1 h). @default Duration.minutes(5) */
  readonly syncTimeout?: Duration;
  /** How long one restarted workload may take to roll out (whole seconds, 10 s–24 h). @default Duration.minutes(15) */
  readonly rolloutTimeout?: Duration;
  /**
   * The largest plan one cluster's state may carry, in bytes (1,024–196,608; Step Functions allows
   * 256 KiB per state); a bigger plan is refused, with an alert, before anything restarts. @default 98,304
   */
  readonly maxPlanBytes?: number;
  /**
   * Within one call of the restart step, the longest pause between two looks at the rollouts in
   * flight (whole seconds, 1–30 s; not `PropagationWorkflow`'s pause between calls). @default Duration.seconds(5)
   */
  readonly rolloutWatchInterval?: Duration;
  /** For private cluster endpoints: the VPC the step function runs in. @default no VPC (public endpoints) */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default a security group CDK creates with all outbound allowed */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Propagation in AWS: the workflow (Step Functions), the function that runs its steps (describe
 * managed secrets, never read values; describe the configured clusters; write the ledger; retire
 * AWSPREVIOUS when asked), an EKS access entry per cluster mapping that function's role to the
 * Kubernetes group the RBAC manifest binds, and the starter function the EventBridge rules target.
 */
export class ClusterPropagation extends Construct {
  /** The starter: the target for "a new AWSCURRENT version" events. */
  readonly propagationFunction: OrchestratorFunction;
  readonly stepFunction: OrchestratorFunction;
  readonly workflow: PropagationWorkflow;
  /** The step function's role, the one mapped into the clusters. */
  readonly role: iam.Role;
  readonly starterRole: iam.Role;
  readonly accessEntries: readonly eks.CfnAccessEntry[];
  private readonly secretArns: string[];

  constructor(scope: Construct, id: string, props: ClusterPropagationProps) {
    super(scope, id);
    if (props.clusterNames.length === 0)
      throw new Error(`ClusterPropagation ${this.node.path}: name at least one cluster`);
    const duplicates = duplicateClusterNames(props.clusterNames);
    if (duplicates.length > 0) {
      throw new Error(
        `ClusterPropagation ${this.node.path}: cluster names listed twice: ${duplicates.join(', ')}`,
      );
    }
    this.secretArns = props.managedPrefixes.map((prefix) => managedSecretArnPattern(this, prefix));

    this.stepFunction = propagationStepsFunction(this, props, STEP_TIMEOUT);
    this.role = this.stepFunction.role;
    this.workflow = new PropagationWorkflow(this, 'Workflow', {
      stepFunction: this.stepFunction,
      stepTimeout: STEP_TIMEOUT,
      alertTopic: props.alertTopic,
      revokeFunction: props.revokeFunction,
      rollBackFunctions: props.rollBackFunctions,
      logRetention: props.logRetention,
    });
    props.alertTopic.grantPublish(this.workflow.stateMachine);
    this.alarmOnFailedExecutions(props.alertTopic);
    this.propagationFunction = propagationStarterFunction(this, props, this.workflow.stateMachine);
    this.starterRole = this.propagationFunction.role;

    this.allowAssumingClusterRoles(props.clusterNames);
    // A cluster reached through a role of its own has its access entry in its account, for that role.
    this.accessEntries = props.clusterNames.flatMap((clusterName) =>
      typeof clusterName === 'string'
        ? [
            new eks.CfnAccessEntry(this, `AccessEntry[${clusterName}]`, {
              clusterName,
              principalArn: this.role.roleArn,
              kubernetesGroups: [KUBERNETES_GROUP],
              type: 'STANDARD',
            }),
          ]
        : [],
    );
    this.acknowledgeWildcards(props);
  }

  /** sts:AssumeRole on exactly the roles the configured clusters name, and no other. */
  private allowAssumingClusterRoles(clusters: readonly ClusterTarget[]): void {
    const roleArns = [...new Set(Object.values(clusterAccessByName(clusters)).map((a) => a.roleArn))];
    if (roleArns.length === 0) return;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeClusterAccessRoles',
        actions: ['sts:AssumeRole'],
        resources: roleArns,
      }),
    );
  }

  /** The workflow alerts from its own Catch path; this catches what that path cannot (a timed-out
   * or aborted execution, or a failure of the alert itself). */
  private alarmOnFailedExecutions(alertTopic: sns.ITopic): void {
    const fiveMinutes = { period: Duration.minutes(5) };
    new cloudwatch.Alarm(this, 'WorkflowExecutionsFailed', {
      alarmDescription:
        'Secret rotation orchestrator: propagation workflow executions failed, timed out or aborted',
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: this.workflow.stateMachine.metricFailed(fiveMinutes),
          timedOut: this.workflow.stateMachine.metricTimedOut(fiveMinutes),
          aborted: this.workflow.stateMachine.metricAborted(fiveMinutes),
        },
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new cloudwatchActions.SnsAction(alertTopic));
  }

  /** The workflow a propagation is an execution of (the sweep's reconciler starts them too). */
  get stateMachineArn(): string {
    return this.workflow.stateMachine.stateMachineArn;
  }

  /**
   * Lets a principal start propagations the way the starter does (the sweep's reconciler):
   * describe managed secrets, read the ledger, start executions of this workflow.
   */
  grantStartPropagation(grantee: iam.IGrantable): void {
    this.workflow.stateMachine.grantStartExecution(grantee);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeManagedSecretsToStartPropagation',
        actions: ['secretsmanager:DescribeSecret'],
        resources: this.secretArns,
      }),
    );
  }

  private acknowledgeWildcards(props: ClusterPropagationProps): void {
    // Only present when the alert topic is encrypted (RotationAlerts' is), from grantPublish.
    Validations.of(this.workflow.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on that one key (what topic.grantPublish grants); the resource is the key, not "*".',
    });
    if (props.vpc) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Lambda creates and deletes its VPC network interfaces; these EC2 actions take no resource-level scoping.',
      });
    }
  }
}
