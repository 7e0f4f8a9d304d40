import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  SecretRotationOrchestrator,
  type SecretRotationOrchestratorProps,
} from '../../infra/lib/secret-rotation-orchestrator';

export const TEST_ENV = { account: '123456789012', region: 'us-east-1' } as const;

export const BASE_PROPS: SecretRotationOrchestratorProps = {
  managedPrefixes: ['prod/app-team/', 'staging/app-team/'],
};

/**
 * A stack holding only the orchestrator construct, in a concrete account and region so ARNs are
 * literal. Bundling is skipped (no esbuild run) unless `bundle` is set.
 */
export function synthOrchestrator(props: Partial<SecretRotationOrchestratorProps> = {}, bundle = false) {
  const app = new App({ context: bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: TEST_ENV });
  const orchestrator = new SecretRotationOrchestrator(stack, 'Orchestrator', { ...BASE_PROPS, ...props });
  return { app, stack, orchestrator, template: Template.fromStack(stack) };
}
