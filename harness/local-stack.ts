import { App } from 'aws-cdk-lib';
import { parseDeploymentConfig } from '../infra/lib/deployment-config';
import { OrchestratorStack } from '../infra/lib/orchestrator-stack';
import { type BundledFunction, bundledFunctions } from './bundled-function';

/** The account and region local stacks are synthesized for (moto's defaults). */
export const LOCAL_ENV = { account: '123456789012', region: 'us-east-1' } as const;

export interface LocalStack {
  readonly app: App;
  readonly stack: OrchestratorStack;
  readonly template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  /** Bundled functions by their construct: `rotate`, `rotateDatabase`, `sweep`, `request`, `starter`, `step`, `notify`. */
  readonly bundles: Record<
    'rotate' | 'rotateDatabase' | 'sweep' | 'request' | 'emergency' | 'starter' | 'step' | 'notify',
    BundledFunction | undefined
  >;
}

/**
 * Synthesizes the whole orchestrator stack from a deployment configuration (the `orchestrator`
 * context of cdk.json), bundling every function as `cdk deploy` would, for local runs of the real
 * artifacts and of the real state machine definition.
 */
export function synthLocalStack(config: unknown, options: { readonly bundle?: boolean } = {}): LocalStack {
  const app = new App({ context: options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {} });
  const stack = new OrchestratorStack(app, 'Local', {
    env: LOCAL_ENV,
    config: parseDeploymentConfig(config),
  });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template;
  const functions = options.bundle === false ? [] : bundledFunctions(app, stack.stackName);
  const byPath = (fragment: string) => {
    const fn = functions.find((f) => f.logicalId.startsWith(fragment));
    return fn;
  };
  return {
    app,
    stack,
    template,
    bundles: {
      rotate: byPath('OrchestratorRotateSecret'),
      rotateDatabase: byPath('OrchestratorRotateDatabaseSecret'),
      sweep: byPath('Sweep'),
      request: byPath('RequestsRotationRequest'),
      emergency: byPath('RequestsEmergencyRequest'),
      starter: byPath('PropagationPropagateSecret'),
      step: byPath('PropagationPropagationStep'),
      notify: byPath('NotificationsNotify'),
    },
  };
}

/**
 * Stand-ins for the environment values CloudFormation resolves at deploy time, for runs that stop
 * before using them (imports, refusals of bad input). Real local runs pass the real names.
 */
export const DEPLOY_TIME_PLACEHOLDERS: Readonly<Record<string, string>> = {
  ROTATOR_LEDGER_TABLE: 'ledger',
  ROTATOR_STATE_MACHINE_ARN: `arn:aws:states:${LOCAL_ENV.region}:${LOCAL_ENV.account}:stateMachine:propagation`,
};
