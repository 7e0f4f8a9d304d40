import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ClusterPropagation } from './cluster-propagation';
import type { DeploymentConfig } from './deployment-config';
import { FailureAlarms } from './failure-alarms';
import { RotationAlerts } from './rotation-alerts';
import { RotationEvents } from './rotation-events';
import { RotationLedger } from './rotation-ledger';
import { RotationNotifications } from './rotation-notifications';
import { RotationRequests } from './rotation-requests';
import { RotationSweep, SWEEP_SCHEDULE_GROUP } from './rotation-sweep';
import {
  type DatabaseRotationProps,
  SecretRotationOrchestrator,
  type SecretRotationOrchestratorProps,
} from './secret-rotation-orchestrator';

export interface OrchestratorStackProps extends StackProps {
  /** The parsed `orchestrator` context (see `parseDeploymentConfig`). */
  readonly config: DeploymentConfig;
}

/**
 * One stack holding the whole orchestrator, built from the deployment configuration: rotation,
 * the ledger, on-request (emergency) rotation, alerts, the scheduled sweep and, when clusters are
 * configured, the propagation workflow and the EventBridge rules that start it; every function and
 * dead-letter queue alarms to the alert topic.
 */
export class OrchestratorStack extends Stack {
  readonly orchestrator: SecretRotationOrchestrator;
  readonly ledger: RotationLedger;
  readonly requests: RotationRequests;
  readonly propagation: ClusterPropagation | undefined;
  readonly sweep: RotationSweep;
  readonly events: RotationEvents | undefined;
  readonly notifications: RotationNotifications | undefined;
  readonly alerts: RotationAlerts;
  readonly failureAlarms: FailureAlarms;

  constructor(scope: Construct, id: string, props: OrchestratorStackProps) {
    super(scope, id, props);
    const { config } = props;
    const managedPrefixes = [...config.managedPrefixes];
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    this.orchestrator = new SecretRotationOrchestrator(
      this,
      'Orchestrator',
      orchestratorPropsFrom(config, this),
    );
    this.ledger = new RotationLedger(this, 'Ledger');
    this.alerts = new RotationAlerts(this, 'Alerts', {
      managedPrefixes,
      freshnessObjective: config.compliance
        ? Duration.minutes(config.compliance.freshnessObjectiveMinutes)
        : undefined,
    });
    this.requests = new RotationRequests(this, 'Requests', {
      managedPrefixes,
      rotationFunction: this.orchestrator.rotationFunction,
      databaseRotationFunction: this.orchestrator.databaseRotationFunction,
      ledger: this.ledger,
      emergencyPrincipals: [...config.emergencyPrincipals],
      requestPrincipals: [...config.requestPrincipals],
      emergencyCooldown: Duration.minutes(config.emergencyCooldownMinutes),
      logRetention,
    });
    const propagation = config.propagation;
    this.propagation = propagation
      ? new ClusterPropagation(this, 'Propagation', {
          managedPrefixes,
          clusterNames: [...propagation.clusterNames],
          restartConcurrency: propagation.restartConcurrency,
          emergencyRestartConcurrency: propagation.emergencyRestartConcurrency,
          restartPercent: propagation.restartPercent,
          canaryWorkloads: propagation.canaryWorkloads,
          requireOptIn: propagation.requireOptIn,
          ledger: this.ledger,
          alertTopic: this.alerts.topic,
          revokeFunction: this.orchestrator.databaseRotationFunction,
          rollBackFunctions: {
            RollBack: this.orchestrator.rotationFunction,
            ...(this.orchestrator.databaseRotationFunction && {
              RollBackDatabase: this.orchestrator.databaseRotationFunction,
            }),
          },
          autoRollback: propagation.autoRollback,
          restartWindows: propagation.restartWindows,
          logRetention,
        })
      : undefined;
    this.sweep = new RotationSweep(this, 'Sweep', {
      managedPrefixes,
      rotationFunction: this.orchestrator.rotationFunction,
      databaseRotationFunction: this.orchestrator.databaseRotationFunction,
      logRetention,
      rotationRules: config.rotationRules,
      stackScheduledSecrets: config.rotationSchedules.map((schedule) => schedule.secretName),
      // Always: the sweep records the rotations it starts. With propagation, it reconciles too.
      ledger: this.ledger,
      propagationStarter: this.propagation,
    });
    this.events = this.propagation
      ? new RotationEvents(this, 'Events', {
          managedPrefixes,
          propagationFunction: this.propagation.propagationFunction,
        })
      : undefined;
    this.notifications =
      this.propagation && config.notifications
        ? new RotationNotifications(this, 'Notifications', {
            managedPrefixes,
            secretPrefix: config.notifications.secretPrefix,
            defaultRoute: config.notifications.defaultRoute,
            kmsKeyArns: config.notifications.kmsKeyArns,
            stateMachine: this.propagation.workflow.stateMachine,
            ledger: this.ledger,
            logRetention,
          })
        : undefined;
    this.failureAlarms = new FailureAlarms(this, 'Failures', {
      topic: this.alerts.topic,
      functions: {
        RotateSecret: this.orchestrator.rotationFunction,
        ...(this.orchestrator.databaseRotationFunction && {
          RotateDatabaseSecret: this.orchestrator.databaseRotationFunction,
        }),
        RotationRequest: this.requests.requestFunction,
        ...(this.requests.emergencyFunction && { EmergencyRequest: this.requests.emergencyFunction }),
        Sweep: this.sweep.sweepFunction,
        ...(this.propagation && {
          PropagateSecret: this.propagation.propagationFunction,
          PropagationStep: this.propagation.stepFunction,
        }),
        ...(this.notifications && { Notify: this.notifications.notifyFunction }),
      },
      deadLetterQueues: {
        RequestsDeadLetters: this.requests.deadLetterQueue,
        ...(this.events && { EventsDeadLetters: this.events.deadLetterQueue }),
        ...(this.notifications && { NotificationsDeadLetters: this.notifications.deadLetterQueue }),
      },
      rules: {
        RotationFailedAlert: { rule: this.alerts.node.findChild('RotationFailed') as events.IRule },
        RotationRequested: { rule: this.requests.rule, eventBusName: this.requests.eventBus.eventBusName },
        ...Object.fromEntries(
          (this.events?.rules ?? []).map((rule) => [`Propagate${rule.node.id}`, { rule }] as const),
        ),
        ...(this.notifications && { NotifyOnExecutionEnd: { rule: this.notifications.rule } }),
      },
      scheduleGroups: { Sweep: SWEEP_SCHEDULE_GROUP },
    });
  }
}

