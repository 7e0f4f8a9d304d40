/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Configuration comes from cdk.json (context key
 * `orchestrator`). cdk-nag's AwsSolutions checks run as a validation plugin, so an unacknowledged
 * finding fails synth.
 */
import { App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeploymentConfig } from '../lib/deployment-config';
import { OrchestratorStack } from '../lib/orchestrator-stack';

/** The CLI's account and region when it found them; otherwise environment-agnostic. */
function environmentFromCli(): Environment | undefined {
  const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
  if (account === undefined && region === undefined) return undefined;
  return { account, region };
}

const app = new App();
const config = parseDeploymentConfig(app.node.tryGetContext('orchestrator'));
new OrchestratorStack(app, 'SecretRotationOrchestrator', {
  config,
  env: environmentFromCli(),
  description: 'Secret rotation orchestrator: rotation function and schedules for managed secret prefixes',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
