/** The CDK app: `npx cdk synth` / `npx cdk deploy`. Configuration comes from cdk.json (`orchestrator`). */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeploymentConfig } from '../lib/deployment-config';
import { OrchestratorStack } from '../lib/orchestrator-stack';

const app = new App();
const config = parseDeploymentConfig(app.node.tryGetContext('orchestrator'));
new OrchestratorStack(app, 'SecretRotationOrchestrator', {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Secret rotation orchestrator: rotation function and schedules for managed secret prefixes',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
