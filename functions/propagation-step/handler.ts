/**
 * The propagation workflow's steps (claim, plan, resync, check-sync, restart, check-rollout,
 * finish-cluster, record, record-failure, retire-previous), one short invocation per Task state.
 * Wiring only; the logic is in shared/workflow/.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { eksClusterConnector } from '../../shared/kubernetes/eks-cluster';
import { EksTokenCache } from '../../shared/kubernetes/eks-token';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { createLogger, createMetrics } from '../../shared/observability';
import { runWorkflowStep } from '../../shared/workflow/run-workflow-step';
import { loadWorkflowConfig } from '../../shared/workflow/workflow-config';

const logger = createLogger();
const metrics = createMetrics();
const config = loadWorkflowConfig(process.env);
const eks = new EKSClient({});
const tokens = new EksTokenCache(process.env.AWS_REGION ?? '', eks.config.credentials);
const connect = eksClusterConnector(eks, (name) => tokens.tokenFor(name));

const deps = {
  ...config,
  secrets: new SecretsManagerAdapter(new SecretsManagerClient({})),
  ledger: new DynamoDbLedger(new DynamoDBClient({}), config.ledgerTableName),
  // The connector caches the endpoint and renews the token; an adapter per invocation is cheap.
  clusterFor: async (name: string) => new KubernetesAdapter(await connect(name)),
  logger,
  metrics,
  now: () => new Date(),
};

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event: unknown) => runWorkflowStep(event, deps));
