import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ClusterPropagation } from './cluster-propagation';
import type { DeploymentConfig } from './deployment-config';
import { RotationAlerts } from './rotation-alerts';
import { RotationEvents } from './rotation-events';
import { RotationSweep } from './rotation-sweep';
import {
  SecretRotationOrchestrator,
  type SecretRotationOrchestratorProps,
} from './secret-rotation-orchestrator';

export interface OrchestratorStackProps extends StackProps {
  /** The parsed `orchestrator` context (see `parseDeploymentConfig`). */
  readonly config: DeploymentConfig;
}

/** One stack holding the orchestrator construct, built from the deployment configuration. */
export class OrchestratorStack extends Stack {
  readonly orchestrator: SecretRotationOrchestrator;
  readonly propagation: ClusterPropagation | undefined;
  readonly sweep: RotationSweep;
  readonly events: RotationEvents | undefined;
  readonly alerts: RotationAlerts;

  constructor(scope: Construct, id: string, props: OrchestratorStackProps) {
    super(scope, id, props);
    this.orchestrator = new SecretRotationOrchestrator(
      this,
      'Orchestrator',
      orchestratorPropsFrom(props.config),
    );
    this.alerts = new RotationAlerts(this, 'Alerts', { managedPrefixes: [...props.config.managedPrefixes] });
    this.sweep = new RotationSweep(this, 'Sweep', {
      managedPrefixes: [...props.config.managedPrefixes],
      rotationFunction: this.orchestrator.rotationFunction,
    });
    const propagation = props.config.propagation;
    this.propagation = propagation
      ? new ClusterPropagation(this, 'Propagation', {
          managedPrefixes: [...props.config.managedPrefixes],
          clusterNames: [...propagation.clusterNames],
          restartConcurrency: propagation.restartConcurrency,
          requireOptIn: propagation.requireOptIn,
        })
      : undefined;
    this.events = this.propagation
      ? new RotationEvents(this, 'Events', {
          managedPrefixes: [...props.config.managedPrefixes],
          propagationFunction: this.propagation.propagationFunction,
        })
      : undefined;
  }
}

/**
 * Maps the deployment configuration (plain JSON numbers) to the construct's props (Durations,
 * RetentionDays). Values the configuration leaves out stay undefined, so the construct's defaults apply.
 */
export function orchestratorPropsFrom(config: DeploymentConfig): SecretRotationOrchestratorProps {
  return {
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
    })),
  };
}

function optional(value: number | undefined, toDuration: (amount: number) => Duration): Duration | undefined {
  return value === undefined ? undefined : toDuration(value);
}
