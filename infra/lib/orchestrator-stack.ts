import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type DeploymentConfig, orchestratorProps } from './deployment-config';
import { SecretRotationOrchestrator } from './secret-rotation-orchestrator';

export interface OrchestratorStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/** One stack holding the orchestrator construct, built from the deployment configuration. */
export class OrchestratorStack extends Stack {
  readonly orchestrator: SecretRotationOrchestrator;

  constructor(scope: Construct, id: string, props: OrchestratorStackProps) {
    super(scope, id, props);
    this.orchestrator = new SecretRotationOrchestrator(this, 'Orchestrator', orchestratorProps(props.config));
  }
}