/**
 * Maps the deployment configuration (plain JSON numbers) to the construct's props (Durations,
 * RetentionDays). Values the configuration leaves out stay undefined, so the construct's defaults apply.
 */
export function orchestratorPropsFrom(
  config: DeploymentConfig,
  scope?: Construct,
): SecretRotationOrchestratorProps {
  return {
    ...(config.databaseRotation && {
      databaseRotation: databaseRotationFrom(config.databaseRotation, scope),
    }),
    managedPrefixes: [...config.managedPrefixes],
    defaultPasswordPolicy: config.defaultPasswordPolicy,
    kmsKeyArns: [...config.kmsKeyArns],
    // The schema admits only the values of logs.RetentionDays.
    logRetention: config.logRetentionDays as logs.RetentionDays,
    rotationSchedules: config.rotationSchedules.map((schedule) => ({
      secretName: schedule.secretName,
      automaticallyAfter: optional(schedule.automaticallyAfterDays, Duration.days),
      scheduleExpression: schedule.scheduleExpression,
      window: optional(schedule.windowHours, Duration.hours),
      rotateImmediately: schedule.rotateImmediately,
      rotationFunction: schedule.rotationFunction,
    })),
  };
}

/**
 * The database rotation props from their configuration. The VPC, its subnets and security groups
 * are imported by id (no lookup: synth needs no AWS credentials), so they need a scope.
 */
function databaseRotationFrom(
  config: NonNullable<DeploymentConfig['databaseRotation']>,
  scope: Construct | undefined,
): DatabaseRotationProps {
  const base = {
    masterSecretArns: [...config.masterSecretArns],
    tlsByDefault: config.tlsByDefault,
    rdsCertificates: config.rdsCertificates,
  };
  const vpc = config.vpc;
  if (vpc === undefined) return base;
  if (scope === undefined) throw new Error('databaseRotation.vpc needs a scope to import the VPC into');
  return {
    ...base,
    vpc: ec2.Vpc.fromVpcAttributes(scope, 'DatabaseVpc', { vpcId: vpc.vpcId, availabilityZones: [] }),
    vpcSubnets: {
      subnets: vpc.subnetIds.map((id) => ec2.Subnet.fromSubnetId(scope, `DatabaseSubnet[${id}]`, id)),
    },
    securityGroups: vpc.securityGroupIds.map((id) =>
      ec2.SecurityGroup.fromSecurityGroupId(scope, `DatabaseSecurityGroup[${id}]`, id),
    ),
  };
}

function optional(value: number | undefined, toDuration: (amount: number) => Duration): Duration | undefined {
  return value === undefined ? undefined : toDuration(value);
}
